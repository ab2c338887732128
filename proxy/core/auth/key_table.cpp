#include "proxy/core/auth/key_table.h"

#include "proxy/core/util/timestamp.h"

namespace llmproxy::auth {
namespace {

// "" (null) is no bound.
std::string parse_time(const std::string& text, const char* field, std::optional<WallTime>& out) {
  if (text.empty()) return {};
  auto t = util::parse_timestamp(text);
  if (!t) return std::string(field) + ": " + t.error;
  out = *t;
  return {};
}

}  // namespace

util::Parsed<KeyRecord> key_record_from(const config::StaticKey& key, std::size_t provider) {
  using R = util::Parsed<KeyRecord>;
  KeyRecord r;
  r.hash = hash_key(key.key.value);
  r.id = to_hex(r.hash);
  r.prefix = key_prefix(key.key.value);
  r.name = key.name;
  r.user_id = key.user_id;
  const auto status = parse_key_status(key.status);
  if (!status)
    return R::failure("status: unknown status \"" + key.status + "\" (" + std::string(kKeyStatusChoices) + ")");
  r.status = *status;
  if (auto e = parse_time(key.starts_at, "starts_at", r.starts_at); !e.empty()) return R::failure(e);
  if (auto e = parse_time(key.expires_at, "expires_at", r.expires_at); !e.empty()) return R::failure(e);
  auto ips = IpRules::parse(key.allowed_ips, key.denied_ips);
  if (!ips) return R::failure(ips.error);
  r.ips = std::move(*ips.value);
  r.quota.total = key.total_quota;
  r.quota.used = key.used_quota;
  r.quota.period = key.quota_reset_period;
  r.provider = provider;
  r.store_ref = r.id;
  return R::success(std::move(r));
}

util::Parsed<KeyTable> KeyTable::from(const std::vector<config::StaticKey>& keys, std::size_t provider) {
  using R = util::Parsed<KeyTable>;
  KeyTable t;
  t.keys_.reserve(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto r = key_record_from(keys[i], provider);
    const std::string at = "[" + std::to_string(i) + "]";
    if (!r) return R::failure(at + "." + r.error);
    const KeyHash h = r->hash;
    t.has_quotas_ = t.has_quotas_ || r->quota.limited();
    if (!t.keys_.emplace(h, std::move(*r.value)).second)
      return R::failure(at + ": the same key is listed twice");
  }
  return R::success(std::move(t));
}

}  // namespace llmproxy::auth
