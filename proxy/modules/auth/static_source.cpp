#include "proxy/modules/auth/static_source.h"

#include <cassert>
#include <chrono>

namespace llmproxy::modules::auth {
namespace {

using llmproxy::auth::KeyRecord;

WallTime from_unix(std::int64_t seconds) { return WallTime(std::chrono::seconds(seconds)); }
std::int64_t to_unix(WallTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// The row a key's count starts in: the config's used_quota, counted from
// the period the first write belongs to.
stores::keys::StoredKey first_row(const KeyRecord& key, std::optional<std::int64_t> period_start, WallTime now) {
  stores::keys::StoredKey row;
  row.hash = key.id;
  row.prefix = key.prefix;
  row.name = key.name;
  row.user_id = key.user_id;
  row.total_quota = key.quota.total;
  row.used_quota = key.quota.used;
  row.quota_reset_period = std::string(config::enum_name(key.quota.period));
  row.quota_reset_at = period_start;
  row.created_at = period_start.value_or(to_unix(now));
  row.updated_at = to_unix(now);
  return row;
}

}  // namespace

StaticSource::StaticSource(std::shared_ptr<const llmproxy::auth::Authenticator> authenticator, std::size_t provider,
                           std::shared_ptr<stores::keys::KeyStore> usage, env::Env& env)
    : auth_(std::move(authenticator)), provider_(provider), usage_(std::move(usage)), env_(env) {
  assert(auth_->counted(provider_) && usage_ && "a counted table and its usage store");
}

env::Task<SourceAnswer> StaticSource::lookup(const LookupRequest& req) {
  const KeyRecord* key = auth_->find(provider_, req.hash);
  if (!key) co_return SourceAnswer::unknown();
  assert(key->provider == req.provider && "the table was built as this provider");
  // Without a quota the config is the whole answer: the record itself,
  // kept alive by the authenticator it belongs to.
  if (!key->quota.limited())
    co_return SourceAnswer{SourceAnswer::Kind::known, std::shared_ptr<const KeyRecord>(auth_, key), {}};
  const stores::keys::Found found = co_await usage_->find(key->id);
  KeyRecord counted = *key;
  if (found.status.outcome == stores::keys::Outcome::not_found) {
    counted.quota.counted_since = env_.wall_now();
    co_return SourceAnswer::known(std::move(counted));
  }
  if (!found.status.ok()) co_return SourceAnswer::failed("the store of static keys' usage failed: " + found.status.message);
  if (found.key->used_quota < 0)
    co_return SourceAnswer::failed("a row of static key usage cannot be read (fix or delete the row): " + key->prefix +
                                   ": used_quota is negative");
  counted.quota.used = found.key->used_quota;
  counted.quota.counted_since = from_unix(found.key->quota_reset_at.value_or(found.key->created_at));
  co_return SourceAnswer::known(std::move(counted));
}

env::Task<stores::keys::Status> StaticSource::add_usage(const std::string& store_ref, std::int64_t tokens,
                                                        std::optional<std::int64_t> period_start) {
  stores::keys::Status s = co_await usage_->add_usage(store_ref, tokens, period_start);
  if (s.outcome != stores::keys::Outcome::not_found) co_return s;
  const auto hash = llmproxy::auth::from_hex(store_ref);
  const KeyRecord* key = hash ? auth_->find(provider_, *hash) : nullptr;
  assert(key && "a static key's store_ref is its digest");
  if (!key) co_return s;
  const stores::keys::Status made = co_await usage_->create(first_row(*key, period_start, env_.wall_now()));
  if (!made.ok() && made.outcome != stores::keys::Outcome::duplicate) co_return made;
  co_return co_await usage_->add_usage(store_ref, tokens, period_start);
}

}  // namespace llmproxy::modules::auth
