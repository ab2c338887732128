#include "conformance/scenario/scenario_run.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <optional>

#include "conformance/harness/checks.h"
#include "conformance/harness/composition.h"
#include "conformance/harness/upstream_transcript.h"
#include "conformance/scenario/trace.h"
#include "proxy/core/random.h"
#include "sim/world.h"

namespace llmproxy::conform {
namespace {

using namespace std::chrono_literals;

std::string ms(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3fs", std::chrono::duration<double>(d).count());
  return buf;
}

std::string authority_of(std::string key) {
  for (std::string_view scheme : {"http://", "https://"})
    if (key.rfind(scheme, 0) == 0) key.erase(0, scheme.size());
  const auto slash = key.find('/');
  if (slash != std::string::npos) key.resize(slash);
  return key;
}

bool status_matches(const std::string& key, int status) {
  if (key.size() == 3 && key[1] == 'x') return status / 100 == key[0] - '0';
  return key == std::to_string(status);
}

Duration quantile(const std::vector<Duration>& sorted, double q) {
  if (sorted.empty()) return Duration{0};
  auto rank = static_cast<std::size_t>(q * static_cast<double>(sorted.size()) + 0.999999);
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

// One request of `workload.each` as the harness sends it.
harness::ClientRequest one_request(const OneRequest& e, const Workload& w) {
  harness::ClientRequest q;
  q.at = e.at;
  q.stream = e.stream;
  q.ask_usage = e.stream && e.include_usage;
  q.prompt_words = e.prompt_words;
  q.max_tokens = e.max_tokens.value_or(w.max_tokens);
  q.method = e.method;
  q.path = e.path.value_or(w.path);
  q.model = e.model.value_or(w.model);
  q.fault = e.fault;
  for (const auto& h : e.headers) q.headers += h + "\r\n";
  q.cancel_after_bytes = e.cancel_after_bytes;
  q.cancel_after = e.cancel_after ? *e.cancel_after : w.client_timeout;
  q.split_at = e.split_at;
  q.split_pause = e.split_pause;
  q.pipeline_partial = e.pipeline_partial;
  return q;
}

}  // namespace

void RunMetrics::add(const RunMetrics& o) {
  requests += o.requests;
  ok += o.ok;
  for (const auto& [k, v] : o.status) status[k] += v;
  for (const auto& [k, v] : o.served_by) served_by[k] += v;
  for (const auto& [k, v] : o.upstream_by_backend) upstream_by_backend[k] += v;
  upstream_429 += o.upstream_429;
  max_attempts = std::max(max_attempts, o.max_attempts);
  std::vector<Duration> merged;
  merged.reserve(latencies.size() + o.latencies.size());
  std::merge(latencies.begin(), latencies.end(), o.latencies.begin(), o.latencies.end(),
             std::back_inserter(merged));
  latencies = std::move(merged);
  p50 = quantile(latencies, 0.50);
  p99 = quantile(latencies, 0.99);
  max = latencies.empty() ? Duration{0} : latencies.back();
  if (o.failover && (!failover || *o.failover > *failover)) failover = o.failover;
  if (o.recovery && (!recovery || *o.recovery > *recovery)) recovery = o.recovery;
}

std::size_t find_backend(const shell::ShellConfig& gateway, const std::string& key) {
  const auto& bs = gateway.backends;
  for (std::size_t i = 0; i < bs.size(); ++i)
    if (bs[i].name == key) return i;
  const std::string auth = authority_of(key);
  for (std::size_t i = 0; i < bs.size(); ++i)
    if (bs[i].host_header == auth || bs[i].host + ":" + std::to_string(bs[i].port) == auth) return i;
  return bs.size();
}

harness::Scenario build_scenario(const ScenarioFile& file, const shell::ShellConfig& gateway,
                                 std::uint64_t seed, std::vector<std::string>& problems) {
  harness::Scenario sc;
  sc.seed = seed;
  sc.gateway = gateway;
  sc.backends_from_config = true;
  sc.random_read_split = file.random_read_split;
  sc.profile = file.default_profile;
  if (!gateway.backends.empty()) sc.backend_template = gateway.backends.front();
  sc.fakes.assign(gateway.backends.size(), harness::FakeBackend{file.default_profile, {}});
  for (const auto& b : file.backends) {
    const std::size_t i = find_backend(gateway, b.key);
    if (i == gateway.backends.size()) {
      problems.push_back(file.path + ":" + std::to_string(b.line) + ": backend '" + b.key +
                         "' is not in the config (give a backend name or URL from it)");
      continue;
    }
    sc.fakes[i] = harness::FakeBackend{b.profile, b.faults};
  }
  for (const auto& [key, share] : file.expect.backend_share)
    if (find_backend(gateway, key) == gateway.backends.size())
      problems.push_back(file.path + ":" + std::to_string(file.expect.line) + ": expect.backend_share: backend '" +
                         key + "' is not in the config");
  for (const auto& [key, n] : file.expect.upstream_requests_max)
    if (find_backend(gateway, key) == gateway.backends.size())
      problems.push_back(file.path + ":" + std::to_string(file.expect.line) +
                         ": expect.upstream_requests_max: backend '" + key + "' is not in the config");

  // The workload: one client per request, drawn from the seed.
  const Workload& w = file.workload;
  Rng rng(seed ^ 0x636f6e666f726dULL);  // "conform": apart from the world's streams
  Duration last{0};
  // An explicit list (a shrunk property case): exactly these requests.
  for (const OneRequest& e : w.each) {
    sc.requests.push_back(one_request(e, w));
    last = std::max(last, e.at);
  }
  for (std::size_t i = 0; w.each.empty() && i < w.requests; ++i) {
    harness::ClientRequest q;
    q.at = w.start + w.interval * static_cast<std::int64_t>(i);
    q.stream = w.stream >= 1 || (w.stream > 0 && rng.uniform() < w.stream);
    q.ask_usage = q.stream && w.include_usage;
    q.prompt_words = w.prompt_words;
    q.max_tokens = w.max_tokens;
    q.path = w.path;
    q.model = w.model;
    q.fault = w.fault;
    if (!w.api_keys.empty()) q.headers = "Authorization: Bearer " + w.api_keys[i % w.api_keys.size()] + "\r\n";
    const bool cancels = w.cancel >= 1 || (w.cancel > 0 && rng.uniform() < w.cancel);
    if (cancels && w.cancel_after_bytes) q.cancel_after_bytes = w.cancel_after_bytes;
    q.cancel_after = cancels && w.cancel_after ? *w.cancel_after : w.client_timeout;
    q.slow_read_bytes = w.slow_read_bytes;
    q.slow_read_pause = w.slow_read_pause;
    sc.requests.push_back(std::move(q));
  }
  if (w.each.empty() && !sc.requests.empty()) last = sc.requests.back().at;
  sc.horizon = last + w.client_timeout + 1min;
  // A signal after the last request still happens (and a drain ends).
  if (file.drain_at) sc.horizon = std::max(sc.horizon, *file.drain_at + gateway.drain_timeout + 1min);
  if (file.reload) sc.horizon = std::max(sc.horizon, file.reload->at + 1min);
  sc.workers = file.workers.value_or(1);
  sc.gateways = file.gateways;
  sc.drain_at = file.drain_at;
  return sc;
}

CaseResult judge(const ScenarioFile& file, const harness::Scenario& sc, const harness::SimOutcome& out) {
  CaseResult res;
  res.scenario = file.name;
  res.scenario_path = file.path;
  res.seed = sc.seed;
  auto fail = [&](std::string check, std::string request_id, std::string detail) {
    res.failures.push_back(Failure{std::move(check), std::move(request_id), std::move(detail)});
  };

  for (auto& v : harness::check_invariants(sc, out))
    fail("invariant: " + v.invariant, v.request_id, v.detail);

  const auto& backends = out.backends;
  auto backend_name_of_peer = [&](const std::string& peer) -> std::string {
    for (const auto& b : backends)
      if (b.host + ":" + std::to_string(b.port) == peer) return b.name;
    return peer;
  };
  const auto exchanges = harness::all_exchanges(out.upstream);
  std::map<std::string, std::vector<const harness::UpstreamExchange*>> by_request;
  RunMetrics& m = res.metrics;
  for (const auto& x : exchanges) {
    if (x.request_id.empty()) continue;  // health probes
    by_request[x.request_id].push_back(&x);
    ++m.upstream_by_backend[backend_name_of_peer(x.peer)];
    if (x.status == 429) ++m.upstream_429;
  }
  std::map<std::string, const shell::RequestRecord*> records;
  for (const auto& r : out.records) records.emplace(r.request_id, &r);

  // Per request measurements.
  const std::size_t n = out.clients.size();
  m.requests = n;
  std::vector<Duration> latencies;
  std::vector<std::uint32_t> attempts(n, 0);
  std::vector<std::string> served(n);  // backend of a 2xx answer
  std::string slowest;
  Duration slowest_latency{-1};
  for (std::size_t i = 0; i < n; ++i) {
    const auto& c = out.clients[i];
    const int st = c.response.status;
    ++m.status[st];
    const auto rec = records.find(c.request_id);
    const auto ups = by_request.find(c.request_id);
    attempts[i] = std::max<std::uint32_t>(rec == records.end() ? 0 : rec->second->attempts,
                                          ups == by_request.end() ? 0 : static_cast<std::uint32_t>(ups->second.size()));
    m.max_attempts = std::max(m.max_attempts, attempts[i]);
    // A success is a 2xx relayed to its end (a stream that ended in an
    // error event has a 200 status but is no success).
    if (st / 100 == 2 && rec != records.end() && rec->second->outcome == shell::Outcome::completed) {
      ++m.ok;
      served[i] = rec->second->backend;
      ++m.served_by[served[i]];
    }
    const Duration lat = c.end - c.start;
    latencies.push_back(lat);
    if (lat > slowest_latency) {
      slowest_latency = lat;
      slowest = c.request_id;
    }
  }
  std::sort(latencies.begin(), latencies.end());
  m.latencies = std::move(latencies);
  m.p50 = quantile(m.latencies, 0.50);
  m.p99 = quantile(m.latencies, 0.99);
  m.max = m.latencies.empty() ? Duration{0} : m.latencies.back();

  // Outages: the fault windows of the fakes.
  const Duration last_start = sc.requests.empty() ? Duration{0} : sc.requests.back().at;
  std::string failover_culprit;
  std::string recovery_culprit;
  for (std::size_t b = 0; b < sc.fakes.size() && b < backends.size(); ++b) {
    for (const auto& win : sc.fakes[b].faults) {
      const Duration to = std::min(win.to, last_start + 1ns);
      // Failover: from the outage's start until every later request in it succeeds.
      std::optional<std::size_t> last_bad;
      std::optional<Duration> next_ok;
      for (std::size_t i = 0; i < n; ++i) {
        const Duration at = sc.requests[i].at;
        if (at < win.from || at >= to) continue;
        if (served[i].empty()) {
          last_bad = i;
          next_ok.reset();
        } else if (last_bad && !next_ok) {
          next_ok = at;
        }
      }
      if (win.from < to) {
        // Duration::max(): requests never succeeded again within the window.
        const Duration f = !last_bad ? Duration{0} : next_ok ? *next_ok - win.from : Duration::max();
        if (!m.failover || f > *m.failover) {
          m.failover = f;
          if (last_bad) failover_culprit = out.clients[*last_bad].request_id;
        }
      }
      // Recovery: after the outage, the backend serves again.
      if (win.to != Duration::max() && win.to <= last_start) {
        Duration r = Duration::max();
        for (std::size_t i = 0; i < n; ++i) {
          if (sc.requests[i].at < win.to || served[i] != backends[b].name) continue;
          r = sc.requests[i].at - win.to;
          break;
        }
        if (!m.recovery || r > *m.recovery) {
          m.recovery = r;
          recovery_culprit = backends[b].name;
        }
      }
    }
  }

  // Expectations.
  const Expectations& e = file.expect;
  const double total = static_cast<double>(n);
  for (const auto& [key, bound] : e.status) {
    std::size_t count = 0;
    for (const auto& [st, k] : m.status) {
      bool match = status_matches(key, st);
      if (key == "other") {
        match = true;
        for (const auto& [other, ignored] : e.status)
          if (other != "other" && status_matches(other, st)) match = false;
      }
      if (match) count += k;
    }
    if (!bound.holds(static_cast<double>(count), total)) {
      // A request that explains it: one with the status when there are too
      // many, one without when there are too few.
      const double x = bound.ratio ? static_cast<double>(count) / std::max(total, 1.0) : static_cast<double>(count);
      const bool too_many = x > bound.value;
      std::string first;
      for (std::size_t i = 0; i < n && first.empty(); ++i)
        if (status_matches(key, out.clients[i].response.status) == too_many) first = out.clients[i].request_id;
      fail("expect.status." + key + ": " + bound.text, first,
           std::to_string(count) + " of " + std::to_string(n) + " requests");
    }
  }
  // Counts the records `pred` holds for and names a request that explains a
  // broken bound: one it holds for when there are too many, one it does not
  // hold for when there are too few.
  auto check_records = [&](const std::string& what, const Bound& bound, auto pred) {
    std::size_t k = 0;
    for (const auto& r : out.records) k += pred(r) ? 1 : 0;
    if (bound.holds(static_cast<double>(k), total)) return;
    const double x = bound.ratio ? static_cast<double>(k) / std::max(total, 1.0) : static_cast<double>(k);
    const bool too_many = x > bound.value;
    std::string first;
    for (const auto& r : out.records)
      if (pred(r) == too_many) {
        first = r.request_id;
        break;
      }
    fail(what + ": " + bound.text, first, std::to_string(k) + " of " + std::to_string(n) + " requests");
  };
  for (const auto& [code, bound] : e.error_codes)
    check_records("expect.error_codes." + code, bound,
                  [&c = code](const shell::RequestRecord& r) { return r.error_code == c; });
  for (const auto& [name, bound] : e.outcomes)
    check_records("expect.outcomes." + name, bound,
                  [&nm = name](const shell::RequestRecord& r) { return shell::outcome_name(r.outcome) == nm; });
  for (std::size_t i = 0; i < n; ++i) {
    if (e.attempts_per_request_max && attempts[i] > *e.attempts_per_request_max) {
      fail("expect.attempts_per_request_max: " + std::to_string(*e.attempts_per_request_max),
           out.clients[i].request_id, std::to_string(attempts[i]) + " upstream attempts");
      break;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (e.attempts_per_request_min && attempts[i] < *e.attempts_per_request_min) {
      fail("expect.attempts_per_request_min: " + std::to_string(*e.attempts_per_request_min),
           out.clients[i].request_id, std::to_string(attempts[i]) + " upstream attempts");
      break;
    }
  }
  for (const auto& [key, want] : e.backend_share) {
    const std::size_t b = find_backend(sc.gateway, key);
    if (b >= backends.size()) continue;
    const auto it = m.served_by.find(backends[b].name);
    const double got = m.ok ? static_cast<double>(it == m.served_by.end() ? 0 : it->second) / static_cast<double>(m.ok) : 0;
    if (std::abs(got - want) > e.share_tolerance) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "served %.4f of the %zu successful answers, expected %.4f ± %.4f", got, m.ok,
                    want, e.share_tolerance);
      fail("expect.backend_share." + key, "", buf);
    }
  }
  for (const auto& [key, max] : e.upstream_requests_max) {
    const std::size_t b = find_backend(sc.gateway, key);
    if (b >= backends.size()) continue;
    const auto it = m.upstream_by_backend.find(backends[b].name);
    const std::uint64_t got = it == m.upstream_by_backend.end() ? 0 : it->second;
    if (got > max)
      fail("expect.upstream_requests_max." + key + ": " + std::to_string(max), "",
           std::to_string(got) + " upstream requests");
  }
  if (e.max_latency && m.max > *e.max_latency)
    fail("expect.max_latency: " + ms(*e.max_latency), slowest, "took " + ms(m.max));
  if (e.p99_latency && m.p99 > *e.p99_latency)
    fail("expect.p99_latency: " + ms(*e.p99_latency), "", "p99 was " + ms(m.p99));
  if (e.p50_latency && m.p50 > *e.p50_latency)
    fail("expect.p50_latency: " + ms(*e.p50_latency), "", "p50 was " + ms(m.p50));
  if (e.failover_within && m.failover && *m.failover > *e.failover_within)
    fail("expect.failover_within: " + ms(*e.failover_within), failover_culprit,
         *m.failover == Duration::max()
             ? std::string("requests kept failing until the outage ended")
             : "requests still failed " + ms(*m.failover) + " after an outage began");
  if (e.recovers_within && m.recovery && *m.recovery > *e.recovers_within)
    fail("expect.recovers_within: " + ms(*e.recovers_within), "",
         recovery_culprit + (*m.recovery == Duration::max()
                                 ? std::string(" served nothing after its outage ended")
                                 : " served again only " + ms(*m.recovery) + " after its outage ended"));
  if (e.retry_after_honoured) {
    for (const auto& [id, xs] : by_request) {
      for (std::size_t k = 1; k < xs.size(); ++k) {
        const auto& a = *xs[k - 1];
        const auto& b = *xs[k];
        if (a.retry_after.empty() || a.peer != b.peer) continue;
        const auto floor = fake::parse_duration(a.retry_after + "s");
        if (floor && b.sent - a.first_byte < *floor) {
          fail("expect.retry_after_honoured", id,
               "retried " + ms(b.sent - a.first_byte) + " after a Retry-After: " + a.retry_after);
          break;
        }
      }
    }
  }
  if (e.jittered_retries) {
    std::vector<Duration> gaps;
    for (const auto& [id, xs] : by_request)
      if (xs.size() >= 2 && xs[0]->first_byte != TimePoint{}) gaps.push_back(xs[1]->sent - xs[0]->first_byte);
    std::sort(gaps.begin(), gaps.end());
    if (gaps.size() < 2)
      fail("expect.jittered_retries", "", "fewer than two requests were retried, nothing to compare");
    else if (gaps.front() == gaps.back())
      fail("expect.jittered_retries", "", "every first retry waited exactly " + ms(gaps.front()));
  }

  for (const auto& f : res.failures) {
    if (f.request_id.empty()) continue;
    res.trace = attempt_trace(sc, out, f.request_id);
    break;
  }
  return res;
}

namespace {

CaseResult not_run(const ScenarioFile& file, std::uint64_t seed, const std::string& check,
                   const std::vector<std::string>& details) {
  CaseResult res;
  res.scenario = file.name;
  res.scenario_path = file.path;
  res.seed = seed;
  for (const auto& d : details) res.failures.push_back(Failure{check, "", d});
  return res;
}

// Runs a built scenario and judges it; a run that throws (an exception
// escaped the gateway, a livelock) is the case's failure.
CaseResult simulate(const ScenarioFile& file, const harness::Scenario& sc) {
  try {
    const harness::SimOutcome out = harness::run_gateway_sim(sc);
    return judge(file, sc, out);
  } catch (const std::exception& ex) {
    return not_run(file, sc.seed, "the simulated run failed", {ex.what()});
  }
}

std::string at_line(const ScenarioFile& file, int line) {
  return file.path + ":" + std::to_string(line) + ": ";
}

}  // namespace

CaseResult run_case(const ScenarioFile& file, const shell::ShellConfig& gateway, std::uint64_t seed) {
  std::vector<std::string> problems;
  const harness::Scenario sc = build_scenario(file, gateway, seed, problems);
  if (file.reload) problems.push_back(at_line(file, file.reload->line) + "reload needs a config file to run");
  if (file.shared_limiter_latency)
    problems.push_back(at_line(file, file.line_of_shared_limiter) + "shared_limiter needs a config with rate limits");
  if (!problems.empty()) return not_run(file, seed, "scenario does not fit the config", problems);
  return simulate(file, sc);
}

harness::Scenario build_scenario(const ScenarioFile& file,
                                 const std::shared_ptr<const server::Gateway>& gateway,
                                 std::uint64_t seed,
                                 const std::shared_ptr<const server::Gateway>& reload_to,
                                 std::vector<std::string>& problems) {
  harness::Scenario sc = build_scenario(file, *gateway->shell_config(), seed, problems);
  // Processes, workers and the Redis store as serve builds them.
  harness::use_gateway(sc, gateway);
  if (file.workers) sc.workers = *file.workers;
  if (file.reload && !reload_to)
    problems.push_back(at_line(file, file.reload->line) + "reload: no config was given for it");
  if (file.reload && reload_to) harness::reload_during(sc, gateway, reload_to, file.reload->at);
  if (file.shared_limiter_latency) {
    if (!gateway->config().rate_limit.enabled)
      problems.push_back(at_line(file, file.line_of_shared_limiter) +
                         "shared_limiter: the config has no rate limits to share");
    sc.rate_limit = gateway->config().rate_limit;
    sc.limiter_latency = *file.shared_limiter_latency;
  }
  return sc;
}

CaseResult run_case(const ScenarioFile& file, const std::shared_ptr<const server::Gateway>& gateway,
                    std::uint64_t seed, const std::shared_ptr<const server::Gateway>& reload_to) {
  std::vector<std::string> problems;
  const harness::Scenario sc = build_scenario(file, gateway, seed, reload_to, problems);
  if (!problems.empty()) return not_run(file, seed, "scenario does not fit the config", problems);
  return simulate(file, sc);
}

}  // namespace llmproxy::conform
