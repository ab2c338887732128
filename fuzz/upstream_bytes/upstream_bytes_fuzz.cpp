// Fuzz target upstream_bytes: arbitrary bytes from an upstream, through the
// real request path (shell::Worker: attempt, response parser, SSE relay,
// pool) in the simulator. The input is split at "\n--next--\n" into the
// answers the upstream writes, one per request it reads, in order over all
// its connections; an answer ending in "--close--" is followed by a close.
// Three clients send keep-alive requests (a JSON POST, a stream, a HEAD,
// a GET), two on the same connection. The gateway must not crash or let an
// exception escape (the simulator fails the run), must give each client a
// well-formed answer or close, must end every request exactly once, and
// must leave nothing in flight.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "proxy/core/log/log.h"
#include "proxy/shell/testing/http_test_client.h"
#include "proxy/shell/testing/sim_gateway.h"
#include "proxy/shell/worker.h"
#include "sim/sim_env.h"
#include "sim/world.h"

namespace {

using namespace llmproxy;
using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;

void check(bool ok) {
  if (!ok) std::abort();
}

std::vector<std::string> split_answers(std::string_view in) {
  std::vector<std::string> out;
  constexpr std::string_view kSep = "\n--next--\n";
  for (;;) {
    const auto at = in.find(kSep);
    out.emplace_back(in.substr(0, at));
    if (at == std::string_view::npos) break;
    in.remove_prefix(at + kSep.size());
  }
  return out;
}

struct Upstream {
  std::vector<std::string> answers;
  std::size_t next = 0;
  bool stopping = false;
};

env::Task<void> serve_conn(std::unique_ptr<env::Stream> s, Upstream& up) {
  std::string in;
  char buf[4096];
  while (!up.stopping) {
    bhttp::request_parser<bhttp::string_body> p;
    p.eager(true);
    while (!p.is_done()) {
      env::error_code ec;
      if (!in.empty()) {
        const std::size_t used = p.put(boost::asio::buffer(in.data(), in.size()), ec);
        in.erase(0, used);
        if (p.is_done()) break;
        if (ec && ec != bhttp::error::need_more) break;
        if (used > 0 && !in.empty()) continue;
      }
      const std::size_t n = co_await s->read_some(boost::asio::buffer(buf), kNoDeadline, ec);
      in.append(buf, n);
      if (ec) break;
    }
    if (!p.is_done()) break;
    std::string answer = up.next < up.answers.size() ? up.answers[up.next] : std::string();
    ++up.next;
    bool close_after = answer.ends_with("--close--");
    if (close_after) answer.resize(answer.size() - 9);
    if (up.next > up.answers.size()) close_after = true;  // nothing more to say
    env::error_code ec;
    co_await s->write(boost::asio::buffer(answer), kNoDeadline, ec);
    if (ec || close_after) break;
  }
  s->close();
}

env::Task<void> upstream_run(env::Env& env, env::Acceptor& acc, Upstream& up) {
  for (;;) {
    env::error_code ec;
    auto s = co_await acc.accept(ec);
    if (ec) co_return;
    boost::asio::co_spawn(env.executor(), serve_conn(std::move(s), up), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  }
}

env::Task<void> client(sim::SimEnv& env, std::vector<std::string> requests, int& answered,
                       int& done) {
  env::error_code ec;
  auto s = co_await env.connect("gateway", 8080, env.now() + 5s, ec);
  std::string carry;
  for (auto& r : requests) {
    if (!s) break;
    auto resp = co_await testing::exchange(env, *s, carry, r, env.now() + 120s);
    if (resp.status != 0) ++answered;
    check(resp.status == 0 || (resp.status >= 100 && resp.status < 600));
    if (!resp.complete || !resp.keep_alive) break;
  }
  if (s) s->close();
  ++done;
}

std::string post(std::string_view target, std::string_view body) {
  return "POST " + std::string(target) +
         " HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  log::LoggerOptions quiet;
  quiet.level = log::Level::error;
  log::configure(quiet);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sim::World world(1);
  Upstream up;
  up.answers = split_answers(std::string_view(reinterpret_cast<const char*>(data), size));
  sim::SimEnv backend_env(world, "backend");
  env::error_code ec;
  auto backend_acceptor = backend_env.listen("", 8000, false, ec);
  world.spawn(upstream_run(backend_env, *backend_acceptor, up));

  shell::ShellConfig cfg;
  cfg.read_timeout = 5s;
  cfg.idle_timeout = 10s;
  shell::BackendTarget b = testing::sim_backend();
  b.first_byte_timeout = 5s;
  b.stream_idle_timeout = 5s;
  cfg.backends.push_back(b);
  testing::SimGateway gateway(world, cfg);
  shell::Worker& worker = gateway.worker();
  std::size_t records = 0;
  worker.observe([&](const shell::RequestRecord&) { ++records; });

  const std::string chat = R"({"model":"m","messages":[{"role":"user","content":"hi"}]})";
  const std::string stream =
      R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]})";
  sim::SimEnv c1(world, "c1"), c2(world, "c2");
  int answered = 0, done = 0;
  world.spawn(client(c1,
                     {post("/v1/chat/completions", chat), post("/v1/chat/completions", stream),
                      "HEAD /v1/models HTTP/1.1\r\nHost: gw\r\n\r\n"},
                     answered, done));
  world.spawn(client(c2, {"GET /v1/models HTTP/1.1\r\nHost: gw\r\n\r\n", post("/v1/x", "{}")},
                     answered, done));
  world.run_for(300s);
  check(done == 2);
  check(worker.in_flight() == 0);
  check(records >= static_cast<std::size_t>(answered));

  up.stopping = true;
  backend_acceptor->close();
  gateway.stop();
  world.run_for(1s);
  return 0;
}
