#include "conformance/scenario/report.h"

#include <algorithm>
#include <cstdio>
#include <set>

namespace llmproxy::conform {
namespace {

std::string seconds(Duration d) {
  if (d == Duration::max()) return "never";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3fs", std::chrono::duration<double>(d).count());
  return buf;
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string xml_escape(std::string_view in) {
  std::string out;
  for (const char c : in) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 has no other control characters than tab, LF and CR.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') out += '?';
        else out += c;
    }
  }
  return out;
}

std::string one_line(const Failure& f) {
  std::string s = f.check;
  if (!f.request_id.empty()) s += " [" + f.request_id + "]";
  return s;
}

std::string describe_failures(const CaseResult& c) {
  std::string s;
  for (const auto& f : c.failures) {
    s += "  failed: " + one_line(f) + "\n";
    if (!f.detail.empty()) s += "    " + f.detail + "\n";
  }
  return s;
}

}  // namespace

bool ScenarioRuns::passed() const { return first_failure() == nullptr; }

const CaseResult* ScenarioRuns::first_failure() const {
  for (const auto& c : cases)
    if (!c.passed()) return &c;
  return nullptr;
}

RunMetrics ScenarioRuns::total() const {
  RunMetrics m;
  for (const auto& c : cases) m.add(c.metrics);
  return m;
}

std::string format_table(const std::vector<ScenarioRuns>& runs) {
  std::size_t w = 8;
  for (const auto& r : runs) w = std::max(w, r.name.size());
  std::string s = pad("scenario", w) + "  seeds  requests  result  first failure\n";
  for (const auto& r : runs) {
    const CaseResult* f = r.first_failure();
    std::size_t failed = 0;
    for (const auto& c : r.cases) failed += c.passed() ? 0 : 1;
    char mid[64];
    std::snprintf(mid, sizeof mid, "  %5zu  %8zu  %-6s  ", r.cases.size(), r.total().requests,
                  f ? "FAIL" : "pass");
    std::string first;
    if (f) {
      first = "seed " + std::to_string(f->seed) + ": " + one_line(f->failures.front());
      if (failed > 1) first += " (" + std::to_string(failed) + " seeds failed)";
    }
    s += pad(r.name, w) + mid + first + "\n";
  }
  return s;
}

std::string format_failure(const ScenarioRuns& runs) {
  const CaseResult* c = runs.first_failure();
  if (!c) return {};
  std::string s = "FAIL " + runs.name + " (" + runs.path + "), seed " + std::to_string(c->seed) + ":\n";
  s += describe_failures(*c);
  if (!c->trace.empty()) {
    std::string id;
    for (const auto& f : c->failures)
      if (!f.request_id.empty()) {
        id = f.request_id;
        break;
      }
    s += "  trace of " + id + ":\n" + c->trace;
  }
  if (runs.replay) s += "  replay: " + runs.replay(c->seed) + "\n";
  return s;
}

std::string junit_xml(const std::vector<ScenarioRuns>& runs, const std::string& suite_name) {
  std::size_t tests = 0, failures = 0;
  for (const auto& r : runs)
    for (const auto& c : r.cases) {
      ++tests;
      failures += c.passed() ? 0 : 1;
    }
  std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s += "<testsuites tests=\"" + std::to_string(tests) + "\" failures=\"" + std::to_string(failures) + "\">\n";
  for (const auto& r : runs) {
    std::size_t f = 0;
    for (const auto& c : r.cases) f += c.passed() ? 0 : 1;
    s += "  <testsuite name=\"" + xml_escape(suite_name + "." + r.name) + "\" tests=\"" +
         std::to_string(r.cases.size()) + "\" failures=\"" + std::to_string(f) + "\" errors=\"0\">\n";
    for (const auto& c : r.cases) {
      s += "    <testcase classname=\"" + xml_escape(suite_name + "." + r.name) + "\" name=\"seed " +
           std::to_string(c.seed) + "\" time=\"0\"";
      if (c.passed()) {
        s += "/>\n";
        continue;
      }
      std::string body = describe_failures(c);
      if (!c.trace.empty()) body += "  trace:\n" + c.trace;
      if (r.replay) body += "  replay: " + r.replay(c.seed) + "\n";
      s += ">\n      <failure message=\"" + xml_escape(one_line(c.failures.front())) + "\">" + xml_escape(body) +
           "</failure>\n    </testcase>\n";
    }
    s += "  </testsuite>\n";
  }
  s += "</testsuites>\n";
  return s;
}

std::string baseline_diff(const std::vector<ScenarioRuns>& baseline, const std::vector<ScenarioRuns>& current,
                          const std::string& baseline_config, const std::string& current_config) {
  std::string s = "behaviour: baseline " + baseline_config + " -> " + current_config + "\n";
  auto row = [&](const std::string& what, const std::string& a, const std::string& b) {
    s += "  " + pad(what, 26) + pad(a, 14) + " -> " + b + (a == b ? "" : "   *") + "\n";
  };
  auto opt = [](const std::optional<Duration>& d) { return d ? seconds(*d) : std::string("-"); };
  auto pct = [](double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f%%", 100 * x);
    return std::string(buf);
  };
  auto share = [&](const RunMetrics& m, const std::string& b) {
    const auto it = m.served_by.find(b);
    return pct(m.ok ? static_cast<double>(it == m.served_by.end() ? 0 : it->second) / static_cast<double>(m.ok) : 0);
  };
  for (const auto& cur : current) {
    const auto old = std::find_if(baseline.begin(), baseline.end(),
                                  [&](const ScenarioRuns& r) { return r.path == cur.path; });
    if (old == baseline.end()) continue;
    const RunMetrics a = old->total();
    const RunMetrics b = cur.total();
    s += cur.name + " (" + std::to_string(cur.cases.size()) + " seeds, " + std::to_string(b.requests) +
         " requests):\n";
    row("result", old->passed() ? "pass" : "FAIL", cur.passed() ? "pass" : "FAIL");
    row("error rate", pct(a.error_rate()), pct(b.error_rate()));
    std::set<std::string> names;
    for (const auto& [n, k] : a.served_by) names.insert(n);
    for (const auto& [n, k] : b.served_by) names.insert(n);
    for (const auto& n : names) row("share " + (n.empty() ? std::string("(none)") : n), share(a, n), share(b, n));
    row("failover time (worst)", opt(a.failover), opt(b.failover));
    row("recovery time (worst)", opt(a.recovery), opt(b.recovery));
    auto count429 = [](const RunMetrics& m) {
      const auto it = m.status.find(429);
      return std::to_string(it == m.status.end() ? 0 : it->second);
    };
    row("429 to clients", count429(a), count429(b));
    row("429 from backends", std::to_string(a.upstream_429), std::to_string(b.upstream_429));
    row("max attempts per request", std::to_string(a.max_attempts), std::to_string(b.max_attempts));
    row("p50 latency", seconds(a.p50), seconds(b.p50));
    row("p99 latency", seconds(a.p99), seconds(b.p99));
  }
  return s;
}

}  // namespace llmproxy::conform
