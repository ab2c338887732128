#include "fake_backends/fault_spec.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>

namespace llmproxy::fake {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <class Int>
bool parse_int(std::string_view s, Int& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool parse_probability(std::string_view s, double& out) {
  // from_chars(double) is locale-independent, unlike strtod.
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && ptr == s.data() + s.size() && out >= 0.0 &&
         out <= 1.0;
}

// Keys that take no value.
bool is_flag(std::string_view key) {
  return key == "reset_before_headers" || key == "hang" || key == "no_done" || key == "down";
}

bool parse_impl(std::string_view text, FaultWindow& out, bool allow_window, std::string& error) {
  out = FaultWindow{};
  FaultSpec& spec = out.spec;
  std::set<std::string_view> seen;
  bool has_from = false;
  bool has_to = false;
  bool any = false;

  std::string_view rest = text;
  while (true) {
    const auto comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    if (item.empty()) {
      error = "empty item in fault spec '" + std::string(text) + "'";
      return false;
    }
    any = true;
    const auto eq = item.find('=');
    const std::string_view key = trim(item.substr(0, eq));
    const bool has_value = eq != std::string_view::npos;
    const std::string_view value = has_value ? trim(item.substr(eq + 1)) : std::string_view{};
    const std::string item_s(item);

    if (!seen.insert(key).second) {
      error = "duplicate key '" + std::string(key) + "'";
      return false;
    }
    if (is_flag(key)) {
      if (has_value) {
        error = "'" + std::string(key) + "' takes no value";
        return false;
      }
    } else if (!has_value || value.empty()) {
      error = "'" + std::string(key) + "' needs a value (" + std::string(key) + "=...)";
      return false;
    }

    auto bad = [&](std::string_view what) {
      error = "bad value in '" + item_s + "': expected " + std::string(what);
      return false;
    };
    auto count = [&](std::optional<std::uint32_t>& field) {
      std::uint32_t n = 0;
      if (!parse_int(value, n)) return bad("a token count (non-negative integer)");
      field = n;
      return true;
    };
    auto duration = [&](Duration& field) {
      auto d = parse_duration(value);
      if (!d) return bad("a duration such as 250ms, 2s, 1.5s");
      field = *d;
      return true;
    };

    if (key == "status") {
      int s = 0;
      if (!parse_int(value, s) || s < 400 || s > 599) return bad("an HTTP status 400..599");
      spec.status = s;
    } else if (key == "retry_after") {
      int s = 0;
      if (!parse_int(value, s) || s < 0) return bad("whole seconds >= 0");
      spec.retry_after_s = s;
    } else if (key == "code") {
      for (char c : value) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '_' || c == '-' || c == '.';
        if (!ok) return bad("an error code made of letters, digits, '_', '-', '.'");
      }
      spec.code = std::string(value);
    } else if (key == "reset_before_headers") {
      spec.reset_before_headers = true;
    } else if (key == "hang") {
      spec.hang = true;
    } else if (key == "no_done") {
      spec.no_done = true;
    } else if (key == "down") {
      // "The backend is down": inference and health both fail.
      if (seen.count("status") || seen.count("health")) {
        error = "'down' already sets status=503 and health=down";
        return false;
      }
      spec.status = 503;
      spec.health = HealthMode::down;
      seen.insert("status");
      seen.insert("health");
    } else if (key == "reset_after") {
      if (!count(spec.reset_after)) return false;
    } else if (key == "stall_after") {
      if (!count(spec.stall_after)) return false;
    } else if (key == "malformed_at") {
      if (!count(spec.malformed_at)) return false;
    } else if (key == "tokens") {
      if (!count(spec.tokens)) return false;
    } else if (key == "for") {
      if (!duration(spec.stall_for)) return false;
    } else if (key == "slow_headers") {
      if (!duration(spec.slow_headers)) return false;
    } else if (key == "ttft") {
      Duration d{};
      if (!duration(d)) return false;
      spec.ttft = d;
    } else if (key == "itl") {
      Duration d{};
      if (!duration(d)) return false;
      spec.itl = d;
    } else if (key == "health") {
      if (value == "up") spec.health = HealthMode::up;
      else if (value == "down") spec.health = HealthMode::down;
      else if (value == "hang") spec.health = HealthMode::hang;
      else return bad("up, down or hang");
    } else if (key == "p") {
      if (!parse_probability(value, spec.probability)) return bad("a probability in [0, 1]");
    } else if (key == "from" || key == "to") {
      if (!allow_window) {
        error = "'" + std::string(key) + "' is only allowed in a timeline window (--fault/scenario)";
        return false;
      }
      if (!duration(key == "from" ? out.from : out.to)) return false;
      (key == "from" ? has_from : has_to) = true;
    } else {
      error = "unknown fault key '" + std::string(key) +
              "' (known: status, retry_after, code, reset_before_headers, hang, reset_after, "
              "stall_after, for, malformed_at, no_done, slow_headers, health, down, p, ttft, "
              "itl, tokens" +
              (allow_window ? ", from, to)" : ")");
      return false;
    }

    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }

  if (!any) {
    error = "empty fault spec";
    return false;
  }
  // Combinations that only make sense together.
  if (spec.stall_after.has_value() != (seen.count("for") != 0)) {
    error = "stall_after=K and for=D go together";
    return false;
  }
  if ((spec.retry_after_s || !spec.code.empty()) && !spec.status) {
    error = "retry_after and code need status=N";
    return false;
  }
  if (spec.hang && spec.reset_before_headers) {
    error = "hang and reset_before_headers exclude each other";
    return false;
  }
  if (has_from && has_to && out.to <= out.from) {
    error = "empty window: to must be after from";
    return false;
  }
  return true;
}

}  // namespace

bool FaultSpec::empty() const {
  return !status && !reset_before_headers && !hang && !reset_after && !stall_after &&
         !malformed_at && !no_done && slow_headers == Duration::zero() &&
         health == HealthMode::unset && !ttft && !itl && !tokens;
}

std::optional<Duration> parse_duration(std::string_view text) {
  text = trim(text);
  if (text == "0") return Duration::zero();
  std::size_t digits = 0;
  while (digits < text.size() &&
         ((text[digits] >= '0' && text[digits] <= '9') || text[digits] == '.'))
    ++digits;
  const std::string_view number = text.substr(0, digits);
  const std::string_view unit = text.substr(digits);
  if (number.empty() || number.front() == '.' || number.back() == '.') return std::nullopt;
  double value = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || ptr != number.data() + number.size()) return std::nullopt;

  double ns_per_unit = 0;
  if (unit == "ns") ns_per_unit = 1;
  else if (unit == "us") ns_per_unit = 1e3;
  else if (unit == "ms") ns_per_unit = 1e6;
  else if (unit == "s") ns_per_unit = 1e9;
  else if (unit == "m") ns_per_unit = 60e9;
  else if (unit == "h") ns_per_unit = 3600e9;
  else return std::nullopt;

  const double ns = value * ns_per_unit;
  // Keep far from the end of the representable range (TimePoint arithmetic).
  if (!(ns < 1e17)) return std::nullopt;
  return Duration(static_cast<std::int64_t>(std::llround(ns)));
}

bool parse_fault_spec(std::string_view text, FaultSpec& out, std::string& error) {
  FaultWindow w;
  if (!parse_impl(text, w, /*allow_window=*/false, error)) return false;
  out = std::move(w.spec);
  return true;
}

bool parse_fault_window(std::string_view text, FaultWindow& out, std::string& error) {
  return parse_impl(text, out, /*allow_window=*/true, error);
}

void merge_fault(FaultSpec& base, const FaultSpec& o) {
  if (o.status) {
    base.status = o.status;
    base.retry_after_s = o.retry_after_s;
    base.code = o.code;
  }
  base.reset_before_headers = base.reset_before_headers || o.reset_before_headers;
  base.hang = base.hang || o.hang;
  if (o.reset_after) base.reset_after = o.reset_after;
  if (o.stall_after) {
    base.stall_after = o.stall_after;
    base.stall_for = o.stall_for;
  }
  if (o.malformed_at) base.malformed_at = o.malformed_at;
  base.no_done = base.no_done || o.no_done;
  if (o.slow_headers != Duration::zero()) base.slow_headers = o.slow_headers;
  if (o.health != HealthMode::unset) base.health = o.health;
  if (o.ttft) base.ttft = o.ttft;
  if (o.itl) base.itl = o.itl;
  if (o.tokens) base.tokens = o.tokens;
}

namespace {

// The coarsest unit that keeps `d` exact, so parse_duration reads it back
// to the nanosecond.
std::string print_duration(Duration d) {
  const std::int64_t ns = d.count();
  if (ns == 0) return "0";
  if (ns % 1'000'000'000 == 0) return std::to_string(ns / 1'000'000'000) + "s";
  if (ns % 1'000'000 == 0) return std::to_string(ns / 1'000'000) + "ms";
  if (ns % 1'000 == 0) return std::to_string(ns / 1'000) + "us";
  return std::to_string(ns) + "ns";
}

// The shortest text from_chars reads back as exactly `v`.
std::string print_double(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

const char* health_name(HealthMode m) {
  switch (m) {
    case HealthMode::up: return "up";
    case HealthMode::down: return "down";
    case HealthMode::hang: return "hang";
    case HealthMode::unset: break;
  }
  return "";
}

}  // namespace

std::string print_fault_window(const FaultWindow& w) {
  std::string out;
  auto item = [&out](const std::string& text) { out += (out.empty() ? "" : ",") + text; };
  const FaultSpec& s = w.spec;
  if (w.from != Duration::zero()) item("from=" + print_duration(w.from));
  if (w.to != Duration::max()) item("to=" + print_duration(w.to));
  if (s.status) item("status=" + std::to_string(*s.status));
  if (s.retry_after_s) item("retry_after=" + std::to_string(*s.retry_after_s));
  if (!s.code.empty()) item("code=" + s.code);
  if (s.reset_before_headers) item("reset_before_headers");
  if (s.hang) item("hang");
  if (s.reset_after) item("reset_after=" + std::to_string(*s.reset_after));
  if (s.stall_after) item("stall_after=" + std::to_string(*s.stall_after) + ",for=" + print_duration(s.stall_for));
  if (s.malformed_at) item("malformed_at=" + std::to_string(*s.malformed_at));
  if (s.no_done) item("no_done");
  if (s.slow_headers != Duration::zero()) item("slow_headers=" + print_duration(s.slow_headers));
  if (s.health != HealthMode::unset) item(std::string("health=") + health_name(s.health));
  if (s.probability != 1.0) item("p=" + print_double(s.probability));
  if (s.ttft) item("ttft=" + print_duration(*s.ttft));
  if (s.itl) item("itl=" + print_duration(*s.itl));
  if (s.tokens) item("tokens=" + std::to_string(*s.tokens));
  return out;
}

}  // namespace llmproxy::fake
