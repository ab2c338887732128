#include "conformance/scenario/scenario_file.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <sstream>

namespace llmproxy::conform {
namespace {

using namespace std::chrono_literals;

// Reads one file's nodes, collecting "file:line: message" errors; a failed
// read leaves the target at its default and the load fails at the end.
class Reader {
 public:
  Reader(std::string file, std::vector<std::string>& errors) : file_(std::move(file)), errors_(errors) {}

  bool failed() const { return failed_; }

  void error(const YAML::Node& at, const std::string& message) {
    failed_ = true;
    errors_.push_back(file_ + ":" + std::to_string(at.Mark().line + 1) + ": " + message);
  }

  // Calls fn(key, value) for every entry of a map; keys outside `known` are
  // errors.
  void map(const YAML::Node& n, const std::string& what, std::initializer_list<std::string_view> known,
           const std::function<void(const std::string&, const YAML::Node&)>& fn) {
    if (!n.IsMap()) return error(n, what + " must be a map");
    std::vector<std::string> seen;
    for (const auto& kv : n) {
      if (!new_key(kv.first, what, seen)) continue;
      const std::string& key = kv.first.Scalar();
      bool ok = false;
      for (auto k : known) ok = ok || k == key;
      if (!ok) {
        std::string list;
        for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        error(kv.first, "unknown key '" + key + "' in " + what + " (known: " + list + ")");
        continue;
      }
      fn(key, kv.second);
    }
  }
  // Calls fn(key, value) for every entry of a map with free keys.
  void entries(const YAML::Node& n, const std::string& what,
               const std::function<void(const std::string&, const YAML::Node&)>& fn) {
    if (!n.IsMap()) return error(n, what + " must be a map");
    std::vector<std::string> seen;
    for (const auto& kv : n)
      if (new_key(kv.first, what, seen)) fn(kv.first.Scalar(), kv.second);
  }

  // YAML parsers (yaml-cpp included) keep every copy of a repeated key, so
  // without this check a second `expect:` or `seeds:` would silently merge
  // with or override the first, and a scenario could check less than it says.
  // A non-scalar key would read as "".
  bool new_key(const YAML::Node& key, const std::string& what, std::vector<std::string>& seen) {
    if (!key.IsScalar()) {
      error(key, what + ": keys must be plain names");
      return false;
    }
    for (const auto& s : seen)
      if (s == key.Scalar()) {
        error(key, "duplicate key '" + s + "' in " + what);
        return false;
      }
    seen.push_back(key.Scalar());
    return true;
  }

  std::string text(const YAML::Node& n, const std::string& what) {
    if (!n.IsScalar()) {
      error(n, what + " must be a string");
      return {};
    }
    return n.Scalar();
  }
  template <class T>
  T integer(const YAML::Node& n, const std::string& what, T lo, T hi) {
    const std::string s = n.IsScalar() ? n.Scalar() : std::string();
    T v{};
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || v < lo || v > hi) {
      error(n, what + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
      return lo;
    }
    return v;
  }
  double number(const YAML::Node& n, const std::string& what, double lo, double hi) {
    const std::string s = n.IsScalar() ? n.Scalar() : std::string();
    char* end = nullptr;
    const double v = s.empty() ? 0 : std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !(v >= lo && v <= hi)) {
      std::ostringstream os;
      os << what << " must be a number in [" << lo << ", " << hi << "]";
      error(n, os.str());
      return lo;
    }
    return v;
  }
  bool boolean(const YAML::Node& n, const std::string& what) {
    const std::string s = n.IsScalar() ? n.Scalar() : std::string();
    if (s == "true") return true;
    if (s != "false") error(n, what + " must be true or false");
    return false;
  }
  Duration duration(const YAML::Node& n, const std::string& what) {
    const std::string s = n.IsScalar() ? n.Scalar() : std::string();
    const auto d = fake::parse_duration(s);
    if (!d) {
      error(n, what + " must be a duration such as 250ms, 2s, 1m");
      return Duration{0};
    }
    return *d;
  }
  Bound bound(const YAML::Node& n, const std::string& what) {
    Bound b;
    std::string s = n.IsScalar() ? n.Scalar() : std::string();
    b.text = s;
    std::size_t i = 0;
    while (i < s.size() && s[i] == ' ') ++i;
    static constexpr std::pair<std::string_view, Bound::Op> kOps[] = {
        {"==", Bound::Op::eq}, {"!=", Bound::Op::ne}, {"<=", Bound::Op::le},
        {">=", Bound::Op::ge}, {"<", Bound::Op::lt},  {">", Bound::Op::gt}};
    for (const auto& [t, op] : kOps) {
      if (s.compare(i, t.size(), t) == 0) {
        b.op = op;
        i += t.size();
        break;
      }
    }
    while (i < s.size() && s[i] == ' ') ++i;
    std::string num = s.substr(i);
    bool percent = !num.empty() && num.back() == '%';
    if (percent) num.pop_back();
    char* end = nullptr;
    b.value = num.empty() ? 0 : std::strtod(num.c_str(), &end);
    b.ratio = percent || num.find('.') != std::string::npos;
    if (percent) b.value /= 100;
    if (num.empty() || end != num.c_str() + num.size() || b.value < 0 || (b.ratio && b.value > 1)) {
      error(n, what + ": '" + s +
                   "' is not a bound (an integer count or a ratio such as 0.99 or 99%, "
                   "optionally after ==, !=, <, <=, >, >=)");
    }
    return b;
  }

 private:
  std::string file_;
  std::vector<std::string>& errors_;
  bool failed_ = false;
};

void read_profile(Reader& r, const YAML::Node& n, const std::string& what, fake::Profile& p) {
  r.map(n, what, {"ttft", "itl", "output_tokens", "max_concurrency", "models", "idle_timeout"},
        [&](const std::string& k, const YAML::Node& v) {
          if (k == "ttft") p.ttft = r.duration(v, what + ".ttft");
          if (k == "itl") p.itl = r.duration(v, what + ".itl");
          if (k == "output_tokens")
            p.output_tokens = r.integer<std::uint32_t>(v, what + ".output_tokens", 1, 100000);
          if (k == "max_concurrency")
            p.max_concurrency = r.integer<std::uint32_t>(v, what + ".max_concurrency", 0, 100000);
          if (k == "idle_timeout") p.idle_timeout = r.duration(v, what + ".idle_timeout");
          if (k == "models") {
            p.models.clear();
            if (!v.IsSequence()) return r.error(v, what + ".models must be a list");
            for (const auto& m : v) p.models.push_back(r.text(m, what + ".models[]"));
          }
        });
}

// A timeline entry: a map {from, to, fault}, or a bare spec (the whole run)
// which, where `bare_window`, may carry from= and to= itself (the form
// fake::print_fault_window writes, as kept cases do).
void read_fault(Reader& r, const YAML::Node& n, const std::string& what, fake::FaultWindow& w,
                bool bare_window) {
  auto spec = [&](const YAML::Node& v) {
    std::string err;
    const std::string text = r.text(v, what + ".fault");
    if (!fake::parse_fault_spec(text, w.spec, err)) r.error(v, what + ".fault: " + err);
  };
  if (n.IsScalar() && bare_window) {
    std::string err;
    if (!fake::parse_fault_window(r.text(n, what), w, err)) r.error(n, what + ": " + err);
    return;
  }
  if (n.IsScalar()) return spec(n);
  r.map(n, what, {"from", "to", "fault"}, [&](const std::string& k, const YAML::Node& v) {
    if (k == "from") w.from = r.duration(v, what + ".from");
    if (k == "to") w.to = r.duration(v, what + ".to");
    if (k == "fault") spec(v);
  });
  if (!n["fault"]) r.error(n, what + " needs a fault");
  if (w.to <= w.from) r.error(n, what + ": 'to' must be after 'from'");
}

void read_backend(Reader& r, const std::string& key, const YAML::Node& n, const fake::Profile& base,
                  BackendBehaviour& b) {
  b.key = key;
  b.line = n.Mark().line + 1;
  b.profile = base;
  const std::string what = "backends." + key;
  if (n.IsNull()) return;
  r.map(n, what, {"profile", "faults", "request_fault"}, [&](const std::string& k, const YAML::Node& v) {
    if (k == "profile") read_profile(r, v, what + ".profile", b.profile);
    if (k == "faults") {
      if (!v.IsSequence()) return r.error(v, what + ".faults must be a list");
      for (const auto& f : v) {
        fake::FaultWindow w;
        read_fault(r, f, what + ".faults[]", w, /*bare_window=*/true);
        b.faults.push_back(std::move(w));
      }
    }
    if (k == "request_fault") {  // every request this backend gets, the whole run
      fake::FaultWindow w;
      read_fault(r, v, what + ".request_fault", w, /*bare_window=*/false);
      b.faults.push_back(std::move(w));
    }
  });
}

// A header line a client may send: a token name, a colon, no line breaks.
bool header_line_ok(const std::string& h) {
  const auto colon = h.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  for (std::size_t i = 0; i < colon; ++i) {
    const auto c = static_cast<unsigned char>(h[i]);
    if (!std::isalnum(c) && std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos)
      return false;
  }
  return h.find_first_of("\r\n") == std::string::npos;
}

// The fields of one request that are not about timing or faults.
void read_request_shape(Reader& r, const std::string& k, const YAML::Node& x, OneRequest& q) {
  const std::string what = "workload.each[]." + k;
  if (k == "method") {
    q.method = r.text(x, what);
    if (q.method != "GET" && q.method != "POST") r.error(x, what + " must be GET or POST");
  }
  if (k == "path") {
    q.path = r.text(x, what);
    if (q.path->empty() || q.path->front() != '/' || q.path->find_first_of(" \r\n") != std::string::npos)
      r.error(x, what + " must start with / and hold no spaces or line breaks");
  }
  if (k == "model") q.model = r.text(x, what);
  if (k == "max_tokens") q.max_tokens = r.integer<std::uint32_t>(x, what, 0, 1000000);
  if (k == "headers") {
    if (!x.IsSequence()) return r.error(x, what + " must be a list of \"Name: value\" lines");
    for (const auto& h : x) {
      q.headers.push_back(r.text(h, what + "[]"));
      if (!header_line_ok(q.headers.back()))
        r.error(h, what + "[]: '" + q.headers.back() + "' is not a header line (Name: value)");
    }
  }
  if (k == "split_at") q.split_at = r.integer<std::size_t>(x, what, 0, 1u << 20);
  if (k == "split_pause") q.split_pause = r.duration(x, what);
  if (k == "pipeline_partial") q.pipeline_partial = r.boolean(x, what);
}

void read_one_request(Reader& r, const YAML::Node& item, OneRequest& q) {
  r.map(item, "workload.each[]",
        {"at", "stream", "include_usage", "prompt_words", "fault", "cancel_after",
         "cancel_after_bytes", "method", "path", "model", "max_tokens", "headers", "split_at",
         "split_pause", "pipeline_partial"},
        [&](const std::string& k, const YAML::Node& x) {
          if (k == "at") q.at = r.duration(x, "workload.each[].at");
          if (k == "stream") q.stream = r.boolean(x, "workload.each[].stream");
          if (k == "include_usage") q.include_usage = r.boolean(x, "workload.each[].include_usage");
          if (k == "prompt_words")
            q.prompt_words = r.integer<int>(x, "workload.each[].prompt_words", 1, 100000);
          if (k == "fault") {
            q.fault = r.text(x, "workload.each[].fault");
            fake::FaultSpec spec;
            std::string err;
            if (!fake::parse_fault_spec(q.fault, spec, err))
              r.error(x, "workload.each[].fault: " + err);
          }
          if (k == "cancel_after") q.cancel_after = r.duration(x, "workload.each[].cancel_after");
          if (k == "cancel_after_bytes")
            q.cancel_after_bytes =
                r.integer<std::size_t>(x, "workload.each[].cancel_after_bytes", 1, 1u << 30);
          read_request_shape(r, k, x, q);
        });
  if (!item.IsMap()) return;
  if (item["split_pause"] && !q.split_at) r.error(item, "workload.each[]: split_pause needs split_at");
  if (q.split_at && q.pipeline_partial)
    r.error(item, "workload.each[]: give split_at or pipeline_partial, not both");
}

// workload.each: the requests one by one.
void read_each(Reader& r, const YAML::Node& v, Workload& w) {
  if (!v.IsSequence() || v.size() == 0) return r.error(v, "workload.each must be a non-empty list");
  for (const auto& item : v) {
    OneRequest q;
    read_one_request(r, item, q);
    w.each.push_back(std::move(q));
  }
}

void read_workload(Reader& r, const YAML::Node& n, Workload& w) {
  std::optional<std::size_t> requests;
  std::optional<Duration> duration;
  std::optional<double> rate;
  std::optional<Duration> interval;
  r.map(n, "workload",
        {"requests", "duration", "rate", "interval", "start", "stream", "include_usage", "model",
         "max_tokens", "prompt_words", "path", "api_keys", "fault", "cancel", "cancel_after",
         "cancel_after_bytes", "slow_read", "client_timeout", "each"},
        [&](const std::string& k, const YAML::Node& v) {
          if (k == "each") return read_each(r, v, w);
          if (k == "requests") requests = r.integer<std::size_t>(v, "workload.requests", 1, 100000);
          if (k == "duration") duration = r.duration(v, "workload.duration");
          if (k == "rate") rate = r.number(v, "workload.rate (requests per second)", 0.001, 1e6);
          if (k == "interval") interval = r.duration(v, "workload.interval");
          if (k == "start") w.start = r.duration(v, "workload.start");
          if (k == "stream") {
            const std::string s = v.IsScalar() ? v.Scalar() : "";
            w.stream = s == "true" ? 1.0 : s == "false" ? 0.0 : r.number(v, "workload.stream", 0, 1);
          }
          if (k == "include_usage") w.include_usage = r.boolean(v, "workload.include_usage");
          if (k == "model") w.model = r.text(v, "workload.model");
          if (k == "max_tokens") w.max_tokens = r.integer<std::uint32_t>(v, "workload.max_tokens", 0, 1000000);
          if (k == "prompt_words") w.prompt_words = r.integer<int>(v, "workload.prompt_words", 1, 100000);
          if (k == "path") {
            w.path = r.text(v, "workload.path");
            if (w.path != "/v1/chat/completions" && w.path != "/v1/completions" && w.path != "/v1/embeddings")
              r.error(v, "workload.path must be /v1/chat/completions, /v1/completions or /v1/embeddings");
          }
          if (k == "api_keys") {
            if (!v.IsSequence()) return r.error(v, "workload.api_keys must be a list");
            for (const auto& key : v) w.api_keys.push_back(r.text(key, "workload.api_keys[]"));
          }
          if (k == "fault") {
            w.fault = r.text(v, "workload.fault");
            fake::FaultSpec spec;
            std::string err;
            if (!fake::parse_fault_spec(w.fault, spec, err)) r.error(v, "workload.fault: " + err);
          }
          if (k == "cancel") w.cancel = r.number(v, "workload.cancel", 0, 1);
          if (k == "cancel_after") w.cancel_after = r.duration(v, "workload.cancel_after");
          if (k == "cancel_after_bytes")
            w.cancel_after_bytes = r.integer<std::size_t>(v, "workload.cancel_after_bytes", 1, 1u << 30);
          if (k == "slow_read") {
            r.map(v, "workload.slow_read", {"bytes", "pause"}, [&](const std::string& sk, const YAML::Node& sv) {
              if (sk == "bytes") w.slow_read_bytes = r.integer<std::size_t>(sv, "workload.slow_read.bytes", 1, 1u << 20);
              if (sk == "pause") w.slow_read_pause = r.duration(sv, "workload.slow_read.pause");
            });
            if (w.slow_read_bytes == 0) r.error(v, "workload.slow_read needs bytes");
          }
          if (k == "client_timeout") w.client_timeout = r.duration(v, "workload.client_timeout");
        });
  if (rate && interval) r.error(n, "workload: give rate or interval, not both");
  if (rate) interval = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(1.0 / *rate));
  if (interval) w.interval = *interval;
  if (requests && duration) r.error(n, "workload: give requests or duration, not both");
  if (!w.each.empty() && (requests || duration || rate || interval))
    r.error(n, "workload: each lists the requests; give no requests, duration, rate or interval");
  if (duration) {
    if (w.interval.count() <= 0) r.error(n, "workload: duration needs a positive rate or interval");
    else w.requests = static_cast<std::size_t>(*duration / w.interval);
  }
  if (requests) w.requests = *requests;
  if (w.cancel > 0 && !w.cancel_after && !w.cancel_after_bytes)
    r.error(n, "workload: cancel needs cancel_after or cancel_after_bytes");
  if (w.cancel == 0 && (w.cancel_after || w.cancel_after_bytes)) w.cancel = 1;
}

void read_expect(Reader& r, const YAML::Node& n, Expectations& e) {
  e.line = n.Mark().line + 1;
  r.map(n, "expect",
        {"status", "error_codes", "outcomes", "attempts_per_request_max", "attempts_per_request_min",
         "backend_share", "share_tolerance", "upstream_requests_max", "max_latency", "p99_latency",
         "p50_latency", "failover_within", "recovers_within", "retry_after_honoured", "jittered_retries",
         "no_done_on_truncated"},
        [&](const std::string& k, const YAML::Node& v) {
          if (k == "status") {
            r.entries(v, "expect.status", [&](const std::string& code, const YAML::Node& b) {
              const bool ok = code == "other" ||
                              (code.size() == 3 && code[0] >= '1' && code[0] <= '5' &&
                               ((code[1] == 'x' && code[2] == 'x') ||
                                (std::isdigit(static_cast<unsigned char>(code[1])) &&
                                 std::isdigit(static_cast<unsigned char>(code[2])))));
              if (!ok) r.error(b, "expect.status: '" + code + "' is not a status (200, 5xx or other)");
              e.status[code] = r.bound(b, "expect.status." + code);
            });
          }
          if (k == "error_codes")
            r.entries(v, "expect.error_codes", [&](const std::string& code, const YAML::Node& b) {
              e.error_codes[code] = r.bound(b, "expect.error_codes." + code);
            });
          if (k == "outcomes")
            r.entries(v, "expect.outcomes", [&](const std::string& o, const YAML::Node& b) {
              if (o != "completed" && o != "error" && o != "rejected" && o != "client_cancel")
                r.error(b, "expect.outcomes: '" + o + "' is not completed, error, rejected or client_cancel");
              e.outcomes[o] = r.bound(b, "expect.outcomes." + o);
            });
          if (k == "attempts_per_request_max")
            e.attempts_per_request_max = r.integer<std::uint32_t>(v, "expect." + k, 0, 1000);
          if (k == "attempts_per_request_min")
            e.attempts_per_request_min = r.integer<std::uint32_t>(v, "expect." + k, 0, 1000);
          if (k == "backend_share")
            r.entries(v, "expect.backend_share", [&](const std::string& b, const YAML::Node& s) {
              e.backend_share[b] = r.number(s, "expect.backend_share." + b, 0, 1);
            });
          if (k == "share_tolerance") e.share_tolerance = r.number(v, "expect.share_tolerance", 0, 1);
          if (k == "upstream_requests_max")
            r.entries(v, "expect.upstream_requests_max", [&](const std::string& b, const YAML::Node& s) {
              e.upstream_requests_max[b] = r.integer<std::uint64_t>(s, "expect.upstream_requests_max." + b, 0, 1u << 30);
            });
          if (k == "max_latency") e.max_latency = r.duration(v, "expect.max_latency");
          if (k == "p99_latency") e.p99_latency = r.duration(v, "expect.p99_latency");
          if (k == "p50_latency") e.p50_latency = r.duration(v, "expect.p50_latency");
          if (k == "failover_within") e.failover_within = r.duration(v, "expect.failover_within");
          if (k == "recovers_within") e.recovers_within = r.duration(v, "expect.recovers_within");
          if (k == "retry_after_honoured") e.retry_after_honoured = r.boolean(v, "expect." + k);
          if (k == "jittered_retries") e.jittered_retries = r.boolean(v, "expect." + k);
          // Always checked (an invariant of every run); accepted for clarity.
          if (k == "no_done_on_truncated" && !r.boolean(v, "expect." + k))
            r.error(v, "expect.no_done_on_truncated cannot be turned off (it is an invariant)");
        });
}

// A path written in the scenario file at `scenario`, relative to its folder.
std::string beside(const std::string& scenario, const std::string& p) {
  const auto dir = std::filesystem::path(scenario).parent_path();
  if (p.empty() || !std::filesystem::path(p).is_relative() || dir.empty()) return p;
  return (dir / p).lexically_normal().string();
}

// The keys about the gateway process and its signals: workers, gateways,
// drain, reload, shared_limiter.
void read_process(Reader& r, const std::string& k, const YAML::Node& v, ScenarioFile& f) {
  if (k == "workers") f.workers = r.integer<int>(v, "workers", 1, 64);
  if (k == "gateways") f.gateways = r.integer<int>(v, "gateways", 1, 16);
  if (k == "drain") {
    r.map(v, "drain", {"at"}, [&](const std::string&, const YAML::Node& x) {
      f.drain_at = r.duration(x, "drain.at");
    });
    if (v.IsMap() && !v["at"]) r.error(v, "drain needs at (the time of the SIGTERM)");
  }
  if (k == "reload") {
    ReloadStep step;
    step.line = v.Mark().line + 1;
    r.map(v, "reload", {"at", "config"}, [&](const std::string& rk, const YAML::Node& x) {
      if (rk == "at") step.at = r.duration(x, "reload.at");
      if (rk == "config") step.config = beside(f.path, r.text(x, "reload.config"));
    });
    if (v.IsMap() && (!v["at"] || !v["config"]))
      r.error(v, "reload needs at (the time of the SIGHUP) and config (the file it loads)");
    f.reload = step;
  }
  if (k == "shared_limiter") {
    f.line_of_shared_limiter = v.Mark().line + 1;
    r.map(v, "shared_limiter", {"latency"}, [&](const std::string&, const YAML::Node& x) {
      f.shared_limiter_latency = r.duration(x, "shared_limiter.latency");
    });
    if (v.IsMap() && !v["latency"]) r.error(v, "shared_limiter needs latency (0 for none)");
  }
}

}  // namespace

bool Bound::holds(double count, double total) const {
  const double x = ratio ? (total > 0 ? count / total : 0) : count;
  constexpr double eps = 1e-9;
  switch (op) {
    case Op::eq: return std::fabs(x - value) <= eps;
    case Op::ne: return std::fabs(x - value) > eps;
    case Op::lt: return x < value - eps;
    case Op::le: return x <= value + eps;
    case Op::gt: return x > value + eps;
    case Op::ge: return x >= value - eps;
  }
  return false;
}

std::optional<ScenarioFile> load_scenario_text(const std::string& text, const std::string& path,
                                               std::vector<std::string>& errors) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    errors.push_back(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    return std::nullopt;
  }
  Reader r(path, errors);
  ScenarioFile f;
  f.path = path;
  f.default_profile.models = {"*"};
  // default_backend first: every backend starts from it.
  if (root.IsMap() && root["default_backend"]) read_profile(r, root["default_backend"], "default_backend", f.default_profile);
  r.map(root, "the scenario",
        {"name", "description", "config", "seeds", "seed", "random_read_split", "default_backend",
         "backends", "workload", "expect", "workers", "gateways", "drain", "reload",
         "shared_limiter"},
        [&](const std::string& k, const YAML::Node& v) {
          read_process(r, k, v, f);
          if (k == "name") f.name = r.text(v, "name");
          if (k == "description") f.description = r.text(v, "description");
          if (k == "config") f.config = beside(path, r.text(v, "config"));
          if (k == "seeds") f.seeds = r.integer<std::uint64_t>(v, "seeds", 1, 10000);
          if (k == "seed") f.seed = r.integer<std::uint64_t>(v, "seed", 1, ~0ULL);
          if (k == "random_read_split") f.random_read_split = r.boolean(v, "random_read_split");
          if (k == "backends")
            r.entries(v, "backends", [&](const std::string& key, const YAML::Node& b) {
              BackendBehaviour bb;
              read_backend(r, key, b, f.default_profile, bb);
              f.backends.push_back(std::move(bb));
            });
          if (k == "workload") read_workload(r, v, f.workload);
          if (k == "expect") read_expect(r, v, f.expect);
        });
  if (root.IsMap() && !root["name"]) r.error(root, "the scenario needs a name");
  if (root.IsMap() && root["seed"] && root["seeds"]) r.error(root, "give seed or seeds, not both");
  if (r.failed()) return std::nullopt;
  return f;
}

std::optional<ScenarioFile> load_scenario_file(const std::string& path, std::vector<std::string>& errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors.push_back(path + ": cannot read the scenario file");
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return load_scenario_text(text.str(), path, errors);
}

}  // namespace llmproxy::conform
