#include "proxy/modules/admin/key_json.h"

#include <array>
#include <boost/json.hpp>
#include <cstdio>

#include "proxy/core/auth/ip_rules.h"
#include "proxy/core/auth/key_status.h"
#include "proxy/core/log/civil_time.h"
#include "proxy/core/util/cidr.h"
#include "proxy/core/util/timestamp.h"

namespace llmproxy::modules::admin {
namespace {

namespace json = boost::json;
using stores::keys::StoredKey;

constexpr std::array kPeriods{"never", "daily", "weekly", "monthly"};
constexpr std::array kStatusNames{"active", "disabled", "quota_exceeded", "expired"};

std::optional<FieldError> bad(std::string_view field, std::string message) {
  return FieldError{std::string(field), std::move(message)};
}

std::optional<FieldError> read_string(const json::value& v, std::string_view field, std::string& out) {
  if (!v.is_string()) return bad(field, "must be a string");
  out.assign(v.get_string().data(), v.get_string().size());
  return std::nullopt;
}

std::optional<FieldError> read_status(const json::value& v, int& out) {
  std::optional<auth::KeyStatus> s;
  if (v.is_int64() || v.is_uint64()) {
    const auto n = v.is_int64() ? v.get_int64() : static_cast<std::int64_t>(v.get_uint64());
    if (n >= 0 && n <= 3) s = static_cast<auth::KeyStatus>(n);
  } else if (v.is_string()) {
    s = auth::parse_key_status(std::string_view(v.get_string().data(), v.get_string().size()));
  }
  if (!s) return bad("status", std::string("must be one of ") + std::string(auth::kKeyStatusChoices));
  out = static_cast<int>(*s);
  return std::nullopt;
}

std::optional<FieldError> read_time(const json::value& v, std::string_view field, std::optional<std::int64_t>& out) {
  if (v.is_null()) {
    out.reset();
    return std::nullopt;
  }
  std::string text;
  if (v.is_int64() || v.is_uint64()) text = json::serialize(v);
  else if (v.is_string()) text.assign(v.get_string().data(), v.get_string().size());
  else return bad(field, "must be RFC 3339 text, unix seconds or null");
  const auto t = util::parse_timestamp(text);
  if (!t.ok()) return bad(field, "must be RFC 3339 text, unix seconds or null (" + t.error + ")");
  out = std::chrono::duration_cast<std::chrono::seconds>(t.value->time_since_epoch()).count();
  return std::nullopt;
}

std::optional<FieldError> read_quota(const json::value& v, std::int64_t& out) {
  if (v.is_int64() && v.get_int64() >= 0) out = v.get_int64();
  else if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) out = static_cast<std::int64_t>(v.get_uint64());
  else return bad("total_quota", "must be a whole number of tokens, 0 or more (0 = unlimited)");
  return std::nullopt;
}

std::optional<FieldError> read_period(const json::value& v, std::string& out) {
  if (v.is_string())
    for (const char* p : kPeriods)
      if (v.get_string() == p) {
        out = p;
        return std::nullopt;
      }
  return bad("quota_reset_period", "must be never, daily, weekly or monthly");
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// An address list: an array of strings or one comma-separated string; every
// entry an address or a CIDR block. Stored comma-separated.
std::optional<FieldError> read_ips(const json::value& v, std::string_view field, std::string& out) {
  std::vector<std::string> entries;
  if (v.is_string()) {
    entries = stores::keys::address_list(std::string_view(v.get_string().data(), v.get_string().size()));
  } else if (v.is_array()) {
    for (const auto& e : v.get_array()) {
      if (!e.is_string()) return bad(field, "must be a list of addresses or CIDR blocks");
      const std::string_view entry = trimmed(std::string_view(e.get_string().data(), e.get_string().size()));
      if (!entry.empty()) entries.emplace_back(entry);
    }
  } else if (!v.is_null()) {
    return bad(field, "must be a list of addresses or CIDR blocks");
  }
  const auto rules = auth::IpRules::parse(entries, {});
  if (!rules.ok()) return bad(field, rules.error);
  out.clear();
  for (const auto& e : entries) out += (out.empty() ? "" : ",") + e;
  return std::nullopt;
}

json::array ips_to_json(const std::string& list) {
  json::array out;
  for (const auto& entry : stores::keys::address_list(list)) out.emplace_back(entry);
  return out;
}

json::value time_to_json(const std::optional<std::int64_t>& t) {
  if (!t) return nullptr;
  return json::value(rfc3339(*t));
}

}  // namespace

std::string rfc3339(std::int64_t unix_seconds) {
  const log::CivilTime c = log::to_civil(WallTime(std::chrono::seconds(unix_seconds)));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02u:%02u:%02uZ", c.year, c.month, c.day, c.hour, c.minute,
                c.second);
  return buf;
}

std::optional<FieldError> apply_key_fields(const json::object& in, StoredKey& key) {
  for (const auto& [name, v] : in) {
    std::optional<FieldError> e;
    if (name == "key" || name == "mode") continue;  // the caller's
    if (name == "name") e = read_string(v, name, key.name);
    else if (name == "user_id") e = read_string(v, name, key.user_id);
    else if (name == "status") e = read_status(v, key.status);
    else if (name == "starts_at") e = read_time(v, name, key.starts_at);
    else if (name == "expires_at") e = read_time(v, name, key.expires_at);
    else if (name == "total_quota") e = read_quota(v, key.total_quota);
    else if (name == "quota_reset_period") e = read_period(v, key.quota_reset_period);
    else if (name == "allowed_ips") e = read_ips(v, name, key.allowed_ips);
    else if (name == "denied_ips") e = read_ips(v, name, key.denied_ips);
    else e = bad(std::string_view(name.data(), name.size()), "unknown field");
    if (e) return e;
  }
  return std::nullopt;
}

json::object key_to_json(const StoredKey& key) {
  json::object o;
  o["key_prefix"] = key.prefix;
  o["name"] = key.name;
  o["user_id"] = key.user_id;
  o["status"] = key.status;
  o["status_name"] = key.status >= 0 && key.status <= 3 ? kStatusNames[static_cast<std::size_t>(key.status)] : "unknown";
  o["starts_at"] = time_to_json(key.starts_at);
  o["expires_at"] = time_to_json(key.expires_at);
  o["total_quota"] = key.total_quota;
  o["used_quota"] = key.used_quota;
  o["quota_reset_period"] = key.quota_reset_period;
  o["allowed_ips"] = ips_to_json(key.allowed_ips);
  o["denied_ips"] = ips_to_json(key.denied_ips);
  o["created_at"] = rfc3339(key.created_at);
  o["updated_at"] = rfc3339(key.updated_at);
  return o;
}

}  // namespace llmproxy::modules::admin
