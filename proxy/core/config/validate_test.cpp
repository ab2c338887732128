// The cross-field checks of each module (validate_<module>.cpp) that the
// golden files (testdata/broken) do not reach, with their exact positions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "proxy/core/config/load.h"
#include "proxy/core/config/test_env.h"

using namespace llmproxy;
using namespace llmproxy::config;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

constexpr const char* kMinimal = "backends:\n  - url: http://127.0.0.1:9001\n";

LoadResult load(const std::string& yaml) {
  return load_config_string(yaml, "test.yaml", "", config::testing::fake_env());
}

std::string messages(const LoadResult& r) {
  std::string out;
  for (const auto& d : r.diagnostics) out += format_diagnostic(d) + "\n";
  return out;
}

// ---- server

TEST(ValidateServer, CorsOriginsThePolicyCannotMatchAreErrorsAtTheirEntry) {
  const auto r = load(std::string(kMinimal) +
                      "server:\n"
                      "  cors:\n"
                      "    enabled: true\n"
                      "    allowed_origins:\n"
                      "      - \"*\"\n"
                      "      - \"null\"\n"
                      "      - https://app.example.com:8443/\n"
                      "      - https://*.example.com\n"
                      "      - app.example.com\n"
                      "      - https://app.example.com/path\n"
                      "      - https://a.*.example.com\n");
  EXPECT_TRUE(r.has_schema_errors());
  EXPECT_FALSE(r.ok());  // serve refuses to start
  EXPECT_EQ(messages(r),
            "test.yaml:11:9: server.cors.allowed_origins[4]: 'app.example.com' can never match: an origin needs a "
            "scheme, e.g. https://app.example.com\n"
            "test.yaml:12:9: server.cors.allowed_origins[5]: 'https://app.example.com/path' can never match: not an "
            "origin: scheme://host[:port] with no path, query or user info\n"
            "test.yaml:13:9: server.cors.allowed_origins[6]: 'https://a.*.example.com' can never match: a wildcard "
            "origin must be scheme://*.domain[:port], e.g. https://*.example.com\n");
}

TEST(ValidateServer, CorsOriginsAreCheckedWhileCorsIsOff) {
  const auto r = load(std::string(kMinimal) + "server: {cors: {allowed_origins: ['https://ok.example', 'ftp//x']}}\n");
  EXPECT_THAT(messages(r), HasSubstr("test.yaml:3:57: server.cors.allowed_origins[1]: 'ftp//x' can never match"));
}

TEST(ValidateServer, ACorsOriginWithALineBreakIsReportedOnce) {
  const auto r = load(std::string(kMinimal) + "server: {cors: {allowed_origins: [\"https://a.example\\n\"]}}\n");
  EXPECT_THAT(messages(r), HasSubstr("allowed_origins[0]: value ends with a line break"));
  EXPECT_THAT(messages(r), Not(HasSubstr("can never match")));
}

TEST(ValidateServer, TheDefaultOriginsAreFine) {
  const auto r = load(std::string(kMinimal) + "server: {cors: {allow_credentials: true}}\n");
  EXPECT_TRUE(r.ok()) << messages(r);
}

// ---- auth

TEST(ValidateAuth, TheBuiltinProviderNeedsTheAdminKeyStore) {
  const std::string pipeline = "auth:\n  enabled: true\n  pipeline:\n    - name: b\n      type: builtin\n";
  const auto r = load(std::string(kMinimal) + pipeline);
  EXPECT_THAT(messages(r), HasSubstr("test.yaml:7:13: auth.pipeline[0].type: the builtin provider uses the admin key "
                                     "store; set admin.enabled: true\n"));
  const auto with_admin = load(std::string(kMinimal) + pipeline + "admin: {enabled: true, token: t}\n");
  EXPECT_THAT(messages(with_admin), Not(HasSubstr("builtin provider")));
  const auto auth_off = load(std::string(kMinimal) + "auth:\n  pipeline:\n    - {name: b, type: builtin}\n");
  EXPECT_THAT(messages(auth_off), Not(HasSubstr("builtin provider")));
}

TEST(ValidateAuth, StaticProvidersAndApiKeysAreBuilt) {
  const auto r = load(std::string(kMinimal) +
                      "auth:\n"
                      "  enabled: true\n"
                      "  pipeline:\n"
                      "    - name: s\n"
                      "      type: static\n"
                      "      static:\n"
                      "        keys:\n"
                      "          - {key: sk-1, status: 1, allowed_ips: [10.0.0.0/8], expires_at: 1767225600}\n"
                      "          - {key: sk-2, status: Enabled, starts_at: \"2026-01-01T00:00:00Z\"}\n"
                      "api_keys: [sk-3, {key: sk-4, status: quota_exceeded, total_quota: 0}]\n");
  EXPECT_TRUE(r.ok()) << messages(r);
  EXPECT_TRUE(r.diagnostics.empty()) << messages(r);
  const auto alone = load(std::string(kMinimal) + "api_keys: [sk-1]\n");
  EXPECT_TRUE(alone.diagnostics.empty()) << messages(alone);
}

TEST(ValidateAuth, WhatIsNotBuiltIsNamedAtItsKey) {
  const auto r = load(std::string(kMinimal) +
                      "storage:\n"
                      "  caches: [{name: c, driver: redis, addr: \"127.0.0.1:6379\"}]\n"
                      "auth:\n"
                      "  enabled: true\n"
                      "  pipeline:\n"
                      "    - {name: r, type: lua, lua: {code: \"return true\"}}\n"
                      "    - {name: w, type: webhook, enabled: false, webhook: {url: \"http://a.example/\"}}\n"
                      "    - name: s\n"
                      "      type: static\n"
                      "      script: {enabled: true, code: \"return true\"}\n"
                      "      static:\n"
                      "        keys:\n"
                      "          - {key: sk-1, total_quota: 10, used_quota: 2, quota_reset_period: daily}\n"
                      "api_keys: [{key: sk-2, total_quota: 5}]\n");
  EXPECT_EQ(messages(r),
            "test.yaml:8:17: auth.pipeline[0].type: lua: not implemented yet in this build (see BEHAVIOR §7, "
            "issue #13)\n"
            "test.yaml:12:16: auth.pipeline[2].script: not implemented yet in this build (see BEHAVIOR §11)\n");
  // A redis provider is built; its pattern must name the key.
  const auto redis = load(std::string(kMinimal) +
                          "storage:\n"
                          "  caches: [{name: c, driver: redis, addr: \"127.0.0.1:6379\"}]\n"
                          "auth:\n"
                          "  enabled: true\n"
                          "  pipeline:\n"
                          "    - {name: r, type: redis, redis: {storage: c, key_pattern: \"keys:all\"}}\n");
  EXPECT_EQ(messages(redis),
            "test.yaml:8:63: auth.pipeline[0].redis.key_pattern: key_pattern must contain {api_key} (e.g. "
            "\"llmproxy:key:{api_key}\")\n");
  // With auth off the pipeline never runs: nothing of it is reported.
  const auto off = load(std::string(kMinimal) + "auth:\n  pipeline:\n    - {name: l, type: lua, lua: {code: \"x\"}}\n");
  EXPECT_THAT(messages(off), Not(HasSubstr("not implemented")));
}

TEST(ValidateAuth, WebhookRunsOverHttpWithHeadersItDoesNotFrame) {
  const auto ok = load(std::string(kMinimal) +
                       "auth:\n  enabled: true\n  pipeline:\n"
                       "    - {name: w, type: webhook, webhook: {url: \"http://hooks.example:8080/check\", "
                       "headers: {X-Hook-Token: t}}}\n");
  EXPECT_TRUE(ok.ok()) << messages(ok);
  EXPECT_TRUE(ok.diagnostics.empty()) << messages(ok);
  const auto r = load(std::string(kMinimal) +
                      "auth:\n  enabled: true\n  pipeline:\n"
                      "    - {name: w, type: webhook, webhook: {url: \"https://hooks.example/check\", "
                      "headers: {Host: other, Content-Type: application/json}}}\n");
  EXPECT_THAT(messages(r), HasSubstr("auth.pipeline[0].webhook.url: https:// webhooks: not implemented yet"));
  EXPECT_THAT(messages(r),
              HasSubstr("auth.pipeline[0].webhook.headers.Host: Host is set by the gateway for each webhook call"));
  EXPECT_THAT(messages(r), Not(HasSubstr("Content-Type")));
}

TEST(ValidateAuth, KeyFields) {
  const auto r = load(std::string(kMinimal) +
                      "api_keys:\n"
                      "  - {key: sk-1, status: on}\n"
                      "  - {key: sk-2, starts_at: 1767225600, expires_at: \"2026-01-01T00:00:00Z\"}\n"
                      "  - {key: sk-1}\n"
                      "  - {key: sk-3, expires_at: \"2026-02-30T00:00:00Z\"}\n"
                      "auth:\n"
                      "  skip_paths: [health]\n");
  EXPECT_EQ(messages(r),
            "test.yaml:4:25: api_keys[0].status: unknown status 'on' (enabled, active, disabled, quota_exceeded, "
            "expired, or 0-3)\n"
            "test.yaml:5:28: api_keys[1].starts_at: starts_at is not before expires_at: the key could never be "
            "used\n"
            "test.yaml:6:11: api_keys[2].key: the same key is listed twice in this provider\n"
            "test.yaml:7:29: api_keys[3].expires_at: invalid time \"2026-02-30T00:00:00Z\" (RFC 3339, e.g. "
            "2026-01-31T00:00:00Z, or unix seconds)\n"
            "test.yaml:9:16: auth.skip_paths[0]: a path starts with '/'\n");
}

// Static keys' quotas are counted (in the admin key store's database); a
// used_quota or reset period without a total would count toward nothing.
TEST(ValidateAuth, StaticQuotasAreBuiltAndNeedATotal) {
  const auto ok = load(std::string(kMinimal) +
                       "api_keys: [{key: sk-1, total_quota: 10, used_quota: 2, quota_reset_period: daily}]\n");
  EXPECT_TRUE(ok.ok()) << messages(ok);
  const auto r = load(std::string(kMinimal) +
                      "api_keys:\n"
                      "  - {key: sk-1, used_quota: 2}\n"
                      "  - {key: sk-2, quota_reset_period: monthly}\n");
  EXPECT_EQ(messages(r),
            "test.yaml:4:29: api_keys[0].used_quota: used_quota counts toward total_quota, which is 0 (unlimited): "
            "set total_quota, or leave used_quota out\n"
            "test.yaml:5:37: api_keys[1].quota_reset_period: quota_reset_period restarts the count of total_quota, "
            "which is 0 (unlimited): set total_quota, or leave quota_reset_period out\n");
  // Their usage is kept where the admin keys are, admin enabled or not.
  const auto dangling = load(std::string(kMinimal) + "admin: {storage: keys}\napi_keys: [{key: sk-1, total_quota: 10}]\n");
  EXPECT_THAT(messages(dangling), HasSubstr("admin.storage: no database named 'keys' in storage.databases"));
  const auto no_file = load(std::string(kMinimal) + "admin: {db_path: \"\"}\napi_keys: [{key: sk-1, total_quota: 10}]\n");
  EXPECT_THAT(messages(no_file), HasSubstr("admin.db_path: the key store's SQLite file is required when static keys "
                                           "have quotas"));
}

// A database provider is built: its names go into SQL text, so only plain
// identifiers pass, each at its key; an enabled one must read the columns
// its quota is counted in.
TEST(ValidateAuth, DatabaseProviderNamesAndUsageColumns) {
  const std::string db = std::string(kMinimal) + "storage: {databases: [{name: users, path: u.db}]}\n";
  const auto good = load(db +
                         "auth:\n"
                         "  enabled: true\n"
                         "  pipeline:\n"
                         "    - name: d\n"
                         "      type: database\n"
                         "      database:\n"
                         "        storage: users\n"
                         "        table: billing.customer_keys\n"
                         "        key_column: key\n"
                         "        fields: [name, total_quota, used_quota, quota_reset_period, quota_reset_at, tier_2]\n");
  EXPECT_TRUE(good.diagnostics.empty()) << messages(good);
  const auto bad = load(db +
                        "auth:\n"
                        "  enabled: true\n"
                        "  pipeline:\n"
                        "    - name: d\n"
                        "      type: database\n"
                        "      database:\n"
                        "        storage: users\n"
                        "        table: \"keys; DROP TABLE x\"\n"
                        "        key_column: \"k`ey\"\n"
                        "        fields: [name, \"1st\", quota, quota_reset_period]\n");
  EXPECT_EQ(messages(bad),
            "test.yaml:11:16: auth.pipeline[0].database.table: 'keys; DROP TABLE x' is not a plain table name "
            "(letters, digits and _, not starting with a digit; one schema. prefix)\n"
            "test.yaml:12:21: auth.pipeline[0].database.key_column: 'k`ey' is not a plain column name (letters, "
            "digits and _, not starting with a digit)\n"
            "test.yaml:13:17: auth.pipeline[0].database.fields: quota is read but used_quota is not: the quota "
            "would never be counted (add used_quota)\n"
            "test.yaml:13:17: auth.pipeline[0].database.fields: quota_reset_period is read but quota_reset_at is "
            "not: the count could never restart in a new period (add quota_reset_at, unix seconds)\n"
            "test.yaml:13:24: auth.pipeline[0].database.fields[1]: '1st' is not a plain column name (letters, "
            "digits and _, not starting with a digit)\n");
  // A disabled provider's names are still checked; its usage columns not.
  const auto off = load(db +
                        "auth:\n"
                        "  enabled: true\n"
                        "  pipeline:\n"
                        "    - {name: s, type: static, static: {keys: [{key: sk-1}]}}\n"
                        "    - {name: d, type: database, enabled: false,\n"
                        "       database: {storage: users, table: a.b.c, fields: [user_id, quota, status]}}\n");
  EXPECT_EQ(messages(off),
            "test.yaml:9:42: auth.pipeline[1].database.table: 'a.b.c' is not a plain table name (letters, digits "
            "and _, not starting with a digit; one schema. prefix)\n");
}

TEST(ValidateAuth, AuthOnWithoutAProviderRefusesEverything) {
  const auto r = load(std::string(kMinimal) +
                      "auth:\n  enabled: true\n  pipeline: [{name: s, type: static, enabled: false}]\n");
  EXPECT_THAT(messages(r), HasSubstr("test.yaml:4:12: auth.enabled: auth is on but no provider is enabled"));
}

// ---- admin

TEST(ValidateAdmin, AListenerOfItsOwnIsBuilt) {
  const auto r = load(std::string(kMinimal) +
                      "server: {listen: \"127.0.0.1:8000\"}\n"
                      "admin: {enabled: true, token: t, listen: \"127.0.0.1:8001\"}\n");
  EXPECT_TRUE(r.ok()) << messages(r);
  EXPECT_EQ(messages(r), "");
}

TEST(ValidateAdmin, TheListenerMustNotTakeServerListensPort) {
  const auto r = load(std::string(kMinimal) +
                      "server: {listen: \"127.0.0.1:8000\"}\n"
                      "admin: {enabled: true, token: t, listen: \"127.0.0.1:8000\"}\n");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(messages(r),
            "test.yaml:4:42: admin.listen: \"127.0.0.1:8000\" is server.listen's address (\"127.0.0.1:8000\"); "
            "the admin API needs a port of its own, or leave admin.listen empty to serve it under /admin/ on "
            "the main listener\n");
  // All interfaces include the other's host, either way round.
  for (const auto& [server, admin] : {std::pair{":8000", "127.0.0.1:8000"}, std::pair{"127.0.0.1:8000", ":8000"},
                                      std::pair{"0.0.0.0:8000", "[::1]:8000"}, std::pair{"[::]:8000", "10.0.0.1:8000"}}) {
    const auto clash = load(std::string(kMinimal) + "server: {listen: \"" + server +
                            "\"}\nadmin: {enabled: true, token: t, listen: \"" + admin + "\"}\n");
    EXPECT_THAT(messages(clash), HasSubstr("admin.listen: \"" + std::string(admin) + "\" is server.listen's address"))
        << server << " " << admin;
  }
  // The default server.listen is :8000.
  const auto by_default = load(std::string(kMinimal) + "admin: {enabled: true, token: t, listen: \"127.0.0.1:8000\"}\n");
  EXPECT_THAT(messages(by_default), HasSubstr("admin.listen: \"127.0.0.1:8000\" is server.listen's address"));
  // Two hosts, one port: two sockets.
  const auto apart = load(std::string(kMinimal) +
                          "server: {listen: \"127.0.0.1:8000\"}\n"
                          "admin: {enabled: true, token: t, listen: \"127.0.0.2:8000\"}\n");
  EXPECT_TRUE(apart.ok()) << messages(apart);
}

TEST(ValidateAdmin, TheListenAddressFollowsServerListensRules) {
  for (const char* bad : {"8001", "127.0.0.1:0", "127.0.0.1:99999", "::1:8001", "bad host:8001"}) {
    const auto r = load(std::string(kMinimal) + "admin: {enabled: true, token: t, listen: \"" + bad + "\"}\n");
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_THAT(messages(r), HasSubstr("test.yaml:3:42: admin.listen: ")) << bad;
    EXPECT_THAT(messages(r), Not(HasSubstr("server.listen's address"))) << bad;
  }
}

TEST(ValidateAdmin, ADisabledAdminApiOpensNoListener) {
  const auto r = load(std::string(kMinimal) + "admin: {enabled: false, listen: \":8000\"}\n");
  EXPECT_TRUE(r.ok()) << messages(r);
}

// ---- metrics

TEST(ValidateMetrics, ThePathMustNotShadowTheGatewaysOwnRoutes) {
  for (const char* path : {"/health", "/ready", "/v1", "/v1/models", "/admin", "/admin/keys"}) {
    const auto r = load(std::string(kMinimal) + "metrics:\n  path: " + path + "\n");
    EXPECT_EQ(messages(r),
              "test.yaml:4:9: metrics.path: '" + std::string(path) + "' is one of the gateway's own routes\n");
  }
  for (const char* path : {"/metrics", "/healthz", "/v1x", "/administration"}) {
    const auto r = load(std::string(kMinimal) + "metrics:\n  path: " + path + "\n");
    EXPECT_TRUE(r.ok()) << path << ": " << messages(r);
  }
}

TEST(ValidateMetrics, CustomLabelsAreTheOnesTheGatewayCanFill) {
  const auto r = load(std::string(kMinimal) + "metrics:\n  enabled: true\n  custom_labels: [model, api_key, region]\n");
  EXPECT_EQ(messages(r),
            "test.yaml:5:35: metrics.custom_labels[2]: unknown label 'region': one of model, api_key, user_id\n");
  const auto caller = load(std::string(kMinimal) + "metrics:\n  enabled: true\n  custom_labels: [user_id, api_key]\n");
  EXPECT_TRUE(caller.ok()) << messages(caller);
}

// ---- discovery

TEST(ValidateDiscovery, StaticBackendsNeedAUrlAndKubernetesAService) {
  const auto r = load(std::string(kMinimal) +
                      "discovery:\n"
                      "  sources:\n"
                      "    - name: s\n"
                      "      type: static\n"
                      "      static:\n"
                      "        backends:\n"
                      "          - name: no-url\n"
                      "    - name: k\n"
                      "      type: kubernetes\n");
  EXPECT_EQ(messages(r),
            "test.yaml:9:13: discovery.sources[0].static.backends[0]: url is required\n"
            "test.yaml:10:7: discovery.sources[1].kubernetes.service: service is required\n");
}

// ---- routing

TEST(ValidateRouting, FallbacksMayNameBackendsOfStaticDiscoverySources) {
  const std::string fallback = "routing:\n  fallback:\n    - {primary: a, fallback: [found]}\n";
  const std::string sources = "discovery:\n  enabled: true\n  sources:\n    - name: s\n      type: static\n"
                              "      static: {backends: [{name: found, url: 'http://127.0.0.1:9002'}]}\n";
  const auto r = load("backends:\n  - {name: a, url: 'http://127.0.0.1:9001'}\n" + fallback + sources);
  EXPECT_THAT(messages(r), Not(HasSubstr("matches no backend")));
  const auto without = load("backends:\n  - {name: a, url: 'http://127.0.0.1:9001'}\n" + fallback);
  EXPECT_THAT(messages(without),
              HasSubstr("test.yaml:5:31: routing.fallback[0].fallback[0]: 'found' matches no backend"));
}

TEST(ValidateRouting, ADynamicDiscoverySourceMayAddTheBackendsFallbacksName) {
  const auto r = load(std::string(kMinimal) +
                      "routing:\n  fallback:\n    - {primary: later, fallback: [later-too]}\n"
                      "discovery:\n  enabled: true\n  sources:\n"
                      "    - {name: c, type: consul, consul: {service: llm}}\n");
  EXPECT_THAT(messages(r), Not(HasSubstr("matches no backend")));
  // A disabled dynamic source adds nothing.
  const auto disabled = load(std::string(kMinimal) +
                             "routing:\n  fallback:\n    - {primary: later, fallback: [later-too]}\n"
                             "discovery:\n  enabled: true\n  sources:\n"
                             "    - {name: c, enabled: false, type: consul, consul: {service: llm}}\n");
  EXPECT_THAT(messages(disabled), HasSubstr("routing.fallback[0].primary: 'later' matches no backend"));
}

// A backend's headers cannot repeat what the gateway writes or what frames
// the message: the upstream would see two Content-Lengths, two Hosts.
TEST(ValidateBackends, HeadersCannotSetWhatTheGatewayWrites) {
  const auto r = load("backends:\n  - url: http://127.0.0.1:9001\n"
                      "    headers: {X-Team: a, content-length: \"5\", Transfer-Encoding: chunked, Host: other}\n");
  EXPECT_THAT(messages(r), HasSubstr("backends[0].headers.content-length: the gateway sets content-length itself"));
  EXPECT_THAT(messages(r), HasSubstr("backends[0].headers.Transfer-Encoding: the gateway sets"));
  EXPECT_THAT(messages(r), HasSubstr("backends[0].headers.Host: the gateway sets"));
  EXPECT_THAT(messages(r), ::testing::Not(HasSubstr("X-Team")));
}

// ---- rate_limit and storage

TEST(ValidateRateLimit, StorageMayNameAnyCacheOfStorage) {
  const std::string caches = "storage:\n  caches:\n    - {name: local, driver: memory}\n";
  const auto memory = load(std::string(kMinimal) + caches + "rate_limit: {storage: local}\n");
  EXPECT_TRUE(memory.ok()) << messages(memory);
  const auto missing = load(std::string(kMinimal) + caches + "rate_limit: {storage: locl}\n");
  EXPECT_EQ(messages(missing),
            "test.yaml:6:23: rate_limit.storage: no cache named 'locl' in storage.caches (did you mean 'local'?)\n");
}

TEST(ValidateStorage, CachesNeedANameToo) {
  const auto r = load(std::string(kMinimal) + "storage:\n  caches:\n    - {driver: memory}\n");
  EXPECT_EQ(messages(r), "test.yaml:5:7: storage.caches[0]: name is required\n");
}

// A field only the other driver reads would be ignored: refused, in the
// list and in the `storage.cache` shorthand alike.
TEST(ValidateStorage, FieldsOfTheOtherCacheDriverAreRefused) {
  const auto ok = load(std::string(kMinimal) +
                       "storage:\n  caches:\n    - {name: m, driver: memory, max_size: 10, ttl: 1m}\n"
                       "    - {name: r, driver: redis, addr: \"127.0.0.1:6379\", pool_size: 4}\n");
  EXPECT_TRUE(ok.ok()) << messages(ok);
  const auto memory = load(std::string(kMinimal) + "storage:\n  caches:\n    - {name: m, driver: memory, addr: \"h:1\"}\n");
  EXPECT_THAT(messages(memory), HasSubstr("storage.caches[0].addr: `addr` applies only when driver is 'redis', not 'memory'"));
  const auto redis = load(std::string(kMinimal) + "storage:\n  caches:\n    - {name: r, driver: redis, ttl: 5m}\n");
  EXPECT_THAT(messages(redis), HasSubstr("storage.caches[0].ttl: `ttl` applies only when driver is 'memory', not 'redis'"));
  const auto shorthand = load(std::string(kMinimal) + "storage:\n  cache: {driver: redis, max_size: 5}\n");
  EXPECT_THAT(messages(shorthand), HasSubstr("storage.cache.max_size: `max_size` applies only when driver is 'memory', not 'redis'"));
}

// Each worker keeps one connection to a Redis cache in use (shared by its
// modules): pool_size must allow server.workers of them; a cache nobody
// uses is not judged; min_idle_conns fits in pool_size.
TEST(ValidateStorage, PoolSizeMustLeaveEachWorkerItsConnection) {
  const std::string base = std::string(kMinimal) +
                           "storage:\n  caches:\n    - {name: rl, driver: redis, addr: \"127.0.0.1:6379\", pool_size: 4}\n";
  const auto fits = load(base + "server: {workers: 4}\nrate_limit: {enabled: true, storage: rl, global: {requests_per_minute: 10}}\n");
  EXPECT_TRUE(fits.ok()) << messages(fits);
  const auto over = load(base + "server: {workers: 8}\nrate_limit: {enabled: true, storage: rl, global: {requests_per_minute: 10}}\n");
  EXPECT_THAT(messages(over), HasSubstr("storage.caches[0].pool_size: pool_size 4 is less than the 8 workers"));
  const auto unused = load(base + "server: {workers: 8}\n");
  EXPECT_TRUE(unused.ok()) << messages(unused);
  const auto idle = load(std::string(kMinimal) +
                         "storage:\n  caches:\n    - {name: rl, driver: redis, pool_size: 2, min_idle_conns: 3}\n"
                         "rate_limit: {enabled: true, storage: rl, global: {requests_per_minute: 10}}\nserver: {workers: 1}\n");
  EXPECT_THAT(messages(idle), HasSubstr("storage.caches[0].min_idle_conns: 3 idle connections cannot fit in pool_size 2"));
}

TEST(ValidateAdmin, StorageNamesADatabase) {
  const std::string admin = "admin: {enabled: true, token: t, storage: keys}\n";
  const auto ok = load(std::string(kMinimal) + "storage:\n  databases:\n    - {name: keys, driver: postgres, host: db}\n" + admin);
  EXPECT_TRUE(ok.ok()) << messages(ok);
  const auto missing = load(std::string(kMinimal) + admin);
  EXPECT_THAT(messages(missing), HasSubstr("admin.storage: no database named 'keys' in storage.databases"));
}

// ---- logging

TEST(ValidateLogging, AFileBlockUnderAnotherStorageIsAnErrorNotIgnored) {
  const auto r = load(std::string(kMinimal) +
                      "logging:\n"
                      "  enabled: true\n"
                      "  access:\n"
                      "    enabled: true\n"
                      "    file: {path: /var/log/llmproxy/access.log}\n");
  EXPECT_EQ(messages(r),
            "test.yaml:7:5: logging.access.file: set, but logging.access.storage is \"stdout\", so it would be "
            "ignored (set storage: file)\n");
  EXPECT_TRUE(load(std::string(kMinimal) +
                   "logging: {enabled: true, access: {enabled: true, storage: file, file: {path: /tmp/a.log}}}\n")
                  .ok());
}

}  // namespace
