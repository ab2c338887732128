#include "sim/event_log.h"

#include <cinttypes>
#include <cstdio>

#include "proxy/core/util/fnv1a.h"
#include "sim/world.h"

namespace llmproxy::sim {

std::string hex64(std::uint64_t value) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, value);
  return buf;
}

std::string EventLog::render(const LogRecord& r) {
  const std::int64_t ns = r.at.time_since_epoch().count();
  char stamp[48];
  std::snprintf(stamp, sizeof stamp, "%" PRId64 ".%09" PRId64, ns / 1'000'000'000,
                ns % 1'000'000'000);
  std::string line;
  line.reserve(32 + r.host.size() + r.kind.size() + r.detail.size());
  line += stamp;
  line += ' ';
  line += r.host;
  line += ' ';
  line += r.kind;
  if (!r.detail.empty()) {
    line += ' ';
    line += r.detail;
  }
  line += '\n';
  return line;
}

void EventLog::add(TimePoint at, std::string_view host, std::string_view kind,
                   std::string detail) {
  LogRecord record{at, std::string(host), std::string(kind), std::move(detail)};
  hash_ = util::fnv1a(render(record), hash_);
  ++count_;
  if (keep_records_) records_.push_back(std::move(record));
}

std::string EventLog::render() const {
  std::string out;
  for (const auto& r : records_) out += render(r);
  return out;
}

std::string DeterminismReport::describe() const {
  if (deterministic) {
    return "deterministic: " + std::to_string(records_first) + " events, hash " +
           hex64(hash_first);
  }
  std::string out = "NOT deterministic: hashes " + hex64(hash_first) + " vs " +
                    hex64(hash_second) + ", " + std::to_string(records_first) + " vs " +
                    std::to_string(records_second) + " events\n";
  if (first_divergence) {
    out += "first divergent event #" + std::to_string(*first_divergence) + ":\n";
    out += "  run 1: " + line_first;
    out += "  run 2: " + line_second;
  }
  return out;
}

DeterminismReport check_determinism(const WorldOptions& options,
                                    const std::function<void(World&)>& scenario) {
  WorldOptions keep = options;
  keep.keep_log_records = true;
  World first(keep);
  scenario(first);
  World second(keep);
  scenario(second);

  const EventLog& a = first.log();
  const EventLog& b = second.log();
  DeterminismReport report;
  report.hash_first = a.hash();
  report.hash_second = b.hash();
  report.records_first = a.size();
  report.records_second = b.size();
  report.deterministic = a.hash() == b.hash() && a.size() == b.size();
  if (report.deterministic) return report;

  const auto& ra = a.records();
  const auto& rb = b.records();
  const std::size_t n = std::max(ra.size(), rb.size());
  for (std::size_t i = 0; i < n; ++i) {
    std::string la = i < ra.size() ? EventLog::render(ra[i]) : "<end of log>\n";
    std::string lb = i < rb.size() ? EventLog::render(rb[i]) : "<end of log>\n";
    if (la != lb) {
      report.first_divergence = i;
      report.line_first = std::move(la);
      report.line_second = std::move(lb);
      break;
    }
  }
  return report;
}

}  // namespace llmproxy::sim
