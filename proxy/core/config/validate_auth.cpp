// auth and api_keys: each provider's type, the storage it names, the admin
// key store the builtin provider reads, each static key's fields, and what
// of them this build does not enforce yet (issue #13's later slices):
// providers other than static, builtin, redis, database and webhook (and
// https:// webhook urls), provider scripts. Those are reported as not
// implemented at the exact key, never read and ignored. The quotas of
// static keys are counted in the admin key store's database
// (validate_admin.cpp checks it when they are).
#include <algorithm>
#include <set>

#include "proxy/core/auth/key_status.h"
#include "proxy/core/config/validate.h"
#include "proxy/core/util/sql_identifier.h"
#include "proxy/core/util/timestamp.h"

namespace llmproxy::config::detail {
namespace {

// Headers the webhook call frames itself (http_call.h): one set in the
// config would be sent twice or contradict the framing.
void check_webhook_headers(const WebhookProvider& w, const std::string& p, Context& ctx) {
  for (const auto& [name, value] : w.headers.entries) {
    std::string low(name);
    for (char& ch : low) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    if (low == "host" || low == "content-length" || low == "connection" || low == "transfer-encoding")
      ctx.error(p + "." + name, name + " is set by the gateway for each webhook call; remove it here");
  }
}

bool has_field(const DatabaseProvider& d, std::string_view name) {
  return std::find(d.fields.begin(), d.fields.end(), name) != d.fields.end();
}

// The names a database provider writes into SQL text (identifiers cannot be
// parameters: only plain ones are taken), and the usage columns an enabled
// one needs to count a quota.
void check_database_names(const DatabaseProvider& d, const std::string& p, bool enabled, Context& ctx) {
  const std::string plain = "letters, digits and _, not starting with a digit";
  if (!util::is_sql_identifier(d.table))
    ctx.error(p + ".table", "'" + d.table + "' is not a plain table name (" + plain + "; one schema. prefix)");
  if (!util::is_plain_sql_name(d.key_column))
    ctx.error(p + ".key_column", "'" + d.key_column + "' is not a plain column name (" + plain + ")");
  for (std::size_t j = 0; j < d.fields.size(); ++j)
    if (!util::is_plain_sql_name(d.fields[j]))
      ctx.error(idx(p + ".fields", j), "'" + d.fields[j] + "' is not a plain column name (" + plain + ")");
  if (!enabled) return;
  for (const char* quota : {"total_quota", "quota"})
    if (has_field(d, quota) && !has_field(d, "used_quota"))
      ctx.error(p + ".fields", std::string(quota) +
                                   " is read but used_quota is not: the quota would never be counted (add used_quota)");
  if (has_field(d, "quota_reset_period") && !has_field(d, "quota_reset_at"))
    ctx.error(p + ".fields",
              "quota_reset_period is read but quota_reset_at is not: the count could never restart in a new "
              "period (add quota_reset_at, unix seconds)");
}

void check_provider(const Config& c, const AuthProvider& a, const std::string& p, Context& ctx) {
  switch (a.type) {
    case ProviderType::unset:
      ctx.error(p + ".type", "type is required (builtin, redis, database, webhook, lua or static)",
                !ctx.present(p + ".type"));
      break;
    case ProviderType::builtin:
      if (a.enabled && c.auth.enabled && !c.admin.enabled)
        ctx.error(p + ".type", "the builtin provider uses the admin key store; set admin.enabled: true");
      break;
    case ProviderType::redis:
      check_cache_ref(c, p + ".redis.storage", a.redis.storage, ctx, true);
      // Without the placeholder every API key would read the same entry.
      if (a.redis.key_pattern.find("{api_key}") == std::string::npos)
        ctx.error(p + ".redis.key_pattern", "key_pattern must contain {api_key} (e.g. \"llmproxy:key:{api_key}\")");
      break;
    case ProviderType::database:
      check_database_ref(c, p + ".database.storage", a.database.storage, ctx);
      check_database_names(a.database, p + ".database", a.enabled, ctx);
      break;
    case ProviderType::webhook:
      if (a.enabled) check_required(a.webhook.url, p + ".webhook.url", "url", ctx);
      check_webhook_headers(a.webhook, p + ".webhook.headers", ctx);
      break;
    case ProviderType::lua:
      break;  // lint_scripts
    case ProviderType::static_keys:
      break;  // check_keys
  }
}

// A key's status, validity window and quota.
void check_key(const StaticKey& k, const std::string& p, Context& ctx) {
  if (k.key.empty()) ctx.error(p, "key is required", true);
  if (!auth::parse_key_status(k.status))
    ctx.error(p + ".status",
              "unknown status '" + k.status + "' (" + std::string(auth::kKeyStatusChoices) + ")");
  const auto starts = util::parse_timestamp(k.starts_at), expires = util::parse_timestamp(k.expires_at);
  if (starts && expires && *starts >= *expires)
    ctx.error(p + ".starts_at", "starts_at is not before expires_at: the key could never be used");
  // Without a total the key is unlimited: nothing would count these.
  if (k.total_quota == 0 && k.used_quota != 0)
    ctx.error(p + ".used_quota", "used_quota counts toward total_quota, which is 0 (unlimited): set "
                                 "total_quota, or leave used_quota out");
  if (k.total_quota == 0 && k.quota_reset_period != QuotaPeriod::never)
    ctx.error(p + ".quota_reset_period", "quota_reset_period restarts the count of total_quota, which is 0 "
                                         "(unlimited): set total_quota, or leave quota_reset_period out");
}

// Every key of one provider; the same key twice is an error at the second
// (its value is never quoted: it is a secret).
void check_keys(const std::vector<StaticKey>& keys, const std::string& list, Context& ctx) {
  std::set<std::string_view> seen;
  for (std::size_t j = 0; j < keys.size(); ++j) {
    check_key(keys[j], idx(list, j), ctx);
    if (!keys[j].key.empty() && !seen.insert(keys[j].key.value).second)
      ctx.error(idx(list, j) + ".key", "the same key is listed twice in this provider");
  }
}

// What of an enabled provider this build cannot run.
void check_provider_built(const AuthProvider& a, const std::string& p, Context& ctx) {
  const bool built = a.type == ProviderType::static_keys || a.type == ProviderType::builtin ||
                     a.type == ProviderType::redis || a.type == ProviderType::database ||
                     a.type == ProviderType::webhook || a.type == ProviderType::unset;
  if (!built)
    ctx.not_implemented(p + ".type", p + ".type: " + std::string(enum_name(a.type)), Feature::auth_providers);
  // The webhook is called like a backend: the gateway has no TLS client yet.
  if (a.type == ProviderType::webhook && a.webhook.url.starts_with("https:"))
    ctx.not_implemented(p + ".webhook.url", p + ".webhook.url: https:// webhooks", Feature::https_backends);
  if (a.script.enabled) ctx.not_implemented(p + ".script.enabled", p + ".script", Feature::lua_scripts);
}

void check_paths(const Config& c, Context& ctx) {
  for (std::size_t i = 0; i < c.auth.skip_paths.size(); ++i)
    if (!c.auth.skip_paths[i].starts_with("/"))
      ctx.error(idx("auth.skip_paths", i), "a path starts with '/'");
}

}  // namespace

void validate_auth(const Config& c, Context& ctx) {
  check_unique_names(c.auth.pipeline, "auth.pipeline", ctx, false);
  bool any_provider = !c.api_keys.empty();
  for (std::size_t i = 0; i < c.auth.pipeline.size(); ++i) {
    const auto& a = c.auth.pipeline[i];
    const std::string p = idx("auth.pipeline", i);
    const bool runs = c.auth.enabled && a.enabled;
    check_provider(c, a, p, ctx);
    if (a.type == ProviderType::static_keys) check_keys(a.static_keys.keys, p + ".static.keys", ctx);
    if (runs) check_provider_built(a, p, ctx);
    any_provider = any_provider || a.enabled;
  }
  check_keys(c.api_keys, "api_keys", ctx);
  check_paths(c, ctx);
  if (c.auth.enabled && !any_provider)
    ctx.error("auth.enabled", "auth is on but no provider is enabled and api_keys is empty: every request would be refused");
}

}  // namespace llmproxy::config::detail
