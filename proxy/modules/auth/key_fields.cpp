#include "proxy/modules/auth/key_fields.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <optional>

#include "proxy/core/auth/key_status.h"
#include "proxy/core/util/timestamp.h"
#include "proxy/modules/auth/stored_key.h"

namespace llmproxy::modules::auth {
namespace {

using Row = util::Parsed<stores::keys::StoredKey>;

std::int64_t unix_seconds(WallTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

bool absent(std::string_view v) { return v.empty() || v == "null"; }

constexpr std::string_view kKeyFields[] = {"name",       "user_id",    "status",      "starts_at",
                                           "expires_at", "total_quota", "quota",      "used_quota",
                                           "quota_reset_period", "quota_reset_at", "allowed_ips", "denied_ips"};

bool is_key_field(std::string_view name) {
  for (auto f : kKeyFields)
    if (f == name) return true;
  return false;
}

std::optional<std::int64_t> parse_count(std::string_view v) {
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < 0) return std::nullopt;
  return n;
}

// A point in time, or an error for the field.
std::optional<std::string> read_time(std::string_view field, std::string_view v, std::optional<std::int64_t>& out) {
  if (absent(v)) return std::nullopt;
  const auto t = util::parse_timestamp(v);
  if (!t) return std::string(field) + ": " + t.error;
  out = unix_seconds(*t.value);
  return std::nullopt;
}

std::optional<std::string> read_field(std::string_view name, std::string_view v, stores::keys::StoredKey& row) {
  if (name == "name") {
    row.name = v;
  } else if (name == "user_id") {
    row.user_id = v;
  } else if (name == "status") {
    if (absent(v)) return std::nullopt;
    const auto s = llmproxy::auth::parse_key_status(v);
    if (!s) return "status: '" + std::string(v) + "' is not " + std::string(llmproxy::auth::kKeyStatusChoices);
    row.status = static_cast<int>(*s);
  } else if (name == "starts_at" || name == "expires_at") {
    return read_time(name, v, name == "starts_at" ? row.starts_at : row.expires_at);
  } else if (name == "quota_reset_at") {
    return read_time(name, v, row.quota_reset_at);
  } else if (name == "total_quota" || name == "quota" || name == "used_quota") {
    if (absent(v)) return std::nullopt;
    const auto n = parse_count(v);
    if (!n) return std::string(name) + ": '" + std::string(v) + "' is not a whole number of tokens";
    (name == "used_quota" ? row.used_quota : row.total_quota) = *n;
  } else if (name == "quota_reset_period") {
    if (!absent(v)) row.quota_reset_period = v;
  } else if (name == "allowed_ips") {
    row.allowed_ips = v;
  } else if (name == "denied_ips") {
    row.denied_ips = v;
  }
  return std::nullopt;
}

std::optional<std::string> json_text(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::string:
      return std::string(v.get_string());
    case boost::json::kind::int64:
      return std::to_string(v.get_int64());
    case boost::json::kind::uint64:
      return std::to_string(v.get_uint64());
    case boost::json::kind::double_: {
      const double d = v.get_double();
      // Scripts re-encode whole numbers as doubles (cjson); keep them whole.
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15)
        return std::to_string(static_cast<std::int64_t>(d));
      return std::to_string(d);
    }
    case boost::json::kind::bool_:
      return v.get_bool() ? "true" : "false";
    case boost::json::kind::null:
      return std::string();
    case boost::json::kind::array: {
      std::string joined;
      for (const auto& e : v.get_array()) {
        if (!e.is_string()) return std::nullopt;
        if (!joined.empty()) joined += ',';
        joined += e.get_string();
      }
      return joined;
    }
    case boost::json::kind::object:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

util::Parsed<stores::keys::StoredKey> stored_from_fields(const KeyFields& fields, WallTime now) {
  stores::keys::StoredKey row;
  for (const auto& [name, value] : fields)
    if (auto error = read_field(name, value, row)) return Row::failure(std::move(*error));
  // Without quota_reset_at, used_quota counts the current period
  // (record_from_stored falls back to created_at).
  row.created_at = unix_seconds(now);
  return Row::success(std::move(row));
}

util::Parsed<llmproxy::auth::KeyRecord> record_from_fields(const KeyFields& fields, std::string_view key,
                                                           const llmproxy::auth::KeyHash& hash,
                                                           std::size_t provider, std::string store_ref,
                                                           WallTime now) {
  using R = util::Parsed<llmproxy::auth::KeyRecord>;
  auto row = stored_from_fields(fields, now);
  if (!row) return R::failure(row.error);
  row.value->hash = llmproxy::auth::to_hex(hash);
  row.value->prefix = llmproxy::auth::key_prefix(key);
  auto record = record_from_stored(*row.value, hash);
  if (!record) return record;
  record.value->provider = provider;
  record.value->store_ref = std::move(store_ref);
  return record;
}

util::Parsed<KeyFields> fields_from_json(std::string_view json) {
  using R = util::Parsed<KeyFields>;
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(json, ec);
  if (ec) return R::failure("not JSON: " + ec.message());
  if (!v.is_object()) return R::failure("not a JSON object");
  KeyFields out;
  for (const auto& member : v.get_object()) {
    auto text = json_text(member.value());
    // A nested value is the store's own business, unless it is where a
    // rule is read from: never judged on a rule that could not be read.
    if (!text && !is_key_field(member.key())) continue;
    if (!text) return R::failure(std::string(member.key()) + ": an object or a list of non-strings");
    out.emplace_back(std::string(member.key()), std::move(*text));
  }
  return R::success(std::move(out));
}

}  // namespace llmproxy::modules::auth
