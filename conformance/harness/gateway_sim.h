// Runs the real request path (shell::Worker) in the simulator: fake backends
// on simulated hosts, one gateway host, a workload of clients, each on its own
// simulated host. Everything the checkers need comes back in SimOutcome:
// what every client saw, the gateway's request records, and a tap of every
// upstream connection.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conformance/harness/tap_env.h"
#include "fake_backends/fake_config.h"
#include "proxy/core/config/rate_limit.h"
#include "proxy/core/config/storage.h"
#include "fake_backends/fake_stats.h"
#include "proxy/shell/request_record.h"
#include "proxy/shell/shell_config.h"
#include "proxy/shell/worker.h"
#include "proxy/shell/testing/http_test_client.h"

namespace llmproxy::sim {
class World;
}

namespace llmproxy::harness {

// The bound every generated client puts on itself when it does not mean to
// leave early (ClientRequest::cancel_after): a hang cannot block a run. A
// client that runs into it was kept waiting by the gateway, which the
// checkers count as a violation (checks.h), not as a client that left.
inline constexpr Duration kClientGuard = std::chrono::minutes(10);

struct ClientRequest {
  Duration at{0};              // start time of this client
  bool stream = false;
  bool ask_usage = false;      // stream_options.include_usage = true
  int prompt_words = 3;
  std::uint32_t max_tokens = 0;  // 0 = not sent
  std::string fault;           // x-fake-fault header ("" = none)
  std::string method = "POST";  // GET sends no body (e.g. GET /ready)
  std::string path = "/v1/chat/completions";
  std::string model = "fake-model";
  std::string headers;         // extra header lines, each ending in "\r\n"
  // A slow reader: reads at most `slow_read_bytes` at a time and pauses
  // `slow_read_pause` after each read (0 bytes = reads at full speed).
  std::size_t slow_read_bytes = 0;
  Duration slow_read_pause{0};
  // The client goes away after this many response body bytes (or, with 0,
  // right after sending the request once `cancel_after` has passed).
  std::optional<std::size_t> cancel_after_bytes;
  std::optional<Duration> cancel_after;
  // A client whose request straddles an event (e.g. a drain): it sends the
  // first `split_at` bytes of its request (0: none, an idle connection),
  // waits `split_pause`, then the rest. Null: all at once.
  std::optional<std::size_t> split_at;
  Duration split_pause{0};
  // Writes the first line of a next request 5 ms behind this one on the
  // same connection (pipelined, never completed, so it gets no answer):
  // the gateway's client watch sees bytes waiting and wakes its relay
  // loop while this response streams (shell/client_watch.h). Not with
  // split_at.
  bool pipeline_partial = false;
};

// One fake backend's behaviour when the backends come from a config.
struct FakeBackend {
  fake::Profile profile;
  std::vector<fake::FaultWindow> faults;
};

// Options of worker `index` of one gateway process, on that worker's env.
using WorkerFactory = std::function<shell::WorkerOptions(env::Env& env, unsigned index)>;

// A gateway process's config after a reload (Scenario::reload).
struct ReloadTo {
  std::shared_ptr<const shell::ShellConfig> config;
  WorkerFactory factory;
};

struct Scenario {
  std::uint64_t seed = 1;
  int backends = 2;
  fake::Profile profile;
  shell::ShellConfig gateway;  // backends are filled in by the harness
  // When set, `gateway.backends` are used as they are (e.g. built from a
  // user's config file) instead of `backends` generated ones: every distinct
  // host:port becomes a fake server listening on that port of a simulated
  // host of that name (loopback names mean the gateway's own host).
  // fakes[i] gives gateway.backends[i]'s behaviour (missing: `profile`, no
  // faults); backends sharing a host:port share the first one's fake.
  bool backends_from_config = false;
  std::vector<FakeBackend> fakes;
  // Makes the gateway worker's options for one run (fresh state each time:
  // e.g. an in-memory rate limiter standing in for the configured store).
  // Null = defaults.
  std::function<shell::WorkerOptions(env::Env&)> worker_options;
  // Starts one gateway process (once per gateway instance and run, with the
  // instance's index): the state its
  // workers share and the factory of their options. harness/composition.h
  // makes it from the composition root, exactly as serve builds its
  // workers. Null: `worker_options` (or defaults) for every worker.
  std::function<WorkerFactory(std::size_t instance)> start_process;
  // Workers per gateway instance (server.workers), as serve runs them: each
  // its own env on the instance's host (its own generator), its own Worker
  // and its own listener on the port with reuse_port. The simulated network
  // hands new connections to those listeners round robin (SO_REUSEPORT
  // hashes addresses instead; either way one worker serves a connection).
  int workers = 1;
  // SIGTERM at this time after the start: every gateway instance drains
  // through server/drain.h's steps as serve's signal handler does, with
  // `gateway.drain_timeout` as the deadline. Null: no drain.
  std::optional<Duration> drain_at;
  // SIGHUP at this time after the start: every gateway instance reloads to
  // `reload(instance)` (its new runtime settings and the factory of its
  // workers' options) through Worker::reload, as serve's signal handler
  // does; harness/composition.h makes it from the composition root.
  std::optional<Duration> reload_at;
  std::function<ReloadTo(std::size_t instance)> reload;
  // The text of the config `reload` goes to, when it was built from one (a
  // kept case writes it beside config_yaml, so the reload replays).
  std::string reload_config_yaml;
  // Backends that only the reload's config names (backends_from_config):
  // fakes with `profile` serve them from the start, as a new backend would
  // be running before the SIGHUP that adds it.
  std::vector<shell::BackendTarget> reload_backends;
  // Rate limits as settings rather than through the workers' options: every
  // worker of every gateway instance asks one in-memory limiter with these
  // limits through a simulated store `limiter_latency` away (a
  // LatencyLimiterStore on host "store"), as instances share a Redis. It
  // replaces whatever limiter the options (and a reload's) came with. A
  // kept case writes them into its config and says `shared_limiter:`.
  std::optional<config::RateLimitConfig> rate_limit;
  Duration limiter_latency{0};
  // A fake Redis serves this cache's address during the run
  // (harness/sim_redis.h), so a config's Redis rate-limit store runs
  // against it. Null: none.
  std::optional<config::CacheConfig> redis;
  // The config text the gateway was built from, when the scenario was
  // generated from one (describe() prints it; a kept case writes it as is).
  std::string config_yaml;
  // Called once the gateway's Worker exists and its background work started
  // (e.g. to observe health probes). Null = nothing.
  std::function<void(shell::Worker&, env::Env&)> on_worker;
  shell::BackendTarget backend_template;  // timeouts etc. for every backend
  std::vector<ClientRequest> requests;
  Duration latency = std::chrono::microseconds(100);  // one way, every link
  bool random_read_split = true;
  Duration horizon = std::chrono::minutes(30);  // virtual time bound
  // Gateway instances (hosts "gateway", "gateway-1", …), each its own Worker
  // with its own worker_options() (e.g. stores sharing one backing state);
  // request i goes to instance i % gateways. Backends are shared.
  int gateways = 1;
};

struct ClientResult {
  std::string request_id;
  testing::ClientResponse response;
  bool cancelled = false;  // the client closed on purpose
  bool connected = false;
  TimePoint start{}, end{};
  TimePoint sent{};  // when the last byte of the request was written (connected clients)
};

// One gateway instance's reload (Scenario::reload_at).
struct ReloadRecord {
  bool done = false;
  TimePoint at{};
  // Every worker had freed its old generation (no request pinned it any
  // more) before the run ended.
  bool old_generations_freed = false;
};

// One gateway instance's drain (Scenario::drain_at).
struct DrainRecord {
  bool started = false, finished = false;
  TimePoint began{};        // acceptors closed, workers draining
  TimePoint closed_all{};   // end_drain on every worker
  std::size_t open_at_close = 0;  // sessions the deadline cut
  TimePoint deadline{};
};

// One FinishRequest a gateway worker gave its limiter store, recorded by the
// harness on its way to the store (whatever store the options came with).
struct LimiterFinish {
  std::string key;
  std::int64_t token_reservation = 0;
  std::int64_t actual_tokens = -1;
};

struct SimOutcome {
  std::vector<shell::BackendTarget> backends;   // as the gateway ran them
  std::vector<ClientResult> clients;            // index = request index
  std::vector<shell::RequestRecord> records;    // in end order
  std::vector<ConnectionTap> upstream;          // every gateway→backend connection
  std::vector<fake::FakeStats> backend_stats;
  // Every fake backend's account of its inference answers (AnswerLog), in
  // the order they ended.
  std::vector<fake::AnswerLog> backend_answers;
  // Every finish the workers' limiter stores were given, in call order, and
  // how many workers (counting each generation a reload made) ran with and
  // without a limiter: the finishes stand for every request only when
  // workers_unlimited is 0.
  std::vector<LimiterFinish> limiter_finishes;
  std::size_t workers_limited = 0;
  std::size_t workers_unlimited = 0;
  std::size_t pool_idle = 0;                    // idle upstream connections at the end
  std::size_t gateway_sessions_at_end = 0;
  std::string event_log_hash;
  TimePoint started{};   // the clients' and fakes' time zero
  TimePoint finished{};
  bool all_clients_done = false;
  std::vector<DrainRecord> drains;  // per gateway instance, when the scenario drains
  std::vector<ReloadRecord> reloads;  // per gateway instance, when the scenario reloads
  // Sessions ended by an exception (must stay 0: the run fails instead).
  std::uint64_t sessions_failed = 0;
};

SimOutcome run_gateway_sim(const Scenario& scenario);
// The same in a world the caller made (e.g. sim::check_determinism's).
SimOutcome run_gateway_sim_in(sim::World& world, const Scenario& scenario);

// The request id the harness gives request i (sent as X-Request-Id).
std::string request_id_for(std::size_t index);
// The body client i sends for request r (POST; GET sends none).
std::string request_body(const ClientRequest& r, std::size_t index);
// Judged from the bytes: request `index`'s X-Request-Id went to a backend
// on some upstream connection.
bool reached_upstream(const SimOutcome& out, std::size_t index);
// The `code` of the OpenAI error object in a response body ("" if none).
std::string error_code_in(const std::string& body);

}  // namespace llmproxy::harness
