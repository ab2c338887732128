#include "conformance/harness/checks.h"

#include "conformance/harness/upstream_transcript.h"

#include <boost/json/parse.hpp>

#include <map>

namespace llmproxy::harness {
namespace {

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


// The timeouts in force for a backend: its own when the run took the
// backends from a config, the scenario's template otherwise.
const shell::BackendTarget& target_of(const Scenario& sc, const std::string& backend) {
  if (sc.backends_from_config)
    for (const auto& b : sc.gateway.backends)
      if (b.name == backend) return b;
  return sc.backend_template;
}

}  // namespace

// CHECK(cond): records a violation naming the invariant (the condition's text)
// and the request it concerns, then goes on, so one run reports everything.
#define CHECK(cond) CHECK_DETAIL(cond, std::string())
#define CHECK_DETAIL(cond, detail)                                             \
  do {                                                                         \
    if (!(cond)) v.push_back(Violation{current_request, #cond, (detail)});     \
  } while (0)

Violations check_invariants(const Scenario& sc, const SimOutcome& out) {
  std::string current_request;

  Violations v;
  CHECK(out.all_clients_done);

  // Exactly once.
  std::map<std::string, const shell::RequestRecord*> by_id;
  for (const auto& rec : out.records) {
    CHECK(by_id.emplace(rec.request_id, &rec).second);  // never twice
  }
  for (const auto& c : out.clients) {
    if (c.response.status != 0) CHECK(by_id.count(c.request_id) == 1u);
  }
  CHECK(out.records.size() <= sc.requests.size());

  // Upstream transcripts by request id: the last attempt's exchange (in the
  // order they were sent; a retry may reuse an older pooled connection).
  std::map<std::string, UpstreamExchange> upstream;
  for (auto& x : all_exchanges(out.upstream)) upstream[x.request_id] = std::move(x);

  for (std::size_t i = 0; i < sc.requests.size(); ++i) {
    const auto& req = sc.requests[i];
    const auto& c = out.clients[i];
    current_request = c.request_id;
    const auto it = by_id.find(c.request_id);
    if (it == by_id.end()) continue;
    const shell::RequestRecord& rec = *it->second;
    const auto up = upstream.find(c.request_id);
    const bool client_sse = c.response.header("content-type").rfind("text/event-stream", 0) == 0;

    // A broken stream never ends in [DONE].
    const bool upstream_clean = up != upstream.end() && up->second.complete &&
                                up->second.body.find("[DONE]") != std::string::npos &&
                                stream_well_formed(up->second.body);
    if (!upstream_clean) CHECK(c.response.body.find("data: [DONE]") == std::string::npos);
    if (rec.saw_done) CHECK(upstream_clean);

    // Client bytes equal upstream bytes.
    if (up != upstream.end() && c.response.status == up->second.status && c.response.status != 0) {
      const std::string expected = (client_sse && req.stream && !req.ask_usage)
                                       ? without_usage_events(up->second.body)
                                       : up->second.body;
      const std::string_view got = c.response.body;
      if (up->second.complete && c.response.complete && !c.cancelled &&
          rec.outcome == shell::Outcome::completed) {
        CHECK(got == expected);
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
        CHECK_DETAIL(tail_ok, "client got:\n" + std::string(got) + "\nupstream sent:\n" + expected);
        if (rec.outcome == shell::Outcome::error && client_sse && !c.cancelled)
          CHECK(tail.substr(0, kErr.size()) == kErr);
      }
    }

    // Timeouts fire at exactly their virtual deadline: a request that ended
    // with upstream_timeout ended exactly at one of its deadlines.
    if (rec.error_code == "upstream_timeout") {
      const shell::BackendTarget& b = target_of(sc, rec.backend);
      const bool first_byte = b.first_byte_timeout.count() > 0 &&
                              rec.attempt_end - rec.upstream_sent == b.first_byte_timeout;
      const bool idle = b.stream_idle_timeout.count() > 0 && rec.first_byte != TimePoint{} &&
                        rec.attempt_end - rec.last_upstream_read == b.stream_idle_timeout;
      const bool attempt = rec.attempt_end - rec.upstream_sent == b.timeout;
      // routing.request_timeout bounds all attempts and waits together.
      const Duration rt = sc.gateway.routing.request_timeout;
      const bool request = rt.count() > 0 && rec.attempt_end - rec.start == rt;
      CHECK_DETAIL(first_byte || idle || attempt || request,
                   "sent at " + std::to_string(rec.upstream_sent.time_since_epoch().count()) +
                       "ns, last read at " +
                       std::to_string(rec.last_upstream_read.time_since_epoch().count()) +
                       "ns, ended at " + std::to_string(rec.attempt_end.time_since_epoch().count()) + "ns");
    }
  }

  current_request.clear();
  // No upstream connection outlives its request; no backend keeps generating.
  std::size_t open = 0;
  for (const auto& t : out.upstream) open += t.is_closed ? 0 : 1;
  CHECK(open == out.pool_idle);
  for (const auto& s : out.backend_stats) {
    CHECK(s.in_flight == 0u);
    CHECK(s.internal_errors == 0u);
  }
  return v;
}

#undef CHECK
#undef CHECK_DETAIL

std::string describe(const Violations& v) {
  std::string s;
  for (const auto& x : v) {
    s += "  violated: " + x.invariant;
    if (!x.request_id.empty()) s += "  [" + x.request_id + "]";
    s += "\n";
    if (!x.detail.empty()) s += "    " + x.detail + "\n";
  }
  return s;
}

}  // namespace llmproxy::harness
