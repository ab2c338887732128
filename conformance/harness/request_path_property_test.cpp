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
#include <boost/json/parse.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <sstream>

#include "conformance/harness/gateway_sim.h"
#include "proxy/core/log/log.h"

namespace llmproxy::harness {
namespace {

using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;

// The gateway logs every upstream failure; the faults here are on purpose.
const bool kQuietLogs = [] {
  log::LoggerOptions o;
  o.level = log::Level::error;
  log::configure(o);
  return true;
}();

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

// True when every data payload of the stream is JSON or [DONE] (checked with
// Boost.JSON, independently of the gateway's own scanner).
bool stream_well_formed(std::string_view body) {
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto eol = body.find('\n', pos);
    if (eol == std::string_view::npos) eol = body.size();
    std::string_view line = body.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.substr(0, 6) != "data: ") continue;
    line.remove_prefix(6);
    if (line == "[DONE]") continue;
    boost::system::error_code ec;
    boost::json::parse(line, ec);
    if (ec) return false;
  }
  return true;
}


// ---- workload generation ----------------------------------------------------

rc::Gen<std::string> gen_fault(bool has_first_byte_timeout, bool has_idle_timeout) {
  return rc::gen::exec([=]() -> std::string {
    const int kinds = 9 + (has_first_byte_timeout ? 1 : 0) + (has_idle_timeout ? 1 : 0);
    int k = *rc::gen::inRange(0, kinds);
    if (!has_first_byte_timeout && k >= 9) ++k;  // skip "hang"
    switch (k) {
      case 0:
      case 1: return "";
      case 2: return "reset_after=" + std::to_string(*rc::gen::inRange(0, 6));
      case 3: return "no_done";
      case 4: return "malformed_at=" + std::to_string(*rc::gen::inRange(0, 5));
      case 5: return "status=500";
      case 6: return "status=400,code=context_length_exceeded";
      case 7: return "reset_before_headers";
      case 8: return "slow_headers=" + std::to_string(*rc::gen::inRange(1, 300)) + "ms";
      case 9: return "hang";
      default:
        return "stall_after=" + std::to_string(*rc::gen::inRange(0, 4)) +
               ",for=" + std::to_string(*rc::gen::inRange(10, 2000)) + "ms";
    }
  });
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
                                stream_well_formed(up->second.body);
    if (!upstream_clean) RC_ASSERT(c.response.body.find("data: [DONE]") == std::string::npos);
    if (rec.saw_done) RC_ASSERT(upstream_clean);

    // Client bytes equal upstream bytes.
    if (up != upstream.end() && c.response.status == up->second.status && c.response.status != 0) {
      const std::string expected = (client_sse && req.stream && !req.ask_usage)
                                       ? without_usage_events(up->second.body)
                                       : up->second.body;
      const std::string_view got = c.response.body;
      if (up->second.complete && c.response.complete && !c.cancelled &&
          rec.outcome == shell::Outcome::completed) {
        RC_ASSERT(got == expected);
      } else {
        // What the client got is a prefix of the upstream stream, possibly
        // followed by the gateway's error event (cut anywhere if the client
        // itself went away).
        std::size_t common = 0;
        while (common < got.size() && common < expected.size() && got[common] == expected[common])
          ++common;
        // The error event starts a line: compare from the start of that line.
        if (common < got.size()) {
          const auto nl = got.substr(0, common).rfind('\n');
          common = nl == std::string_view::npos ? 0 : nl + 1;
        }
        std::string_view tail = got.substr(common);
        while (!tail.empty() && tail.front() == '\n') tail.remove_prefix(1);
        constexpr std::string_view kErr = "data: {\"error\"";
        const bool tail_ok = tail.empty() || tail.substr(0, kErr.size()) == kErr ||
                             (c.cancelled && kErr.substr(0, tail.size()) == tail);
        if (!tail_ok) RC_LOG() << c.request_id << " got:\n" << got << "\nexpected:\n" << expected << "\n";
        RC_ASSERT(tail_ok);
        if (rec.outcome == shell::Outcome::error && client_sse && !c.cancelled)
          RC_ASSERT(tail.substr(0, kErr.size()) == kErr);
      }
    }

    // Timeouts fire at exactly their virtual deadline: a request that ended
    // with upstream_timeout ended exactly at one of its deadlines.
    if (rec.error_code == "upstream_timeout") {
      const auto& b = sc.backend_template;
      const bool first_byte = b.first_byte_timeout.count() > 0 &&
                              rec.attempt_end - rec.upstream_sent == b.first_byte_timeout;
      const bool idle = b.stream_idle_timeout.count() > 0 && rec.first_byte != TimePoint{} &&
                        rec.attempt_end - rec.last_upstream_read == b.stream_idle_timeout;
      const bool attempt = rec.attempt_end - rec.upstream_sent == b.timeout;
      RC_LOG() << c.request_id << " timed out: sent " << rec.upstream_sent.time_since_epoch().count()
               << " last read " << rec.last_upstream_read.time_since_epoch().count() << " end "
               << rec.attempt_end.time_since_epoch().count() << "\n";
      RC_ASSERT(first_byte || idle || attempt);
    }
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
