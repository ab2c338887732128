#include "conformance/harness/gateway_sim.h"

#include <cstdio>

#include "fake_backends/fake_server.h"
#include "proxy/shell/worker.h"
#include "sim/network.h"
#include "sim/sim_env.h"
#include "sim/world.h"

namespace llmproxy::harness {
namespace {

constexpr std::uint16_t kGatewayPort = 8080;
constexpr std::uint16_t kBackendPort = 8000;

std::string request_body(const ClientRequest& r, std::size_t index) {
  std::string words;
  for (int i = 0; i < r.prompt_words; ++i) {
    if (i) words += ' ';
    words += "w" + std::to_string((index * 7 + static_cast<std::size_t>(i)) % 97);
  }
  std::string body = R"({"model":"fake-model")";
  if (r.stream) body += R"(,"stream":true)";
  if (r.ask_usage) body += R"(,"stream_options":{"include_usage":true})";
  if (r.max_tokens) body += R"(,"max_tokens":)" + std::to_string(r.max_tokens);
  if (r.path == "/v1/completions") {
    body += R"(,"prompt":")" + words + "\"}";
  } else if (r.path == "/v1/embeddings") {
    body += R"(,"input":")" + words + "\"}";
  } else {
    body += R"(,"messages":[{"role":"user","content":")" + words + "\"}]}";
  }
  return body;
}

// One client: waits for its start time, sends its request, reads the answer
// (or goes away as the scenario says). A coroutine function, not a lambda, so
// its state lives in the frame.
env::Task<void> run_client(sim::SimEnv& cenv, const ClientRequest& req, ClientResult& res,
                           std::size_t i, std::size_t& done) {
  env::error_code cec;
  co_await cenv.sleep_for(req.at, cec);
  res.start = cenv.now();
  auto s = co_await cenv.connect("gateway", kGatewayPort, cenv.now() + std::chrono::seconds(30),
                                 cec);
  if (!s) {
    res.end = cenv.now();
    ++done;
    co_return;
  }
  res.connected = true;
  std::string headers = "X-Request-Id: " + res.request_id + "\r\n";
  if (!req.fault.empty()) headers += "x-fake-fault: " + req.fault + "\r\n";
  const std::string body = request_body(req, i);
  std::function<bool(const testing::ClientResponse&)> stop;
  if (req.cancel_after_bytes) {
    const std::size_t limit = *req.cancel_after_bytes;
    stop = [&res, limit](const testing::ClientResponse& r) {
      if (r.body.size() < limit) return false;
      res.cancelled = true;
      return true;
    };
  }
  TimePoint deadline = kNoDeadline;
  if (req.cancel_after) deadline = cenv.now() + *req.cancel_after;
  res.response = co_await testing::exchange(
      cenv, *s, testing::json_request("POST", req.path, body, headers), deadline, stop);
  if (req.cancel_after && res.response.error == boost::asio::error::timed_out)
    res.cancelled = true;
  s->close();
  res.end = cenv.now();
  ++done;
}

}  // namespace

std::string request_id_for(std::size_t index) { return "req-" + std::to_string(index); }

SimOutcome run_gateway_sim(const Scenario& sc) {
  sim::World world(sc.seed);
  return run_gateway_sim_in(world, sc);
}

SimOutcome run_gateway_sim_in(sim::World& world, const Scenario& sc) {
  SimOutcome out;
  auto& net = world.network();
  net.set_default_latency(sc.latency);
  net.stream_options().random_read_split = sc.random_read_split;

  // Backends.
  std::vector<std::unique_ptr<sim::SimEnv>> backend_envs;
  std::vector<std::unique_ptr<fake::FakeServer>> fakes;
  std::vector<std::unique_ptr<env::Acceptor>> backend_acceptors;
  auto cfg = std::make_shared<shell::ShellConfig>(sc.gateway);
  cfg->backends.clear();
  for (int i = 0; i < sc.backends; ++i) {
    const std::string host = "backend-" + std::to_string(i);
    backend_envs.push_back(std::make_unique<sim::SimEnv>(world, host));
    fake::FakeConfig fc;
    fc.name = host;
    fc.profile = sc.profile;
    fc.log = [](std::string_view) {};
    fakes.push_back(std::make_unique<fake::FakeServer>(*backend_envs.back(), fc));
    env::error_code ec;
    backend_acceptors.push_back(backend_envs.back()->listen("", kBackendPort, false, ec));
    if (ec) throw std::runtime_error("backend listen: " + ec.message());
    world.spawn(fakes.back()->run(*backend_acceptors.back()));
    shell::BackendTarget b = sc.backend_template;
    b.name = host;
    b.host = host;
    b.port = kBackendPort;
    b.host_header = host + ":" + std::to_string(kBackendPort);
    cfg->backends.push_back(std::move(b));
  }

  // Gateway.
  sim::SimEnv gateway_env(world, "gateway");
  TapEnv tap(gateway_env);
  shell::Worker worker(tap, cfg);
  worker.on_request_end = [&](const shell::RequestRecord& r) { out.records.push_back(r); };
  env::error_code ec;
  auto gateway_acceptor = gateway_env.listen("", kGatewayPort, false, ec);
  if (ec) throw std::runtime_error("gateway listen: " + ec.message());
  world.spawn(worker.serve(*gateway_acceptor));

  // Clients.
  out.clients.resize(sc.requests.size());
  std::vector<std::unique_ptr<sim::SimEnv>> client_envs;
  std::size_t done = 0;
  for (std::size_t i = 0; i < sc.requests.size(); ++i) {
    client_envs.push_back(
        std::make_unique<sim::SimEnv>(world, "client-" + std::to_string(i)));
    sim::SimEnv& cenv = *client_envs.back();
    const ClientRequest& req = sc.requests[i];
    ClientResult& res = out.clients[i];
    res.request_id = request_id_for(i);
    world.spawn(run_client(cenv, req, res, i, done));
  }

  world.run_until(world.now() + sc.horizon);
  out.all_clients_done = done == sc.requests.size();
  out.finished = world.now();
  // Let the gateway settle (cancelled upstreams close, pools fill), then
  // take the measurements before shutting anything down.
  world.run_for(std::chrono::seconds(1));
  out.pool_idle = 0;
  for (std::size_t b = 0; b < cfg->backends.size(); ++b) out.pool_idle += worker.pool().idle_count(b);
  out.gateway_sessions_at_end = worker.sessions();
  for (const auto& t : tap.taps()) out.upstream.push_back(*t);
  for (const auto& f : fakes) out.backend_stats.push_back(f->stats());

  gateway_acceptor->close();
  worker.close_all_sessions();
  for (auto& f : fakes) f->stop();
  world.run_for(std::chrono::seconds(1));
  char hash[32];
  std::snprintf(hash, sizeof hash, "%016llx",
                static_cast<unsigned long long>(world.log().hash()));
  out.event_log_hash = hash;
  return out;
}

}  // namespace llmproxy::harness
