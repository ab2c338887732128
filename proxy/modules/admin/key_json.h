// The admin API's key objects (BEHAVIOR §9) as JSON, both ways, compatible
// with the original project's fields:
//   key                 the API key (in requests; in answers only when the
//                       gateway generated it, once, at creation)
//   key_prefix          what answers show of a key
//   name, user_id       strings
//   status              0 active, 1 disabled, 2 quota exceeded, 3 expired,
//                       or the names (enabled, active, disabled, …);
//                       answers give the number and `status_name`
//   starts_at,
//   expires_at          RFC 3339 or unix seconds, null for none; answers
//                       give RFC 3339 (UTC) or null
//   total_quota         tokens, 0 = unlimited; used_quota (answers only)
//   quota_reset_period  never, daily, weekly, monthly
//   allowed_ips,
//   denied_ips          lists of addresses and CIDRs (an array, or one
//                       comma-separated string)
// Reading is strict: a field of the wrong type or value is an error naming
// the field; unknown fields are errors too (a typo must not pass silently).
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "proxy/stores/keys/key_store.h"

namespace llmproxy::modules::admin {

struct FieldError {
  std::string field;
  std::string message;
};

// Applies the fields present in `in` to `key` (absent fields keep their
// value). `key` and `mode` are the caller's to read and are skipped here.
std::optional<FieldError> apply_key_fields(const boost::json::object& in, stores::keys::StoredKey& key);

// The key as an answer shows it (never the key itself).
boost::json::object key_to_json(const stores::keys::StoredKey& key);

// Unix seconds as RFC 3339 UTC ("2026-12-07T14:00:00Z").
std::string rfc3339(std::int64_t unix_seconds);

}  // namespace llmproxy::modules::admin
