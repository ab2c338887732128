// fake-openai: the fake OpenAI-compatible backend on real loopback sockets,
// for the quickstart, end-to-end tests and benchmarks. Single-threaded.
//
//   fake-openai --listen 127.0.0.1:9001 [--ttft 50ms] [--itl 10ms] [--tokens 16]
//               [--max-concurrency N] [--model NAME]... [--fault SPEC]... [--seed S]
//
// Prints "fake-openai listening on HOST:PORT" once ready (port 0 picks a free
// port) and exits cleanly on SIGINT/SIGTERM.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <charconv>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "fake_backends/fake_server.h"
#include "proxy/env/real/real_env.h"

namespace {

using llmproxy::fake::FakeConfig;

constexpr std::string_view kUsage =
    "usage: fake-openai --listen HOST:PORT [options]\n"
    "  --listen HOST:PORT      address to listen on (port 0 = any free port)\n"
    "  --ttft DURATION         time to first token (default 50ms)\n"
    "  --itl DURATION          inter-token delay (default 10ms)\n"
    "  --tokens N              answer length in tokens (default 16)\n"
    "  --max-concurrency N     requests generating at once, others queue FIFO (0 = unlimited)\n"
    "  --model NAME            model served (repeatable; default fake-model; * = any)\n"
    "  --fault SPEC            fault or timeline window, e.g. status=503 or from=5s,to=9s,down\n"
    "                          (repeatable; see fake_backends/README.md)\n"
    "  --no-fault-header       ignore the per-request x-fake-fault header\n"
    "  --idle-timeout DURATION close idle keep-alive connections (default: never)\n"
    "  --embedding-dim N       embedding vector size (default 8)\n"
    "  --name NAME             sent as x-fake-backend (default fake)\n"
    "  --seed S                random seed for p= faults (default: from OS entropy)\n";

[[noreturn]] void fail(const std::string& message) {
  std::cerr << "fake-openai: " << message << "\n" << kUsage;
  std::exit(2);
}

template <class Int>
Int parse_number(std::string_view flag, std::string_view text) {
  Int v{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size())
    fail(std::string(flag) + ": not a number: '" + std::string(text) + "'");
  return v;
}

llmproxy::Duration parse_dur(std::string_view flag, std::string_view text) {
  auto d = llmproxy::fake::parse_duration(text);
  if (!d) fail(std::string(flag) + ": not a duration (e.g. 50ms, 2s): '" + std::string(text) + "'");
  return *d;
}

}  // namespace

int main(int argc, char** argv) {
  FakeConfig config;
  std::string host;
  std::uint16_t port = 0;
  bool have_listen = false;
  bool models_given = false;
  std::uint64_t seed = 0;
  bool have_seed = false;

  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (i + 1 >= argc && flag != "--no-fault-header") fail(std::string(flag) + " needs a value");
    if (flag == "--no-fault-header") {
      config.allow_fault_header = false;
      continue;
    }
    const std::string_view value = argv[++i];
    if (flag == "--listen") {
      const auto colon = value.rfind(':');
      if (colon == std::string_view::npos) fail("--listen wants HOST:PORT");
      host = std::string(value.substr(0, colon));
      if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
      port = parse_number<std::uint16_t>(flag, value.substr(colon + 1));
      have_listen = true;
    } else if (flag == "--ttft") {
      config.profile.ttft = parse_dur(flag, value);
    } else if (flag == "--itl") {
      config.profile.itl = parse_dur(flag, value);
    } else if (flag == "--idle-timeout") {
      config.profile.idle_timeout = parse_dur(flag, value);
    } else if (flag == "--tokens") {
      config.profile.output_tokens = parse_number<std::uint32_t>(flag, value);
    } else if (flag == "--max-concurrency") {
      config.profile.max_concurrency = parse_number<std::uint32_t>(flag, value);
    } else if (flag == "--embedding-dim") {
      config.profile.embedding_dim = parse_number<std::uint32_t>(flag, value);
    } else if (flag == "--model") {
      if (!models_given) config.profile.models.clear();
      models_given = true;
      config.profile.models.emplace_back(value);
    } else if (flag == "--fault") {
      llmproxy::fake::FaultWindow w;
      std::string error;
      if (!llmproxy::fake::parse_fault_window(value, w, error)) fail("--fault: " + error);
      config.faults.push_back(std::move(w));
    } else if (flag == "--name") {
      config.name = std::string(value);
    } else if (flag == "--seed") {
      seed = parse_number<std::uint64_t>(flag, value);
      have_seed = true;
    } else {
      fail("unknown option " + std::string(flag));
    }
  }
  if (!have_listen) fail("--listen is required");
  if (!have_seed) seed = llmproxy::env::RealEnv::entropy_seed();

  boost::asio::io_context ioc(1);
  llmproxy::env::RealEnv env(ioc, seed);
  boost::system::error_code ec;
  auto acceptor = env.listen(host, port, /*reuse_port=*/false, ec);
  if (ec) {
    std::cerr << "fake-openai: cannot listen on " << host << ":" << port << ": " << ec.message()
              << "\n";
    return 1;
  }
  llmproxy::fake::FakeServer server(env, std::move(config));

  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& error, int) {
    if (!error) server.stop();
  });
  boost::asio::co_spawn(ioc, server.run(*acceptor), [&](std::exception_ptr) {
    signals.cancel();  // run() returned: let the loop end
  });

  std::cerr << "fake-openai: seed " << seed << "\n";
  std::cout << "fake-openai listening on " << (host.empty() ? "0.0.0.0" : host) << ":"
            << acceptor->port() << std::endl;  // flushed: tests wait for this line
  ioc.run();
  return 0;
}
