#include "proxy/modules/auth/stored_key.h"

#include <chrono>

namespace llmproxy::modules::auth {
namespace {

using llmproxy::auth::KeyRecord;
using llmproxy::auth::KeyStatus;
using R = util::Parsed<KeyRecord>;

WallTime from_unix(std::int64_t seconds) { return WallTime(std::chrono::seconds(seconds)); }

std::optional<config::QuotaPeriod> period_from(std::string_view name) {
  for (const auto& e : config::enum_entries(config::QuotaPeriod{}))
    if (e.name == name) return e.value;
  return std::nullopt;
}

}  // namespace

util::Parsed<KeyRecord> record_from_stored(const stores::keys::StoredKey& row,
                                           const llmproxy::auth::KeyHash& hash) {
  KeyRecord r;
  r.hash = hash;
  r.id = row.hash;
  r.prefix = row.prefix;
  r.name = row.name;
  r.user_id = row.user_id;
  if (row.status < 0 || row.status > 3)
    return R::failure("status: " + std::to_string(row.status) + " is not 0-3");
  r.status = static_cast<KeyStatus>(row.status);
  if (row.starts_at) r.starts_at = from_unix(*row.starts_at);
  if (row.expires_at) r.expires_at = from_unix(*row.expires_at);
  auto ips = llmproxy::auth::IpRules::parse(stores::keys::address_list(row.allowed_ips),
                                            stores::keys::address_list(row.denied_ips));
  if (!ips) return R::failure("allowed_ips/denied_ips: " + ips.error);
  r.ips = std::move(*ips.value);
  const auto period = period_from(row.quota_reset_period);
  if (!period) return R::failure("quota_reset_period: '" + row.quota_reset_period + "' is not never, daily, weekly or monthly");
  if (row.total_quota < 0 || row.used_quota < 0) return R::failure("total_quota/used_quota: negative");
  r.quota.total = row.total_quota;
  r.quota.used = row.used_quota;
  r.quota.period = *period;
  r.quota.counted_since = from_unix(row.quota_reset_at.value_or(row.created_at));
  return R::success(std::move(r));
}

}  // namespace llmproxy::modules::auth
