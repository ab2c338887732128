#include "bench/request_path/test_bed.h"

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "bench/request_path/relay.h"
#include "proxy/core/config/load.h"
#include "proxy/server/gateway.h"
#include "proxy/shell/testing/http_test_client.h"
#include "sim/network.h"

namespace llmproxy::bench {
namespace {

constexpr std::uint16_t kBackendPort = 8000;
constexpr std::uint16_t kFrontPort = 8080;

sim::WorldOptions quiet_world() {
  sim::WorldOptions o;
  o.seed = 1;
  // Only the hash and the lifecycle records: a benchmark runs millions of
  // events and must not grow a log.
  o.keep_log_records = false;
  return o;
}

env::Task<void> connect_client(sim::SimEnv& env, const std::string& host, std::uint16_t port,
                               std::unique_ptr<env::Stream>& out, std::size_t& done) {
  env::error_code ec;
  out = co_await env.connect(host, port, env.now() + std::chrono::seconds(10), ec);
  ++done;
}

// One client's share of a batch. A coroutine function, not a lambda, so its
// arguments live in the frame.
env::Task<void> client_batch(sim::SimEnv& env, env::Stream& stream, std::string& carry,
                             const std::string& request, std::size_t n, BatchResult& out,
                             std::size_t& done) {
  for (std::size_t i = 0; i < n; ++i) {
    testing::ClientResponse r =
        co_await testing::exchange(env, stream, carry, request, kNoDeadline);
    out.body_bytes += r.body.size();
    if (r.status == 200 && r.complete) {
      ++out.ok;
    } else {
      out.failed += n - i;  // the connection is no longer usable
      break;
    }
  }
  ++done;
}

// The gateway's config: the one fake backend, everything else at its
// defaults, as a user's minimal file. 256 idle upstream connections, so the
// pool keeps one per client whatever the batch.
config::Config gateway_config() {
  const std::string yaml = "backends:\n  - name: backend\n    url: http://backend:" + std::to_string(kBackendPort) +
                           "\n    max_idle_conns: 256\n";
  const auto loaded = config::load_config_string(yaml, "bench.yaml", "", [](std::string_view) {
    return std::optional<std::string>();
  });
  if (!loaded.ok()) throw std::runtime_error("the bench's gateway config does not load");
  return *loaded.config;
}

}  // namespace

const char* to_string(Path path) {
  switch (path) {
    case Path::direct: return "direct";
    case Path::relay: return "relay";
    case Path::gateway: return "gateway";
  }
  return "?";
}

std::string chat_request(bool stream) {
  std::string body = R"({"model":"fake-model")";
  if (stream) body += R"(,"stream":true)";
  body += R"(,"messages":[{"role":"user","content":"hello benchmark"}]})";
  return testing::json_request("POST", "/v1/chat/completions", body);
}

TestBed::TestBed(Path path, const fake::Profile& profile, std::size_t clients)
    : world_(quiet_world()), backend_env_(world_, "backend"), front_env_(world_, "front") {
  world_.log().set_data_events(false);
  world_.network().set_default_latency(std::chrono::microseconds(50));

  fake::FakeConfig fc;
  fc.name = "backend";
  fc.profile = profile;
  fc.log = [](std::string_view) {};
  fake_ = std::make_unique<fake::FakeServer>(backend_env_, fc);
  env::error_code ec;
  backend_acceptor_ = backend_env_.listen("", kBackendPort, false, ec);
  if (ec) throw std::runtime_error("backend listen: " + ec.message());
  world_.spawn(fake_->run(*backend_acceptor_));

  target_host_ = "backend";
  target_port_ = kBackendPort;
  if (path != Path::direct) {
    front_acceptor_ = front_env_.listen("", kFrontPort, false, ec);
    if (ec) throw std::runtime_error("front listen: " + ec.message());
    target_host_ = "front";
    target_port_ = kFrontPort;
  }
  if (path == Path::relay) world_.spawn(run_relay(front_env_, *front_acceptor_, "backend", kBackendPort));
  if (path == Path::gateway) start_gateway();

  clients_.resize(clients);
  std::size_t connected = 0;
  for (std::size_t i = 0; i < clients; ++i) {
    clients_[i].env = std::make_unique<sim::SimEnv>(world_, "client-" + std::to_string(i));
    world_.spawn(connect_client(*clients_[i].env, target_host_, target_port_, clients_[i].stream,
                                connected));
  }
  run_until_count(connected, clients);
  for (const Client& c : clients_)
    if (!c.stream) throw std::runtime_error("a client could not connect");
}

// Built as `serve` builds each worker (proxy/app/serve.cpp), through the
// composition root, so the bench runs the modules the config enables, wired
// once in gateway.cpp.
void TestBed::start_gateway() {
  std::string error;
  server::BuildOptions options;
  options.simulated = true;
  const auto gateway = server::Gateway::build(gateway_config(), error, options);
  if (!gateway) throw std::runtime_error("gateway: " + error);
  auto worker_options = gateway->worker_options(gateway->start_process(), front_env_, 0);
  worker_options.rethrow_session_failures = true;  // an escaped exception fails the run
  worker_ = std::make_unique<shell::Worker>(front_env_, gateway->shell_config(), std::move(worker_options));
  world_.spawn(worker_->serve(*front_acceptor_));
  worker_->start_background();
}

TestBed::~TestBed() {
  for (Client& c : clients_)
    if (c.stream) c.stream->close();
  world_.run_for(std::chrono::seconds(1));
  if (front_acceptor_) front_acceptor_->close();
  if (worker_) worker_->close_all_sessions();
  fake_->stop();
  world_.run_for(std::chrono::seconds(1));
}

void TestBed::run_until_count(const std::size_t& count, std::size_t target) {
  // Steps of 1 ms of virtual time: a batch takes tens of milliseconds, and
  // the check between steps costs nothing next to the work in them.
  for (int step = 0; count < target; ++step) {
    if (step == 60'000) throw std::runtime_error("batch did not finish within a virtual minute");
    world_.run_for(std::chrono::milliseconds(1));
  }
}

BatchResult TestBed::run_batch(const std::string& request, std::size_t per_client) {
  BatchResult result;
  std::size_t done = 0;
  for (Client& c : clients_)
    world_.spawn(client_batch(*c.env, *c.stream, c.carry, request, per_client, result, done));
  run_until_count(done, clients_.size());
  return result;
}

}  // namespace llmproxy::bench
