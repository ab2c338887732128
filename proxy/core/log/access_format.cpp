#include "proxy/core/log/access_format.h"

#include <algorithm>

#include <charconv>
#include <cmath>

#include "proxy/core/log/civil_time.h"
#include "proxy/core/openai/json_write.h"

namespace llmproxy::log {
namespace {

constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Years are 1677–2262 for any WallTime, so never negative.
void append_padded(std::string& out, std::uint64_t v, int width) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  for (auto n = end - buf; n < width; ++n) out.push_back('0');
  out.append(buf, end);
}

template <class Int>
void append_int(std::string& out, Int v) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

// nginx's variable escaping in access logs.
void append_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.push_back(ch);
    }
  }
}

void append_field_or_dash(std::string& out, std::string_view s) {
  if (s.empty()) out.push_back('-');
  else append_escaped(out, s);
}

// The $remote_user field has no quotes around it, so a space would split
// it for every combined-format parser: escaped too.
void append_user_or_dash(std::string& out, std::string_view s) {
  if (s.empty()) {
    out.push_back('-');
    return;
  }
  for (std::size_t start = 0; start <= s.size();) {
    const std::size_t space = std::min(s.find(' ', start), s.size());
    append_escaped(out, s.substr(start, space - start));
    if (space == s.size()) break;
    out += "\\x20";
    start = space + 1;
  }
}

void append_request_line(std::string& out, const AccessEntry& e) {
  bool any = false;
  for (const std::string_view part : {e.method, e.target, e.protocol}) {
    if (part.empty()) continue;
    if (any) out.push_back(' ');
    append_escaped(out, part);
    any = true;
  }
  if (!any) out.push_back('-');
}

void append_iso_time(std::string& out, WallTime t) {
  const CivilTime c = to_civil(t);
  append_padded(out, static_cast<std::uint64_t>(c.year), 4);
  out.push_back('-');
  append_padded(out, c.month, 2);
  out.push_back('-');
  append_padded(out, c.day, 2);
  out.push_back('T');
  append_padded(out, c.hour, 2);
  out.push_back(':');
  append_padded(out, c.minute, 2);
  out.push_back(':');
  append_padded(out, c.second, 2);
  out.push_back('.');
  append_padded(out, c.nanos / 1000000, 3);
  out.push_back('Z');
}

void append_clf_time(std::string& out, WallTime t) {
  const CivilTime c = to_civil(t);
  append_padded(out, c.day, 2);
  out.push_back('/');
  out += kMonths[c.month - 1];
  out.push_back('/');
  append_padded(out, static_cast<std::uint64_t>(c.year), 4);
  out.push_back(':');
  append_padded(out, c.hour, 2);
  out.push_back(':');
  append_padded(out, c.minute, 2);
  out.push_back(':');
  append_padded(out, c.second, 2);
  out += " +0000";
}

void append_seconds_or_null(std::string& out, double v) {
  if (!std::isfinite(v) || v < 0) {
    out += "null";
    return;
  }
  char buf[400];  // the longest finite double in fixed notation with 3 decimals fits
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 3);
  if (ec != std::errc()) {
    out += "null";
    return;
  }
  out.append(buf, end);
}

void append_count_or_null(std::string& out, std::int64_t v) {
  if (v < 0) out += "null";
  else append_int(out, v);
}

void key(std::string& out, std::string_view k) {
  out.push_back(',');
  out.push_back('"');
  out += k;
  out += "\":";
}

void string_member(std::string& out, std::string_view k, std::string_view v) {
  key(out, k);
  json::append_string(out, v);
}

}  // namespace

void append_combined(std::string& out, const AccessEntry& e) {
  append_field_or_dash(out, e.client_ip);
  out += " - ";  // the identd field, never known
  append_user_or_dash(out, e.user_id);  // $remote_user: the key's owner
  out += " [";
  append_clf_time(out, e.time);
  out += "] \"";
  append_request_line(out, e);
  out += "\" ";
  append_int(out, e.status);
  out.push_back(' ');
  append_int(out, e.body_bytes);
  out += " \"";
  append_field_or_dash(out, e.referer);
  out += "\" \"";
  append_field_or_dash(out, e.user_agent);
  out += "\"\n";
}

void append_json(std::string& out, const AccessEntry& e) {
  out += "{\"time\":\"";
  append_iso_time(out, e.time);
  out.push_back('"');
  string_member(out, "client_ip", e.client_ip);
  string_member(out, "method", e.method);
  string_member(out, "target", e.target);
  string_member(out, "protocol", e.protocol);
  key(out, "status");
  append_int(out, e.status);
  key(out, "body_bytes");
  append_int(out, e.body_bytes);
  string_member(out, "referer", e.referer);
  string_member(out, "user_agent", e.user_agent);
  string_member(out, "request_id", e.request_id);
  key(out, "duration");
  append_seconds_or_null(out, e.duration_seconds);
  string_member(out, "backend", e.backend);
  string_member(out, "model", e.model);
  key(out, "prompt_tokens");
  append_count_or_null(out, e.prompt_tokens);
  key(out, "completion_tokens");
  append_count_or_null(out, e.completion_tokens);
  key(out, "stream");
  out += e.stream ? "true" : "false";
  key(out, "ttft");
  append_seconds_or_null(out, e.upstream_ttft_seconds);
  string_member(out, "outcome", e.outcome);
  string_member(out, "error", e.error_code);
  key(out, "usage_estimated");
  out += e.usage_estimated ? "true" : "false";
  string_member(out, "key_name", e.key_name);
  string_member(out, "user_id", e.user_id);
  string_member(out, "api_key", e.key_prefix);
  out += "}\n";
}

void append_access_line(std::string& out, const AccessEntry& e, config::AccessFormat format) {
  if (format == config::AccessFormat::json) append_json(out, e);
  else append_combined(out, e);
}

}  // namespace llmproxy::log
