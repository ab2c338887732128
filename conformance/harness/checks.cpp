#include "conformance/harness/checks.h"

#include "conformance/harness/upstream_transcript.h"
#include "conformance/harness/usage_oracle.h"
#include "proxy/server/drain.h"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

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

// Calls fn(payload) for every `data: ` line of an SSE body, in order.
template <class Fn>
void for_each_data_payload(std::string_view body, Fn fn) {
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto eol = body.find('\n', pos);
    if (eol == std::string_view::npos) eol = body.size();
    std::string_view line = body.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.substr(0, 6) == "data: ") fn(line.substr(6));
  }
}

// True when every data payload of the stream is JSON or [DONE] (checked with
// Boost.JSON, independently of the gateway's own scanner).
bool stream_well_formed(std::string_view body) {
  bool ok = true;
  for_each_data_payload(body, [&](std::string_view payload) {
    if (payload == "[DONE]") return;
    boost::system::error_code ec;
    boost::json::parse(payload, ec);
    if (ec) ok = false;
  });
  return ok;
}

// The timeouts in force for a backend: its own when the run took the
// backends from a config, the scenario's template otherwise.
const shell::BackendTarget& target_of(const Scenario& sc, const std::string& backend) {
  if (sc.backends_from_config)
    for (const auto& b : sc.gateway.backends)
      if (b.name == backend) return b;
  return sc.backend_template;
}

// The usage a backend reported in a JSON answer, read independently of the
// gateway's own scanner (Boost.JSON): its top-level `usage`. {-1, -1} when
// none. (Streams: usage_oracle.h.)
std::pair<std::int64_t, std::int64_t> reported_usage(std::string_view body) {
  std::pair<std::int64_t, std::int64_t> found{-1, -1};
  boost::system::error_code ec;
  const auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return found;
  const auto* u = v.as_object().if_contains("usage");
  if (u == nullptr || !u->is_object()) return found;
  const auto* p = u->as_object().if_contains("prompt_tokens");
  const auto* c = u->as_object().if_contains("completion_tokens");
  if (p && c && p->is_int64() && c->is_int64()) found = {p->as_int64(), c->as_int64()};
  return found;
}

// How long an upstream attempt may stay open after its client left: the
// gateway notices at once (a readiness watch) and closes the connection;
// this leaves room for the simulated network's latency.
constexpr Duration kCancelBound = std::chrono::milliseconds(10);

// The drain of the gateway instance serving client i, once it began (null
// when the scenario does not drain).
const DrainRecord* drain_of(const Scenario& sc, const SimOutcome& out, std::size_t i) {
  if (!sc.drain_at || out.drains.empty()) return nullptr;
  const DrainRecord& d = out.drains[i % out.drains.size()];
  return d.started ? &d : nullptr;
}

// When the client's request (its last byte) reached the gateway: the
// harness's links have a fixed one-way latency.
TimePoint request_arrival(const Scenario& sc, const ClientResult& c) { return c.sent + sc.latency; }

// A drain may close a connection whose request had not arrived when it
// began (an idle connection), or cut one still open at its deadline.
bool ended_by_drain(const Scenario& sc, const ClientResult& c, const DrainRecord* d) {
  if (d == nullptr || !c.connected) return false;
  if (request_arrival(sc, c) >= d->began) return true;
  return d->open_at_close > 0 && !c.response.complete && c.end >= d->closed_all;
}

// Does a Connection header list `token` (case-insensitive)?
bool http_token_listed(std::string_view value, std::string_view token) {
  std::size_t pos = 0;
  while (pos <= value.size()) {
    std::size_t end = value.find(',', pos);
    if (end == std::string_view::npos) end = value.size();
    std::string_view t = value.substr(pos, end - pos);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    if (t.size() == token.size() &&
        std::equal(t.begin(), t.end(), token.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return true;
    pos = end + 1;
  }
  return false;
}

void check_drain(const Scenario& sc, const SimOutcome& out, Violations& v);
void check_usage(const Scenario& sc, const SimOutcome& out,
                 const std::map<std::string, UpstreamExchange>& upstream,
                 const std::map<std::string, const shell::RequestRecord*>& by_id, Violations& v);

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

  // Exactly once, from the client's side: every client that connected got
  // an answer (a status line: a whole response, or one cut by an error), or
  // left on its own. And the gateway's records agree: one per answered request.
  std::map<std::string, const shell::RequestRecord*> by_id;
  for (const auto& rec : out.records) {
    CHECK(by_id.emplace(rec.request_id, &rec).second);  // never twice
  }
  for (std::size_t i = 0; i < out.clients.size(); ++i) {
    const auto& c = out.clients[i];
    current_request = c.request_id;
    const bool left = c.cancelled || ended_by_drain(sc, c, drain_of(sc, out, i));
    if (c.connected) {
      const DrainRecord* d = drain_of(sc, out, i);
      CHECK_DETAIL(left || c.response.status != 0,
                   "client ended at " + std::to_string(to_seconds(c.end - out.started)) + " s (" +
                       c.response.error.message() + ")" +
                       (d ? ", drain began " + std::to_string(to_seconds(d->began - out.started)) +
                                " s, closed all at " +
                                std::to_string(to_seconds(d->closed_all - out.started)) +
                                " s with " + std::to_string(d->open_at_close) + " open"
                          : std::string()));
    }
    if (c.response.status != 0) CHECK(by_id.count(c.request_id) == 1u);
    // A client that did not mean to leave was never kept waiting until its
    // guard (every deadline of the gateway is far shorter): a response that
    // hangs is the gateway's fault, not a client that left.
    const auto& req = sc.requests[i];
    const bool kept_waiting_until_its_guard =
        c.cancelled && req.cancel_after == kClientGuard && !req.cancel_after_bytes;
    CHECK_DETAIL(!kept_waiting_until_its_guard,
                 "the client waited " + std::to_string(to_seconds(c.end - c.start)) +
                     " s for the rest of its response");
  }
  current_request.clear();
  CHECK(out.records.size() <= sc.requests.size());

  // Upstream transcripts by request id: the last attempt's exchange (in the
  // order they were sent; a retry may reuse an older pooled connection).
  const std::vector<UpstreamExchange> exchanges = all_exchanges(out.upstream);
  std::map<std::string, UpstreamExchange> upstream;
  for (const auto& x : exchanges) upstream[x.request_id] = x;
  // Every request that reached routing (an upstream saw it) has a record:
  // exactly one, with the uniqueness check above.
  for (const auto& [id, x] : upstream) {
    current_request = id;
    if (!id.empty()) CHECK(by_id.count(id) == 1u);
  }
  current_request.clear();

  for (std::size_t i = 0; i < sc.requests.size(); ++i) {
    const auto& req = sc.requests[i];
    const auto& c = out.clients[i];
    current_request = c.request_id;
    const auto it = by_id.find(c.request_id);
    if (it == by_id.end()) continue;
    const shell::RequestRecord& rec = *it->second;
    const auto up = upstream.find(c.request_id);
    const bool client_sse = c.response.header("content-type").rfind("text/event-stream", 0) == 0;
    // The client went away, or a drain ended its connection (then the
    // gateway, not the upstream, cut the answer).
    const bool left = c.cancelled || ended_by_drain(sc, c, drain_of(sc, out, i));

    // Judged from bytes alone (the client's and the tap's), never from the
    // gateway's record: the record is only checked against them.
    const bool upstream_clean = up != upstream.end() && up->second.complete &&
                                up->second.body.find("[DONE]") != std::string::npos &&
                                stream_well_formed(up->second.body);
    // A broken stream never ends in [DONE].
    if (!upstream_clean) CHECK(c.response.body.find("data: [DONE]") == std::string::npos);
    if (rec.saw_done) CHECK(upstream_clean);

    // Nothing is retried after a byte reached the client: no attempt of this
    // request was sent after the client's first body byte arrived.
    if (!c.response.arrivals.empty()) {
      const TimePoint first_client_byte = c.response.arrivals.front().first;
      for (const auto& x : exchanges)
        if (x.request_id == c.request_id)
          CHECK_DETAIL(x.sent <= first_client_byte,
                       "an attempt was sent after the client had bytes of the answer");
    }

    // No upstream keeps generating after its client left: every attempt of
    // a request whose client went away ends within kCancelBound of the later
    // of the client leaving and the attempt being sent. Not when the client
    // had pipelined bytes behind its request: its leaving (a FIN after
    // them) shows only when the gateway next writes, as in any HTTP/1.1
    // server that does not read ahead; then the attempt only has to end.
    if (left) {
      for (const auto& x : exchanges) {
        if (x.request_id != c.request_id) continue;
        if (req.pipeline_partial) {
          CHECK(x.ended != TimePoint{});
          continue;
        }
        const TimePoint from = std::max(c.end, x.sent);
        CHECK_DETAIL(x.ended != TimePoint{} && x.ended <= from + kCancelBound,
                     "attempt still open " +
                         std::to_string((x.ended - from).count() / 1000000) +
                         "ms after the client left");
      }
    }

    // A truncated upstream stream (reset, cut, malformed) always shows a
    // client that stayed an error event, whatever the gateway recorded.
    const bool client_sse_200 = client_sse && c.response.status == 200;
    const bool upstream_broken =
        up != upstream.end() && up->second.event_stream && up->second.status == 200 &&
        (!up->second.complete || up->second.reset || !stream_well_formed(up->second.body));
    if (client_sse_200 && upstream_broken && !left)
      CHECK_DETAIL(c.response.body.find("data: {\"error\"") != std::string::npos,
                   "client got:\n" + c.response.body);

    // Client bytes equal upstream bytes.
    if (up != upstream.end() && c.response.status == up->second.status && c.response.status != 0) {
      const std::string expected = (client_sse && req.stream && !req.ask_usage)
                                       ? without_usage_events(up->second.body)
                                       : up->second.body;
      const std::string_view got = c.response.body;
      const bool upstream_whole = up->second.complete && !up->second.reset &&
                                  (!client_sse || stream_well_formed(up->second.body));
      if (upstream_whole && c.response.complete && !left) {
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
                             (left && kErr.substr(0, tail.size()) == tail);
        CHECK_DETAIL(tail_ok, "client got:\n" + std::string(got) + "\nupstream sent:\n" + expected);
        if (!upstream_whole && client_sse && !left)
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
  check_usage(sc, out, upstream, by_id, v);
  // No upstream connection outlives its request; no backend keeps generating.
  std::size_t open = 0;
  for (const auto& t : out.upstream) open += t.is_closed ? 0 : 1;
  CHECK(open == out.pool_idle);
  for (const auto& s : out.backend_stats) {
    CHECK(s.in_flight == 0u);
    CHECK(s.internal_errors == 0u);
  }
  if (sc.drain_at) check_drain(sc, out, v);
  return v;
}

// SIGTERM drain, judged from the clients' bytes and times (arrivals exactly
// at the drain's instant are left out: either order is right):
//   - a connection opened after the drain began is refused;
//   - a request that arrived before it gets its whole answer, unless the
//     drain deadline cut it (then it ends at the deadline, not earlier);
//   - an answer to a request that arrived after it says Connection: close,
//     and /ready then answers 503 (code server_shutting_down);
//   - the drain ends within a poll of its last connection closing, and by
//     its deadline; no session is left.
namespace {
void check_drain(const Scenario& sc, const SimOutcome& out, Violations& v) {
  std::string current_request;
  for (const auto& d : out.drains) {
    CHECK(d.started && d.finished);
    if (!d.finished) continue;
    CHECK(d.closed_all <= d.deadline + server::kDrainPollInterval);
    if (d.open_at_close > 0) CHECK(d.closed_all >= d.deadline);
  }
  CHECK(out.gateway_sessions_at_end == 0u);
  for (std::size_t i = 0; i < out.clients.size(); ++i) {
    const auto& c = out.clients[i];
    const auto& q = sc.requests[i];
    const DrainRecord* d = drain_of(sc, out, i);
    if (d == nullptr) continue;
    current_request = c.request_id;
    if (c.start + sc.latency > d->began)
      CHECK_DETAIL(!c.connected, "a connection opened after the drain began was accepted");
    if (!c.connected || c.cancelled) continue;
    const TimePoint arrived = request_arrival(sc, c);
    if (arrived < d->began) {
      const bool cut = d->open_at_close > 0 && c.end >= d->closed_all;
      CHECK_DETAIL(c.response.complete || cut,
                   "a request in flight when the drain began got no whole answer (status " +
                       std::to_string(c.response.status) + ")");
    } else if (arrived > d->began && c.response.status != 0) {
      CHECK_DETAIL(http_token_listed(c.response.header("connection"), "close"),
                   "an answer after the drain began without Connection: close");
      if (q.path == "/ready")
        CHECK_DETAIL(c.response.status == 503 &&
                         c.response.body.find("\"server_shutting_down\"") != std::string::npos,
                     "/ready during the drain answered " + std::to_string(c.response.status) +
                         " " + c.response.body);
    }
  }
}
}  // namespace

// Usage (#11 item 3): every request an upstream answered with 200 has one
// record (checked above) whose token counts are what the backend reported,
// or, for an event stream whose usage never reached the gateway (cut by a
// reset, a stall or a malformed event, or sent without it), the documented
// estimate; and the limiter was settled with that total. All of it judged
// from outside: the usage from the tap (what the gateway received) and the
// client's body (usage_oracle.h, Boost.JSON), cross-checked with the fake
// backend's own answer log; the limiter from the finishes its store was
// given (RecordingLimiterStore), never from the gateway's record.
namespace {

// The fake backend's account of a request's last attempt: attempts are
// sequential, so the one that arrived last. Null when no fake answered it.
const fake::AnswerLog* backend_answer(const SimOutcome& out, const std::string& id) {
  const fake::AnswerLog* last = nullptr;
  for (const auto& a : out.backend_answers)
    if (a.request_id == id && (last == nullptr || a.received >= last->received)) last = &a;
  return last;
}

// The usage the record must carry, or none when the run does not fix it (a
// JSON answer that did not arrive whole, a client that left before the
// status line).
std::optional<ExpectedUsage> expected_usage(const ClientRequest& req, std::size_t i,
                                            const UpstreamExchange& x, const ClientResult& c,
                                            bool left) {
  if (x.status != 200) return std::nullopt;
  if (x.event_stream) {
    if (c.response.status != 200 && left) return std::nullopt;
    return expected_stream_usage(x.body, request_body(req, i));
  }
  if (!x.complete || x.reset || left) return std::nullopt;
  const auto [prompt, completion] = reported_usage(x.body);
  if (prompt < 0) return std::nullopt;
  return ExpectedUsage{prompt, completion, false};
}

std::string usage_text(std::int64_t prompt, std::int64_t completion, bool estimated) {
  return std::to_string(prompt) + "+" + std::to_string(completion) + (estimated ? " (estimated)" : "");
}

// The limiter settled every judged request with its total: finishes carry
// no request id, so the totals expected must be contained (as a multiset)
// in the actual_tokens the store was given. Only when every worker had a
// limiter (a reload may add or drop rate limits).
void check_limiter_settled(const SimOutcome& out, const std::vector<std::int64_t>& totals,
                           Violations& v) {
  const std::string current_request;
  if (out.workers_limited == 0 || out.workers_unlimited != 0) return;
  std::map<std::int64_t, std::size_t> given;
  for (const auto& f : out.limiter_finishes) ++given[f.actual_tokens];
  for (const std::int64_t t : totals) {
    auto& left_to_match = given[t];
    const bool limiter_settled_with_the_expected_total = left_to_match > 0;
    CHECK_DETAIL(limiter_settled_with_the_expected_total,
                 "no limiter finish settled " + std::to_string(t) + " tokens (" +
                     std::to_string(out.limiter_finishes.size()) + " finishes)");
    if (left_to_match > 0) --left_to_match;
  }
}

void check_usage(const Scenario& sc, const SimOutcome& out,
                 const std::map<std::string, UpstreamExchange>& upstream,
                 const std::map<std::string, const shell::RequestRecord*>& by_id, Violations& v) {
  std::string current_request;
  std::vector<std::int64_t> totals;  // what the limiter must have been given
  for (std::size_t i = 0; i < sc.requests.size(); ++i) {
    const auto& c = out.clients[i];
    current_request = c.request_id;
    const auto rec_it = by_id.find(c.request_id);
    const auto up = upstream.find(c.request_id);
    if (rec_it == by_id.end() || up == upstream.end()) continue;
    const bool left = c.cancelled || ended_by_drain(sc, c, drain_of(sc, out, i));
    const auto want = expected_usage(sc.requests[i], i, up->second, c, left);
    if (!want) continue;
    const shell::RequestRecord& rec = *rec_it->second;
    const fake::AnswerLog* said = backend_answer(out, c.request_id);
    const bool backend_logged_the_answer = said != nullptr;  // every fake logs its answers
    CHECK(backend_logged_the_answer);
    if (said != nullptr && !want->estimated) {
      // The tap's usage is what the backend says it reported.
      CHECK_DETAIL(said->usage_sent && said->prompt_tokens == want->prompt &&
                       said->completion_tokens == want->completion,
                   "tap has " + usage_text(want->prompt, want->completion, false) +
                       ", backend logged " +
                       (said->usage_sent ? usage_text(said->prompt_tokens, said->completion_tokens, false)
                                         : std::string("no usage")));
    } else if (said != nullptr) {
      // No output event counted that the backend did not write.
      CHECK(want->completion <= static_cast<std::int64_t>(said->token_events));
    }
    CHECK_DETAIL(rec.prompt_tokens == want->prompt && rec.completion_tokens == want->completion &&
                     rec.usage_estimated == want->estimated,
                 std::string(want->estimated ? "estimate " : "backend reported ") +
                     usage_text(want->prompt, want->completion, false) + ", record has " +
                     usage_text(rec.prompt_tokens, rec.completion_tokens, rec.usage_estimated));
    CHECK(rec.total_tokens == rec.prompt_tokens + rec.completion_tokens);
    totals.push_back(want->prompt + want->completion);
  }
  check_limiter_settled(out, totals, v);
}

}  // namespace

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
