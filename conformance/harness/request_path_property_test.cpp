// Properties of the real request path (shell::Worker) in the simulator, over
// random workloads (stream or not, sizes, client cancels) and random backend
// fault schedules (DESIGN.md, "Invariants the harness checks"):
//   - every request ends exactly once;
//   - the client's bytes equal the upstream bytes, in order (minus the usage
//     chunk the gateway injected and strips again);
//   - a truncated or broken stream never ends in [DONE];
//   - first-byte and stream-idle timeouts fire at exactly their virtual deadline;
//   - no upstream connection outlives its request (closed, or idle in the pool),
//     and no backend is left generating for a client that went away.
// A failure prints the seed and the command that replays it.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <sstream>

#include "conformance/harness/gateway_sim.h"

namespace llmproxy::harness {
namespace {

using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;

// ---- upstream transcript: split a tapped connection into exchanges ----------

struct UpstreamExchange {
  std::string request_id;
  int status = 0;
  bool complete = false;
  bool event_stream = false;
  std::string body;
};

std::vector<UpstreamExchange> split_exchanges(const ConnectionTap& tap) {
  std::vector<UpstreamExchange> out;
  std::string_view w = tap.written;
  while (!w.empty()) {
    bhttp::request_parser<bhttp::string_body> p;
    p.eager(true);
    p.body_limit(boost::none);
    boost::system::error_code ec;
    const std::size_t used = p.put(boost::asio::buffer(w.data(), w.size()), ec);
    if (ec || !p.is_done()) break;
    UpstreamExchange x;
    x.request_id = std::string(p.get()["X-Request-Id"]);
    out.push_back(std::move(x));
    w.remove_prefix(used);
  }
  std::string_view r = tap.read;
  for (auto& x : out) {
    if (r.empty()) break;
    bhttp::response_parser<bhttp::string_body> p;
    p.eager(true);
    p.body_limit(boost::none);
    boost::system::error_code ec;
    std::size_t used = p.put(boost::asio::buffer(r.data(), r.size()), ec);
    if (ec == bhttp::error::need_more) ec = {};
    if (p.is_header_done()) {
      x.status = static_cast<int>(p.get().result_int());
      x.event_stream = std::string(p.get()["Content-Type"]).rfind("text/event-stream", 0) == 0;
    }
    if (!ec && !p.is_done() && tap.is_closed && p.is_header_done() && !p.chunked() &&
        !p.content_length()) {
      p.put_eof(ec);  // close-delimited
    }
    x.body = p.get().body();
    x.complete = !ec && p.is_done();
    if (!x.complete) break;
    r.remove_prefix(used);
  }
  return out;
}

// The stream the client should see when the gateway strips the usage chunk
// it asked for: the upstream events minus the one with "choices":[] (the
// fake writes one event per "\n\n"-terminated block).
std::string without_usage_events(std::string_view body) {
  std::string out;
  while (!body.empty()) {
    auto end = body.find("\n\n");
    std::string_view ev = end == std::string_view::npos ? body : body.substr(0, end + 2);
    if (ev.find("\"choices\":[]") == std::string_view::npos) out += ev;
    body.remove_prefix(ev.size());
  }
  return out;
}

bool is_prefix(std::string_view prefix, std::string_view of) {
  return of.substr(0, prefix.size()) == prefix;
}

// ---- workload generation ----------------------------------------------------

rc::Gen<std::string> gen_fault(bool has_first_byte_timeout, bool has_idle_timeout) {
  std::vector<rc::Gen<std::string>> g = {
      rc::gen::just(std::string()),
      rc::gen::just(std::string()),
      rc::gen::map(rc::gen::inRange(0, 6), [](int k) { return "reset_after=" + std::to_string(k); }),
      rc::gen::just(std::string("no_done")),
      rc::gen::map(rc::gen::inRange(0, 5), [](int k) { return "malformed_at=" + std::to_string(k); }),
      rc::gen::just(std::string("status=500")),
      rc::gen::just(std::string("status=400,code=context_length_exceeded")),
      rc::gen::just(std::string("reset_before_headers")),
      rc::gen::map(rc::gen::inRange(1, 300), [](int ms) { return "slow_headers=" + std::to_string(ms) + "ms"; }),
  };
  if (has_first_byte_timeout) g.push_back(rc::gen::just(std::string("hang")));
  if (has_idle_timeout)
    g.push_back(rc::gen::map(rc::gen::pair(rc::gen::inRange(0, 4), rc::gen::inRange(10, 2000)),
                             [](std::pair<int, int> kv) {
                               return "stall_after=" + std::to_string(kv.first) +
                                      ",for=" + std::to_string(kv.second) + "ms";
                             }));
  return rc::gen::oneOf(std::move(g));
}

Scenario gen_scenario() {
  Scenario sc;
  sc.seed = *rc::gen::inRange<std::uint64_t>(1, 1u << 30);
  sc.backends = *rc::gen::inRange(1, 4);
  sc.profile.ttft = std::chrono::milliseconds(*rc::gen::inRange(0, 200));
  sc.profile.itl = std::chrono::milliseconds(*rc::gen::inRange(0, 30));
  sc.profile.output_tokens = *rc::gen::inRange<std::uint32_t>(1, 24);
  sc.backend_template.timeout = 60s;
  sc.backend_template.connect_timeout = 5s;
  if (*rc::gen::arbitrary<bool>())
    sc.backend_template.first_byte_timeout = std::chrono::milliseconds(*rc::gen::inRange(250, 2000));
  if (*rc::gen::arbitrary<bool>())
    sc.backend_template.stream_idle_timeout = std::chrono::milliseconds(*rc::gen::inRange(100, 1500));
  sc.gateway.read_timeout = 30s;
  sc.gateway.idle_timeout = 60s;
  sc.random_read_split = *rc::gen::arbitrary<bool>();
  const int n = *rc::gen::inRange(1, 10);
  const bool fbt = sc.backend_template.first_byte_timeout.count() > 0;
  const bool idle = sc.backend_template.stream_idle_timeout.count() > 0;
  for (int i = 0; i < n; ++i) {
    ClientRequest r;
    r.at = std::chrono::milliseconds(*rc::gen::inRange(0, 1500));
    r.stream = *rc::gen::arbitrary<bool>();
    r.ask_usage = r.stream && *rc::gen::arbitrary<bool>();
    r.prompt_words = *rc::gen::inRange(1, 200);
    r.fault = *gen_fault(fbt, idle);
    const int cancel = *rc::gen::inRange(0, 6);
    if (cancel == 0) r.cancel_after_bytes = *rc::gen::inRange<std::size_t>(1, 2000);
    if (cancel == 1) r.cancel_after = std::chrono::milliseconds(*rc::gen::inRange(1, 400));
    // Bound every client so a hang without timeouts cannot block the run.
    if (!r.cancel_after) r.cancel_after = 10min;
    sc.requests.push_back(std::move(r));
  }
  return sc;
}

std::string describe(const Scenario& sc) {
  std::ostringstream os;
  os << "seed=" << sc.seed << " backends=" << sc.backends
     << " ttft=" << sc.profile.ttft.count() / 1000000 << "ms itl=" << sc.profile.itl.count() / 1000000
     << "ms tokens=" << sc.profile.output_tokens
     << " first_byte_timeout=" << sc.backend_template.first_byte_timeout.count() / 1000000
     << "ms stream_idle_timeout=" << sc.backend_template.stream_idle_timeout.count() / 1000000
     << "ms\n";
  for (std::size_t i = 0; i < sc.requests.size(); ++i) {
    const auto& r = sc.requests[i];
    os << "  req-" << i << " at=" << r.at.count() / 1000000 << "ms stream=" << r.stream
       << " ask_usage=" << r.ask_usage << " fault='" << r.fault << "'";
    if (r.cancel_after_bytes) os << " cancel_after_bytes=" << *r.cancel_after_bytes;
    if (r.cancel_after && *r.cancel_after < 10min) os << " cancel_after=" << r.cancel_after->count() / 1000000 << "ms";
    os << "\n";
  }
  return os.str();
}

// ---- the property -------------------------------------------------------------

void check_run(const Scenario& sc) {
  RC_TAG(sc.requests.size());
  const SimOutcome out = run_gateway_sim(sc);
  RC_LOG() << describe(sc);
  RC_ASSERT(out.all_clients_done);

  // Exactly once.
  std::map<std::string, const shell::RequestRecord*> by_id;
  for (const auto& rec : out.records) {
    RC_ASSERT(by_id.emplace(rec.request_id, &rec).second);  // never twice
  }
  for (const auto& c : out.clients) {
    if (c.response.status != 0) RC_ASSERT(by_id.count(c.request_id) == 1u);
  }
  RC_ASSERT(out.records.size() <= sc.requests.size());

  // Upstream transcripts by request id (the last attempt's exchange).
  std::map<std::string, UpstreamExchange> upstream;
  for (const auto& tap : out.upstream)
    for (auto& x : split_exchanges(tap)) upstream[x.request_id] = std::move(x);

  for (std::size_t i = 0; i < sc.requests.size(); ++i) {
    const auto& req = sc.requests[i];
    const auto& c = out.clients[i];
    const auto it = by_id.find(c.request_id);
    if (it == by_id.end()) continue;
    const shell::RequestRecord& rec = *it->second;
    const auto up = upstream.find(c.request_id);
    const bool client_sse = c.response.header("content-type").rfind("text/event-stream", 0) == 0;

    // A broken stream never ends in [DONE].
    const bool upstream_clean = up != upstream.end() && up->second.complete &&
                                up->second.body.find("[DONE]") != std::string::npos &&
                                req.fault.rfind("malformed_at", 0) != 0;
    if (!upstream_clean) RC_ASSERT(c.response.body.find("data: [DONE]") == std::string::npos);
    if (rec.saw_done) RC_ASSERT(upstream_clean);

    // Client bytes equal upstream bytes.
    if (up != upstream.end() && c.response.status == up->second.status && c.response.status != 0) {
      const std::string expected = (client_sse && req.stream && !req.ask_usage)
                                       ? without_usage_events(up->second.body)
                                       : up->second.body;
      if (up->second.complete && c.response.complete && !c.cancelled &&
          rec.outcome == shell::Outcome::completed) {
        RC_ASSERT(c.response.body == expected);
      } else if (rec.outcome == shell::Outcome::error && client_sse) {
        // What came before the error event is a prefix of the upstream stream.
        const auto err = c.response.body.rfind("data: {\"error\"");
        RC_ASSERT(err != std::string::npos);
        RC_ASSERT(is_prefix(std::string_view(c.response.body).substr(0, err), expected));
      } else {
        RC_ASSERT(is_prefix(c.response.body, expected) || c.cancelled);
      }
    }

    // Timeouts fire at exactly their virtual deadline.
    if (req.fault == "hang" && rec.status == 504 && sc.backend_template.first_byte_timeout.count() > 0)
      RC_ASSERT(rec.attempt_end - rec.upstream_sent == sc.backend_template.first_byte_timeout);
    if (req.fault.rfind("stall_after", 0) == 0 && rec.outcome == shell::Outcome::error &&
        rec.error_code == "upstream_timeout")
      RC_ASSERT(rec.attempt_end - rec.last_upstream_read == sc.backend_template.stream_idle_timeout);
  }

  // No upstream connection outlives its request; no backend keeps generating.
  std::size_t open = 0;
  for (const auto& t : out.upstream) open += t.is_closed ? 0 : 1;
  RC_ASSERT(open == out.pool_idle);
  for (const auto& s : out.backend_stats) {
    RC_ASSERT(s.in_flight == 0u);
    RC_ASSERT(s.internal_errors == 0u);
  }
}

// 200 cases in the default run (meson sets RC_PARAMS=max_success=200); more
// with RC_PARAMS="max_success=5000". On failure RapidCheck prints the
// scenario (RC_LOG above, with the simulator seed) and, at exit, the one
// command that replays it: RC_PARAMS="reproduce=..." <this binary>.
RC_GTEST_PROP(RequestPathSim, InvariantsHoldOverRandomWorkloadsAndFaults, ()) {
  check_run(gen_scenario());
}

TEST(RequestPathSim, SameSeedSameEventLog) {
  Scenario sc;
  sc.seed = 42;
  sc.backends = 2;
  sc.backend_template.first_byte_timeout = 500ms;
  sc.backend_template.stream_idle_timeout = 300ms;
  for (int i = 0; i < 6; ++i) {
    ClientRequest r;
    r.at = std::chrono::milliseconds(i * 10);
    r.stream = i % 2 == 0;
    r.fault = i == 3 ? "reset_after=2" : "";
    sc.requests.push_back(r);
  }
  const auto a = run_gateway_sim(sc);
  const auto b = run_gateway_sim(sc);
  EXPECT_EQ(a.event_log_hash, b.event_log_hash);
  EXPECT_EQ(a.records.size(), 6u);
}

}  // namespace
}  // namespace llmproxy::harness
