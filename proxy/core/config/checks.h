// Per-field validators used in visit(): each returns "" when the value is
// fine, else the reason. They run on values read from the file (defaults are
// valid by construction), and the generator of the property test uses them to
// keep random values in range.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proxy/core/config/types.h"
#include "proxy/core/time.h"

namespace llmproxy::config::check {

// Shortest text for a number ("0.2", "1", "86400").
std::string number_text(double v);
inline std::string number_text(std::int64_t v) { return std::to_string(v); }
inline std::string number_text(int v) { return std::to_string(v); }

template <class T>
auto at_least(T lo) {
  return [lo](const T& v) -> std::string {
    if (!(v >= lo)) return "must be at least " + number_text(lo);
    return "";
  };
}

template <class T>
auto in_range(T lo, T hi) {
  return [lo, hi](const T& v) -> std::string {
    if (!(v >= lo && v <= hi)) return "must be between " + number_text(lo) + " and " + number_text(hi);
    return "";
  };
}

inline auto positive_duration() {
  return [](const Duration& d) -> std::string { return d > Duration::zero() ? "" : "must be greater than 0"; };
}

// Non-empty strings only; "" means "not set" and is checked for presence
// elsewhere, where it is required.
std::string url(const std::string& s);
std::string listen_address(const std::string& s);
std::string host_port(const std::string& s);
std::string http_method(const std::string& s);
std::string url_path(const std::string& s);
std::string cidr_list(const std::vector<std::string>& v);
std::string url_list(const std::vector<std::string>& v);
std::string timestamp(const std::string& s);
std::string ascending_positive(const std::vector<double>& v);
std::string non_empty(const std::string& s);

// Header names and values from the config are copied verbatim into HTTP
// heads (backend requests, health probes, webhooks, CORS answers), so a CR or
// LF would end the line and start a header, or a whole request, of the
// file's choosing. Checked after ${VAR} expansion: a secret read from a file
// usually ends with a newline. A name must be an RFC 9110 token; a value may
// hold visible characters, spaces and tabs (and non-ASCII UTF-8). The lists
// are for CORS answers ("*" is a token, so it passes as a name or method).
std::string header_name(const std::string& s);
std::string header_value(const std::string& s);
std::string header_name_list(const std::vector<std::string>& v);
std::string header_value_list(const std::vector<std::string>& v);
std::string method_token_list(const std::vector<std::string>& v);

}  // namespace llmproxy::config::check
