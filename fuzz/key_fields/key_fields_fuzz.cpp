// The shared field reader of the external key stores (key_fields.h) on any
// fields: fields_from_json and stored_from_fields / record_from_fields never
// crash, and what they accept keeps the header's rules:
//   - fields_from_json only gives fields named by members of the object;
//   - a record has a status 0-3 and quotas of 0 or more;
//   - a row read from fields, written back as fields (times as unix seconds
//     or RFC 3339) and read again is the same row, and makes the same
//     record; written back as a JSON object, likewise.
//
// Input: byte 0 bit 0 picks the form: 0 the rest is JSON text (a Redis JSON
// value, a webhook answer), 1 the rest is fields "name=value" separated by
// NUL bytes (a Redis hash, a database row).
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proxy/modules/admin/key_json.h"
#include "proxy/modules/auth/key_fields.h"

namespace {

namespace json = boost::json;
using namespace llmproxy;
using modules::admin::rfc3339;  // as the admin API writes times
using modules::auth::KeyFields;
using stores::keys::StoredKey;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "key_fields invariant violated: %s\n", what);
    std::abort();
  }
}

const WallTime kNow{std::chrono::seconds(1796860800)};  // 2026-12-09 00:00 UTC
constexpr std::string_view kKey = "sk-fuzz-0123456789abcdef";

// A time as a store would write it back: unix seconds take no sign, so an
// instant before 1970 is RFC 3339.
std::string time_text(std::int64_t t, bool as_rfc3339) {
  return as_rfc3339 || t < 0 ? rfc3339(t) : std::to_string(t);
}

KeyFields fields_of(const StoredKey& row, bool as_rfc3339) {
  KeyFields f{{"name", row.name},
              {"user_id", row.user_id},
              {"status", std::to_string(row.status)},
              {"total_quota", std::to_string(row.total_quota)},
              {"used_quota", std::to_string(row.used_quota)},
              {"quota_reset_period", row.quota_reset_period},
              {"allowed_ips", row.allowed_ips},
              {"denied_ips", row.denied_ips}};
  if (row.starts_at) f.emplace_back("starts_at", time_text(*row.starts_at, as_rfc3339));
  if (row.expires_at) f.emplace_back("expires_at", time_text(*row.expires_at, as_rfc3339));
  if (row.quota_reset_at) f.emplace_back("quota_reset_at", time_text(*row.quota_reset_at, as_rfc3339));
  return f;
}

// The same row as a JSON object: numbers as numbers, absent times as null.
std::string json_of(const StoredKey& row) {
  const auto time = [](const std::optional<std::int64_t>& t) { return t ? json::value(rfc3339(*t)) : json::value(); };
  return json::serialize(json::object{{"name", row.name},
                                      {"user_id", row.user_id},
                                      {"status", row.status},
                                      {"total_quota", row.total_quota},
                                      {"used_quota", row.used_quota},
                                      {"quota_reset_period", row.quota_reset_period},
                                      {"allowed_ips", row.allowed_ips},
                                      {"denied_ips", row.denied_ips},
                                      {"starts_at", time(row.starts_at)},
                                      {"expires_at", time(row.expires_at)},
                                      {"quota_reset_at", time(row.quota_reset_at)},
                                      {"team", json::object{{"left", "alone"}}}});
}

util::Parsed<auth::KeyRecord> record(const KeyFields& f) {
  return modules::auth::record_from_fields(f, kKey, auth::hash_key(kKey), 2, "ref", kNow);
}

void check_same_record(const auto& a, const auto& b) {
  check(a.status == b.status && a.name == b.name && a.user_id == b.user_id && a.starts_at == b.starts_at &&
            a.expires_at == b.expires_at && a.quota.total == b.quota.total && a.quota.used == b.quota.used &&
            a.quota.period == b.quota.period && a.quota.counted_since == b.quota.counted_since &&
            a.id == b.id && a.prefix == b.prefix && a.provider == b.provider && a.store_ref == b.store_ref,
        "a record read back differs");
}

void check_fields(const KeyFields& fields, bool from_json) {
  const auto row = modules::auth::stored_from_fields(fields, kNow);
  const auto rec = record(fields);
  if (!row) {
    check(!rec, "a record from fields that make no row");
    return;
  }
  if (rec) {
    const auto& r = *rec.value;
    check(static_cast<unsigned>(r.status) <= 3, "a status outside 0-3");
    check(r.quota.total >= 0 && r.quota.used >= 0, "a negative quota");
    check(r.id == auth::to_hex(auth::hash_key(kKey)) && r.prefix == auth::key_prefix(kKey), "not the key's record");
  }
  for (const bool as_rfc3339 : {false, true}) {
    const KeyFields again = fields_of(*row.value, as_rfc3339);
    const auto row2 = modules::auth::stored_from_fields(again, kNow);
    check(row2 && *row2.value == *row.value, "a row written back as fields reads differently");
    const auto rec2 = record(again);
    check(bool(rec2) == bool(rec), "a row written back as fields is judged differently");
    if (rec) check_same_record(*rec.value, *rec2.value);
  }
  // Strings that came through JSON are UTF-8, so the row can go back into it.
  if (from_json) {
    const auto parsed = modules::auth::fields_from_json(json_of(*row.value));
    check(bool(parsed), "a row written back as JSON is not read");
    const auto row3 = modules::auth::stored_from_fields(*parsed.value, kNow);
    check(row3 && *row3.value == *row.value, "a row written back as JSON reads differently");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) == 0) {
    const auto fields = modules::auth::fields_from_json(rest);
    if (!fields) return 0;
    boost::system::error_code ec;
    const json::value v = json::parse(rest, ec);
    check(!ec && v.is_object(), "fields from text that is not a JSON object");
    for (const auto& [name, value] : *fields.value)
      check(v.get_object().contains(name), "a field the object does not have");
    check_fields(*fields.value, true);
    return 0;
  }
  KeyFields fields;
  for (std::size_t start = 0; start <= rest.size();) {
    const std::size_t end = std::min(rest.find('\0', start), rest.size());
    const std::string_view entry = rest.substr(start, end - start);
    const std::size_t eq = entry.find('=');
    fields.emplace_back(std::string(entry.substr(0, eq)),
                        eq == std::string_view::npos ? std::string() : std::string(entry.substr(eq + 1)));
    start = end + 1;
  }
  check_fields(fields, false);
  return 0;
}
