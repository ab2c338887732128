// A key's fields as a store the gateway does not own holds them: a Redis
// hash or JSON value, a database row, a webhook's answer (BEHAVIOR §7).
// Every value arrives as text; this reads them into the admin key store's
// row shape (stores::keys::StoredKey), which stored_key.h turns into the
// record the decision judges, so every provider reads a field the same way.
//
// Fields read (names as the original project and the admin API spell them):
//   name, user_id        text
//   status               enabled/active/disabled/quota_exceeded/expired or
//                        0-3 (key_status.h); absent: active
//   starts_at,
//   expires_at           RFC 3339 or unix seconds; absent, "" or "null": none
//   total_quota          tokens, 0 = unlimited (`quota` is read the same)
//   used_quota           tokens counted in the period since quota_reset_at
//   quota_reset_period   never/daily/weekly/monthly; absent: never
//   quota_reset_at       RFC 3339 or unix seconds: the period used_quota
//                        counts; absent: the current one (the gateway sets
//                        it with its first charge)
//   allowed_ips,
//   denied_ips           addresses and CIDRs, comma-separated
// Other fields are the store's own business and are left alone. A field
// that is present and cannot be read is an error naming it: the key is
// then refused with 503, never judged on a rule that could not be read.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/core/auth/key_record.h"
#include "proxy/core/time.h"
#include "proxy/core/util/parsed.h"
#include "proxy/stores/keys/key_store.h"

namespace llmproxy::modules::auth {

using KeyFields = std::vector<std::pair<std::string, std::string>>;

// `now`: the wall clock, for a quota without quota_reset_at.
util::Parsed<stores::keys::StoredKey> stored_from_fields(const KeyFields& fields, WallTime now);

// stored_from_fields, then the record (stored_key.h) of the presented key:
// its hash, prefix, `provider` and `store_ref` set.
util::Parsed<llmproxy::auth::KeyRecord> record_from_fields(const KeyFields& fields, std::string_view key,
                                                           const llmproxy::auth::KeyHash& hash,
                                                           std::size_t provider, std::string store_ref,
                                                           WallTime now);

// A JSON object's members as fields: strings as they are, numbers in
// decimal, true/false, null as "", an array of strings joined with ",".
// Fails on text that is not one JSON object, or a field read above that is
// an object or an array of non-strings (other such members are skipped).
util::Parsed<KeyFields> fields_from_json(std::string_view json);

}  // namespace llmproxy::modules::auth
