// The config model of one module (auth and api_keys.) — see config.h for the visit()
// vocabulary and conventions. Code that needs only this module includes
// only this header, so editing another module's config rebuilds nothing here.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/core/config/checks.h"
#include "proxy/core/config/types.h"
#include "proxy/core/time.h"
#include "proxy/core/util/url.h"
#include "proxy/core/config/common.h"

namespace llmproxy::config {

using namespace std::chrono_literals;

// ---------------------------------------------------------------- auth
// A key of the static provider, or of top-level api_keys (where a plain string
// is also accepted and means {key: <string>}).
struct StaticKey {
  Secret key;
  std::string name;
  std::string user_id;
  std::string status = "enabled";
  std::int64_t total_quota = 0;  // tokens; 0 = unlimited
  std::int64_t used_quota = 0;
  QuotaPeriod quota_reset_period = QuotaPeriod::never;
  std::vector<std::string> allowed_ips;  // IPs or CIDRs; empty = any
  std::vector<std::string> denied_ips;
  std::string starts_at;   // extension: not valid before; RFC 3339 or unix seconds; "" = always
  std::string expires_at;  // RFC 3339 or unix seconds; "" (or null) = never

  bool operator==(const StaticKey&) const = default;
  template <class V>
  void visit(V& v) {
    v("key", key);
    v("name", name);
    v("user_id", user_id);
    v("status", status);
    v("total_quota", total_quota, check::at_least<std::int64_t>(0));
    v("used_quota", used_quota, check::at_least<std::int64_t>(0));
    v("quota_reset_period", quota_reset_period);
    v("allowed_ips", allowed_ips, check::cidr_list);
    v("denied_ips", denied_ips, check::cidr_list);
    v("starts_at", starts_at, check::timestamp);
    v("expires_at", expires_at, check::timestamp);
  }
};

struct RedisProvider {
  std::string storage = "cache";  // a storage.caches name; "cache" = default
  std::string key_pattern = "llmproxy:key:{api_key}";

  bool operator==(const RedisProvider&) const = default;
  template <class V>
  void visit(V& v) {
    v("storage", storage);
    v("key_pattern", key_pattern);
  }
};

struct DatabaseProvider {
  std::string storage = "database";
  std::string table = "api_keys";
  std::string key_column = "key";
  std::vector<std::string> fields;

  bool operator==(const DatabaseProvider&) const = default;
  template <class V>
  void visit(V& v) {
    v("storage", storage);
    v("table", table);
    v("key_column", key_column);
    v("fields", fields);
  }
};

struct WebhookProvider {
  std::string url;
  std::string method = "POST";
  Duration timeout = 5s;
  HeaderMap headers;

  bool operator==(const WebhookProvider&) const = default;
  template <class V>
  void visit(V& v) {
    v("url", url, check::url);
    v("method", method, check::http_method);
    v("timeout", timeout, check::positive_duration());
    v("headers", headers);
  }
};

struct StaticProvider {
  std::vector<StaticKey> keys;
  bool operator==(const StaticProvider&) const = default;
  template <class V>
  void visit(V& v) {
    v("keys", keys);
  }
};

struct AuthProvider {
  std::string name;
  ProviderType type = ProviderType::unset;
  bool enabled = true;
  RedisProvider redis;
  DatabaseProvider database;
  WebhookProvider webhook;
  ScriptConfig lua = ScriptConfig::enabled_by_default();  // the provider's own `enabled` governs it
  StaticProvider static_keys;
  ScriptConfig script;  // post-processor

  bool operator==(const AuthProvider&) const = default;
  template <class V>
  void visit(V& v) {
    v("name", name);
    v("type", type);
    v("enabled", enabled);
    v.only_if("redis", type, ProviderType::redis, redis);
    v.only_if("database", type, ProviderType::database, database);
    v.only_if("webhook", type, ProviderType::webhook, webhook);
    v.only_if("lua", type, ProviderType::lua, lua);
    v.only_if("static", type, ProviderType::static_keys, static_keys);
    v("script", script);
  }
};

struct AuthConfig {
  bool enabled = false;
  AuthMode mode = AuthMode::first_match;
  std::vector<std::string> skip_paths{"/health", "/ready", "/metrics"};
  std::vector<std::string> header_names{"Authorization", "X-API-Key"};
  Duration cache_ttl = 10s;  // extension
  QuotaCheck quota_check = QuotaCheck::exact;
  // extension: proxies (addresses or CIDRs) whose X-Forwarded-For names the
  // client for allowed_ips/denied_ips (proxy/core/auth/forwarded_for.h).
  std::vector<std::string> trusted_proxies;
  std::vector<AuthProvider> pipeline;

  bool operator==(const AuthConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("mode", mode);
    v("skip_paths", skip_paths);
    v("header_names", header_names, check::header_name_list);
    v("cache_ttl", cache_ttl);
    v("quota_check", quota_check);
    v("trusted_proxies", trusted_proxies, check::cidr_list);
    v("pipeline", pipeline);
  }
};

}  // namespace llmproxy::config
