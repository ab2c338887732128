// Fuzz target http_session: arbitrary bytes from a client, through the real
// request path (shell::Worker/Session) in the simulator, with a fake backend
// behind it. The gateway must never crash or let an exception escape (the
// simulator turns that into a failed run), must answer with well-formed HTTP
// responses only, and must end every request it read exactly once.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "fake_backends/fake_server.h"
#include "proxy/core/log/log.h"
#include "proxy/shell/testing/sim_gateway.h"
#include "proxy/shell/worker.h"
#include "sim/sim_env.h"
#include "sim/world.h"

namespace {

using namespace llmproxy;
using namespace std::chrono_literals;

void check(bool ok) {
  if (!ok) std::abort();
}

env::Task<void> client(sim::SimEnv& env, std::string bytes, std::string& got, bool& done) {
  env::error_code ec;
  auto s = co_await env.connect("gateway", 8080, env.now() + 5s, ec);
  if (s) {
    co_await s->write(boost::asio::buffer(bytes), env.now() + 30s, ec);
    char buf[4096];
    for (;;) {
      const std::size_t n = co_await s->read_some(boost::asio::buffer(buf), env.now() + 60s, ec);
      got.append(buf, n);
      if (ec) break;
    }
    s->close();
  }
  done = true;
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
  sim::SimEnv backend_env(world, "backend");
  fake::FakeConfig fc;
  fc.profile.ttft = 1ms;
  fc.profile.itl = 1ms;
  fc.profile.output_tokens = 3;
  fc.log = [](std::string_view) {};
  fake::FakeServer fake(backend_env, fc);
  env::error_code ec;
  auto backend_acceptor = backend_env.listen("", 8000, false, ec);
  world.spawn(fake.run(*backend_acceptor));

  shell::ShellConfig cfg;
  cfg.max_header_bytes = 4096;
  cfg.max_body_size = 64 * 1024;
  cfg.read_timeout = 5s;
  cfg.idle_timeout = 10s;
  shell::BackendTarget b = testing::sim_backend();
  b.first_byte_timeout = 5s;
  b.stream_idle_timeout = 5s;
  cfg.backends.push_back(b);
  testing::SimGateway gateway(world, cfg);
  shell::Worker& worker = gateway.worker();
  std::set<std::string> ended;
  std::size_t records = 0;
  worker.observe([&](const shell::RequestRecord& r) {
    ++records;
    ended.insert(r.request_id);
  });

  sim::SimEnv client_env(world, "client");
  std::string got;
  bool done = false;
  world.spawn(client(client_env, std::string(reinterpret_cast<const char*>(data), size), got, done));
  world.run_for(120s);
  check(done);
  check(worker.in_flight() == 0);
  check(ended.size() == records);  // no request id ended twice (ids are unique per request)
  check(got.empty() || got.rfind("HTTP/1.1 ", 0) == 0);

  gateway.stop();
  fake.stop();
  world.run_for(1s);
  return 0;
}
