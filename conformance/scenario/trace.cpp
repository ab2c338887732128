#include "conformance/scenario/trace.h"

#include <cstdio>

#include "conformance/harness/upstream_transcript.h"

namespace llmproxy::conform {
namespace {

std::string at(const harness::SimOutcome& out, TimePoint t, bool always = false) {
  if (t == TimePoint{} && !always) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3fs", std::chrono::duration<double>(t - out.started).count());
  return buf;
}

}  // namespace

std::string attempt_trace(const harness::Scenario& sc, const harness::SimOutcome& out,
                          const std::string& request_id) {
  std::string s;
  char line[512];
  for (std::size_t i = 0; i < out.clients.size(); ++i) {
    const auto& c = out.clients[i];
    if (c.request_id != request_id) continue;
    const auto& q = sc.requests[i];
    std::snprintf(line, sizeof line,
                  "  client:  %s %s%s%s, started %s, ended %s, status %d, %zu body bytes%s%s\n",
                  q.path.c_str(), q.stream ? "stream" : "non-stream", q.fault.empty() ? "" : ", x-fake-fault: ",
                  q.fault.c_str(), at(out, c.start, true).c_str(), at(out, c.end, true).c_str(), c.response.status,
                  c.response.body.size(), c.cancelled ? ", gave up" : "",
                  c.response.complete ? "" : ", incomplete");
    s += line;
  }
  for (const auto& r : out.records) {
    if (r.request_id != request_id) continue;
    std::snprintf(line, sizeof line,
                  "  gateway: %s, status %d%s%s, %u attempt(s), last on %s, ended %s%s\n",
                  shell::outcome_name(r.outcome), r.status, r.error_code.empty() ? "" : ", error ",
                  r.error_code.c_str(), r.attempts, r.backend.empty() ? "-" : r.backend.c_str(),
                  at(out, r.end).c_str(), r.saw_done ? ", [DONE] relayed" : "");
    s += line;
  }
  int k = 0;
  for (const auto& x : harness::all_exchanges(out.upstream)) {
    if (x.request_id != request_id) continue;
    std::string backend = x.peer;
    for (const auto& b : out.backends)
      if (b.host + ":" + std::to_string(b.port) == x.peer) {
        backend = b.name + " (" + x.peer + ")";
        break;
      }
    std::string how = x.complete ? "complete" : x.reset ? "reset" : x.status ? "cut" : "no answer";
    if (!x.retry_after.empty()) how += ", Retry-After: " + x.retry_after;
    std::snprintf(line, sizeof line,
                  "  attempt %d: %s, sent %s, first byte %s, ended %s, status %d, %zu body bytes, %s\n", ++k,
                  backend.c_str(), at(out, x.sent).c_str(), at(out, x.first_byte).c_str(),
                  at(out, x.ended).c_str(), x.status, x.body.size(), how.c_str());
    s += line;
  }
  if (k == 0) s += "  (no upstream exchange was tapped for it)\n";
  return s;
}

}  // namespace llmproxy::conform
