#include "conformance/harness/gateway_sim.h"

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
#include <cstdio>
#include <map>

#include "conformance/harness/sim_redis.h"
#include "fake_backends/fake_server.h"
#include "proxy/core/ratelimit/limits.h"
#include "proxy/core/ratelimit/memory_limiter.h"
#include "proxy/server/drain.h"
#include "proxy/shell/worker.h"
#include "proxy/stores/latency_limiter_store.h"
#include "sim/network.h"
#include "sim/sim_env.h"
#include "sim/world.h"

namespace llmproxy::harness {
namespace {

constexpr std::uint16_t kGatewayPort = 8080;
constexpr std::uint16_t kBackendPort = 8000;

}  // namespace

std::string request_body(const ClientRequest& r, std::size_t index) {
  std::string words;
  for (int i = 0; i < r.prompt_words; ++i) {
    if (i) words += ' ';
    words += "w" + std::to_string((index * 7 + static_cast<std::size_t>(i)) % 97);
  }
  std::string body = R"({"model":")" + r.model + "\"";
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

namespace {

std::string gateway_host(int instance) {
  return instance == 0 ? std::string("gateway") : "gateway-" + std::to_string(instance);
}

// A client that reads its answer a little at a time with pauses (a slow
// network or a slow consumer): the gateway must not buffer without bound,
// and its write timeout must end the connection.
env::Task<testing::ClientResponse> slow_exchange(env::Env& env, env::Stream& s, std::string request,
                                                 TimePoint deadline, std::size_t chunk,
                                                 Duration pause) {
  namespace bhttp = boost::beast::http;
  testing::ClientResponse res;
  env::error_code ec;
  const std::array<env::asio::const_buffer, 1> out{env::asio::buffer(request)};
  co_await s.write(out, deadline, ec);
  if (ec) {
    res.error = ec;
    co_return res;
  }
  bhttp::response_parser<bhttp::string_body> p;
  p.eager(true);
  p.body_limit(boost::none);
  std::string buf(chunk, '\0');
  std::string pending;
  boost::system::error_code pec;
  while (!p.is_done()) {
    const std::size_t n = co_await s.read_some(env::asio::buffer(buf.data(), chunk), deadline, ec);
    if (ec) {
      if (ec == boost::asio::error::eof && p.is_header_done() && !p.chunked() &&
          !p.content_length()) {
        p.put_eof(pec);
      } else {
        res.error = ec;
      }
      break;
    }
    pending.append(buf.data(), n);
    while (!pending.empty() && !p.is_done()) {
      const std::size_t used = p.put(env::asio::buffer(pending), pec);
      if (pec == bhttp::error::need_more) pec = {};
      if (pec || used == 0) break;
      pending.erase(0, used);
    }
    if (pec) break;
    if (p.is_header_done()) res.status = static_cast<int>(p.get().result_int());
    res.arrivals.emplace_back(env.now(), p.get().body().size());
    if (p.is_done()) break;
    co_await env.sleep_for(pause, ec);
    ec = {};
  }
  if (p.is_header_done()) {
    res.status = static_cast<int>(p.get().result_int());
    for (const auto& f : p.get()) res.headers.emplace_back(f.name_string(), f.value());
    res.body = p.get().body();
  }
  res.complete = !pec && p.is_done();
  co_return res;
}

// One client: waits for its start time, sends its request, reads the answer
// (or goes away as the scenario says). A coroutine function, not a lambda, so
// its state lives in the frame.
env::Task<void> run_client(sim::SimEnv& cenv, const ClientRequest& req, ClientResult& res,
                           std::size_t i, std::string gateway_host, std::uint16_t gateway_port,
                           std::size_t& done) {
  env::error_code cec;
  co_await cenv.sleep_for(req.at, cec);
  res.start = cenv.now();
  auto s = co_await cenv.connect(gateway_host, gateway_port, cenv.now() + std::chrono::seconds(30),
                                 cec);
  if (!s) {
    res.end = cenv.now();
    ++done;
    co_return;
  }
  res.connected = true;
  std::string headers = "X-Request-Id: " + res.request_id + "\r\n";
  if (!req.fault.empty()) headers += "x-fake-fault: " + req.fault + "\r\n";
  headers += req.headers;
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
  std::string request = testing::json_request(req.method, req.path,
                                              req.method == "GET" ? std::string() : body, headers);
  if (req.pipeline_partial && !req.split_at) {
    // The request now, the first line of a next one 5 ms later, once the
    // gateway is handling this one: it waits in the gateway's socket, where
    // the client watch sees it (exchange() sends it, then reads).
    const std::array<env::asio::const_buffer, 1> all{env::asio::buffer(request)};
    co_await s->write(all, deadline, cec);
    res.sent = cenv.now();  // the request's last byte; the rest is not answered
    co_await cenv.sleep_for(std::chrono::milliseconds(5), cec);
    cec = {};
    request = "GET /health HTTP/1.1\r\nHost: gateway\r\n";
  }
  if (req.split_at) {
    // The first part now, the rest after the pause (exchange() sends it).
    const std::size_t n = std::min(*req.split_at, request.size());
    if (n > 0) {
      const std::array<env::asio::const_buffer, 1> first{env::asio::buffer(request.data(), n)};
      co_await s->write(first, deadline, cec);
    }
    request.erase(0, n);
    co_await cenv.sleep_for(req.split_pause, cec);
    cec = {};
  }
  if (res.sent == TimePoint{}) res.sent = cenv.now();
  if (req.slow_read_bytes > 0) {
    res.response = co_await slow_exchange(cenv, *s, std::move(request), deadline,
                                          req.slow_read_bytes, req.slow_read_pause);
  } else {
    res.response = co_await testing::exchange(cenv, *s, std::move(request), deadline, stop);
  }
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

bool reached_upstream(const SimOutcome& out, std::size_t index) {
  const std::string needle = "X-Request-Id: " + request_id_for(index) + "\r\n";
  for (const auto& c : out.upstream)
    if (c.written.find(needle) != std::string::npos) return true;
  return false;
}

std::string error_code_in(const std::string& body) {
  const auto at = body.find("\"code\":\"");
  if (at == std::string::npos) return "";
  const auto start = at + 8;
  return body.substr(start, body.find('"', start) - start);
}

namespace {

struct GatewayWorker {
  std::unique_ptr<sim::SimEnv> env;
  std::unique_ptr<TapEnv> tap;
  std::unique_ptr<shell::Worker> worker;
  std::unique_ptr<env::Acceptor> acceptor;
};
// One gateway instance: a simulated host running one gateway process.
struct Instance {
  std::vector<GatewayWorker> workers;
};

// Scenario::rate_limit: one limiter on a simulated store host, shared by
// every worker of every instance, before and after a reload.
struct SharedLimiter {
  std::unique_ptr<sim::SimEnv> env;
  std::shared_ptr<ratelimit::MemoryLimiter> limiter;
  Duration latency{0};

  SharedLimiter(sim::World& world, const Scenario& sc) {
    if (!sc.rate_limit) return;
    env = std::make_unique<sim::SimEnv>(world, "store");
    limiter = std::make_shared<ratelimit::MemoryLimiter>(ratelimit::limits_from(*sc.rate_limit));
    latency = sc.limiter_latency;
  }
  // The worker asks the shared limiter instead of the one its options came
  // with (if any).
  void apply(shell::WorkerOptions& o) const {
    if (limiter) o.limiter = std::make_shared<stores::LatencyLimiterStore>(limiter, *env, latency);
  }
};

// Passes every call on to the store the worker's options came with and
// records each finish first: the limiter's token accounting, seen from
// outside the gateway (the usage invariant compares it with the oracle).
class RecordingLimiterStore final : public stores::LimiterStore {
 public:
  RecordingLimiterStore(std::shared_ptr<stores::LimiterStore> inner,
                        std::shared_ptr<std::vector<LimiterFinish>> finishes)
      : inner_(std::move(inner)), finishes_(std::move(finishes)) {}

  env::Task<ratelimit::Verdict> admit(const stores::AdmitRequest& req) override {
    return inner_->admit(req);
  }
  env::Task<void> finish(const stores::FinishRequest& req) override {
    finishes_->push_back(LimiterFinish{std::string(req.key), req.token_reservation, req.actual_tokens});
    return inner_->finish(req);
  }
  void close() override { inner_->close(); }

 private:
  std::shared_ptr<stores::LimiterStore> inner_;
  std::shared_ptr<std::vector<LimiterFinish>> finishes_;
};

// What the run records from outside the gateway, besides the tap: the fakes'
// answer logs and the limiter finishes. Shared pointers, because fakes and
// workers may report while they are torn down; copied into the outcome at
// the very end.
struct Journal {
  std::shared_ptr<std::vector<fake::AnswerLog>> answers =
      std::make_shared<std::vector<fake::AnswerLog>>();
  std::shared_ptr<std::vector<LimiterFinish>> finishes = std::make_shared<std::vector<LimiterFinish>>();
  std::size_t limited = 0, unlimited = 0;

  void wrap(shell::WorkerOptions& o) {
    if (!o.limiter) {
      ++unlimited;
      return;
    }
    ++limited;
    o.limiter = std::make_shared<RecordingLimiterStore>(std::move(o.limiter), finishes);
  }
  void copy_to(SimOutcome& out) const {
    out.backend_answers = *answers;
    out.limiter_finishes = *finishes;
    out.workers_limited = limited;
    out.workers_unlimited = unlimited;
  }
};

// Starts the fake backends; returns the gateway's port (past any loopback
// backend's).
std::uint16_t start_backends(sim::World& world, const Scenario& sc, shell::ShellConfig& cfg,
                             std::vector<std::unique_ptr<sim::SimEnv>>& envs,
                             std::vector<std::unique_ptr<fake::FakeServer>>& fakes,
                             std::vector<std::unique_ptr<env::Acceptor>>& acceptors,
                             const Journal& journal) {
  std::uint16_t gateway_port = kGatewayPort;
  auto start_fake = [&](const std::string& host, std::uint16_t port, const std::string& name,
                        const fake::Profile& profile, const std::vector<fake::FaultWindow>& faults) {
    envs.push_back(std::make_unique<sim::SimEnv>(world, host));
    fake::FakeConfig fc;
    fc.name = name;
    fc.profile = profile;
    fc.faults = faults;
    fc.log = [](std::string_view) {};
    fc.on_answer = [answers = journal.answers](const fake::AnswerLog& a) { answers->push_back(a); };
    fakes.push_back(std::make_unique<fake::FakeServer>(*envs.back(), fc));
    env::error_code ec;
    acceptors.push_back(envs.back()->listen("", port, false, ec));
    if (ec) throw std::runtime_error("backend " + name + " listen on " + host + ":" +
                                     std::to_string(port) + ": " + ec.message());
    world.spawn(fakes.back()->run(*acceptors.back()));
  };
  if (sc.backends_from_config) {
    std::map<std::pair<std::string, std::uint16_t>, bool> started;
    std::map<std::uint16_t, bool> gateway_ports_used;
    auto serve = [&](const shell::BackendTarget& b, const FakeBackend& fb) {
      const bool loopback = b.host == "localhost" || b.host == "127.0.0.1" || b.host == "::1";
      const std::string host = loopback ? "gateway" : b.host;
      if (!started.emplace(std::pair(host, b.port), true).second) return;
      if (loopback) gateway_ports_used[b.port] = true;
      start_fake(host, b.port, b.name, fb.profile, fb.faults);
    };
    for (std::size_t i = 0; i < cfg.backends.size(); ++i)
      serve(cfg.backends[i], i < sc.fakes.size() ? sc.fakes[i] : FakeBackend{sc.profile, {}});
    for (const auto& b : sc.reload_backends) serve(b, FakeBackend{sc.profile, {}});
    while (gateway_ports_used.count(gateway_port)) ++gateway_port;
  } else {
    cfg.backends.clear();
    for (int i = 0; i < sc.backends; ++i) {
      const std::string host = "backend-" + std::to_string(i);
      start_fake(host, kBackendPort, host, sc.profile, {});
      shell::BackendTarget b = sc.backend_template;
      b.name = host;
      b.host = host;
      b.port = kBackendPort;
      b.host_header = host + ":" + std::to_string(kBackendPort);
      cfg.backends.push_back(std::move(b));
    }
  }
  return gateway_port;
}

// One gateway process on host `host`: sc.workers workers, each with its own
// env (worker 0 keeps the host's own generator, so a one-worker run is the
// run it always was) and its own reuse_port listener, as serve does.
Instance start_instance(sim::World& world, const Scenario& sc, std::size_t index,
                        const std::shared_ptr<shell::ShellConfig>& cfg, const std::string& host,
                        std::uint16_t port, const SharedLimiter& shared, Journal& journal,
                        SimOutcome& out) {
  WorkerFactory factory;
  if (sc.start_process) {
    factory = sc.start_process(index);
  } else {
    factory = [&sc](env::Env& env, unsigned) {
      return sc.worker_options ? sc.worker_options(env) : shell::WorkerOptions{};
    };
  }
  Instance inst;
  const int n = std::max(1, sc.workers);
  for (int i = 0; i < n; ++i) {
    GatewayWorker gw;
    gw.env = i == 0 ? std::make_unique<sim::SimEnv>(world, host)
                    : std::make_unique<sim::SimEnv>(world, host, "worker-" + std::to_string(i));
    gw.tap = std::make_unique<TapEnv>(*gw.env);
    shell::WorkerOptions options = factory(*gw.env, static_cast<unsigned>(i));
    shared.apply(options);
    journal.wrap(options);
    // Set on every simulated worker, whoever made the options: an exception
    // escaping a session fails the run (serve only logs and counts it).
    options.rethrow_session_failures = true;
    gw.worker = std::make_unique<shell::Worker>(*gw.tap, cfg, std::move(options));
    gw.worker->observe([&out](const shell::RequestRecord& r) { out.records.push_back(r); });
    gw.worker->start_background();  // active health probes, when configured
    if (sc.on_worker) sc.on_worker(*gw.worker, *gw.env);
    env::error_code ec;
    gw.acceptor = gw.env->listen("", port, n > 1, ec);
    if (ec) throw std::runtime_error("gateway listen: " + ec.message());
    world.spawn(gw.worker->serve(*gw.acceptor));
    inst.workers.push_back(std::move(gw));
  }
  return inst;
}

// SIGTERM for one instance, through the steps serve's signal handler takes
// (server/drain.h); here every worker is on this executor, so each step is
// a direct call instead of a post to the worker's thread.
// `alive` turns false when the run ends: a drain still waiting then (its
// time lay past the horizon) must not touch the workers afterwards.
env::Task<void> drain_instance(sim::SimEnv& env, Instance& inst, Duration at, Duration timeout,
                               DrainRecord& rec, std::shared_ptr<const bool> alive) {
  env::error_code ec;
  co_await env.sleep_for(at, ec);
  if (ec || !*alive) co_return;
  rec.started = true;
  rec.began = env.now();
  for (auto& w : inst.workers) server::begin_drain(*w.worker, *w.acceptor);
  const server::Drain drain(env.now(), timeout);
  rec.deadline = drain.deadline();
  for (;;) {
    std::size_t open = 0;
    for (auto& w : inst.workers) open += w.worker->sessions();
    if (drain.next(open, env.now()) == server::Drain::Next::close_all) {
      rec.open_at_close = open;
      rec.closed_all = env.now();
      for (auto& w : inst.workers) server::end_drain(*w.worker);
      break;
    }
    co_await env.sleep_for(server::kDrainPollInterval, ec);
    if (ec || !*alive) co_return;
  }
  rec.finished = true;
}

// SIGHUP for one instance: every worker reloads, each with options made on
// its own env (as serve posts the reload to each worker's thread); then
// waits, while the run lasts, for the old generations to be freed.
env::Task<void> reload_instance(sim::SimEnv& env, Instance& inst, Duration at,
                                const std::function<ReloadTo(std::size_t)>& reload,
                                const SharedLimiter& shared, Journal& journal, std::size_t index,
                                ReloadRecord& rec, std::shared_ptr<const bool> alive) {
  env::error_code ec;
  co_await env.sleep_for(at, ec);
  if (ec || !*alive || inst.workers.front().worker->draining()) co_return;
  const ReloadTo to = reload(index);
  for (std::size_t i = 0; i < inst.workers.size(); ++i) {
    auto& w = inst.workers[i];
    shell::WorkerOptions options = to.factory(*w.env, static_cast<unsigned>(i));
    shared.apply(options);
    journal.wrap(options);
    w.worker->reload(to.config, std::move(options));
  }
  rec.done = true;
  rec.at = env.now();
  for (;;) {
    std::size_t retiring = 0;
    for (auto& w : inst.workers) retiring += w.worker->retiring();
    if (retiring == 0) {
      rec.old_generations_freed = true;
      co_return;
    }
    co_await env.sleep_for(std::chrono::milliseconds(50), ec);
    if (ec || !*alive || inst.workers.front().worker->closed()) co_return;
  }
}

bool drains_done(const SimOutcome& out) {
  for (const auto& d : out.drains)
    if (!d.finished) return false;
  return true;
}

}  // namespace

SimOutcome run_gateway_sim_in(sim::World& world, const Scenario& sc) {
  SimOutcome out;
  out.started = world.now();
  auto& net = world.network();
  net.set_default_latency(sc.latency);
  net.stream_options().random_read_split = sc.random_read_split;
  const SharedLimiter shared_limiter(world, sc);
  Journal journal;
  // Declared first, destroyed last: its stop() runs the world until the
  // fake has ended, after the gateways (and their store clients) are gone.
  std::optional<SimRedis> redis;
  if (sc.redis) redis.emplace(world, *sc.redis);

  std::vector<std::unique_ptr<sim::SimEnv>> backend_envs;
  std::vector<std::unique_ptr<fake::FakeServer>> fakes;
  std::vector<std::unique_ptr<env::Acceptor>> backend_acceptors;
  auto cfg = std::make_shared<shell::ShellConfig>(sc.gateway);
  const std::uint16_t gateway_port =
      start_backends(world, sc, *cfg, backend_envs, fakes, backend_acceptors, journal);
  out.backends = cfg->backends;

  std::vector<Instance> gateways;
  const int instances = std::max(1, sc.gateways);
  for (int g = 0; g < instances; ++g)
    gateways.push_back(start_instance(world, sc, static_cast<std::size_t>(g), cfg, gateway_host(g), gateway_port,
                                      shared_limiter, journal, out));
  const auto alive = std::make_shared<bool>(true);
  if (sc.drain_at) {
    out.drains.resize(gateways.size());
    for (std::size_t g = 0; g < gateways.size(); ++g)
      world.spawn(drain_instance(*gateways[g].workers.front().env, gateways[g], *sc.drain_at,
                                 cfg->drain_timeout, out.drains[g], alive));
  }

  if (sc.reload_at && sc.reload) {
    out.reloads.resize(gateways.size());
    for (std::size_t g = 0; g < gateways.size(); ++g)
      world.spawn(reload_instance(*gateways[g].workers.front().env, gateways[g], *sc.reload_at,
                                  sc.reload, shared_limiter, journal, g, out.reloads[g], alive));
  }

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
    world.spawn(run_client(cenv, req, res, i, gateway_host(static_cast<int>(i % gateways.size())),
                           gateway_port, done));
  }

  // Run until every client is done and every drain over (background work
  // such as health probes never lets the world go idle), at most until the
  // horizon.
  const TimePoint horizon = world.now() + sc.horizon;
  while ((done < sc.requests.size() || !drains_done(out)) && world.now() < horizon)
    world.run_until(std::min(horizon, world.now() + std::chrono::milliseconds(100)));
  out.all_clients_done = done == sc.requests.size();
  out.finished = world.now();
  // Let the gateway settle (cancelled upstreams close, pools fill), then
  // take the measurements before shutting anything down.
  world.run_for(std::chrono::seconds(1));
  out.pool_idle = 0;
  out.gateway_sessions_at_end = 0;
  for (auto& inst : gateways) {
    for (auto& gw : inst.workers) {
      // The worker's current config (a reload may have changed the backends).
      for (std::size_t b = 0; b < gw.worker->config().backends.size(); ++b)
        out.pool_idle += gw.worker->pool().idle_count(b);
      out.gateway_sessions_at_end += gw.worker->sessions();
      out.sessions_failed += gw.worker->counters().sessions_failed;
      for (const auto& t : gw.tap->taps()) out.upstream.push_back(*t);
    }
  }
  for (const auto& f : fakes) out.backend_stats.push_back(f->stats());

  for (auto& inst : gateways) {
    for (auto& gw : inst.workers) {
      gw.acceptor->close();
      gw.worker->close_all_sessions();
    }
  }
  for (auto& f : fakes) f->stop();
  world.run_for(std::chrono::seconds(1));
  journal.copy_to(out);
  char hash[32];
  std::snprintf(hash, sizeof hash, "%016llx",
                static_cast<unsigned long long>(world.log().hash()));
  out.event_log_hash = hash;
  *alive = false;
  return out;
}

}  // namespace llmproxy::harness
