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
            "test.yaml:5:26: metrics.custom_labels: api_key (needs auth): not implemented yet in this build (see "
            "BEHAVIOR §7)\n"
            "test.yaml:5:35: metrics.custom_labels[2]: unknown label 'region': one of model, api_key, user_id\n");
  // Labels that need auth are only reported while metrics are on.
  const auto off = load(std::string(kMinimal) + "metrics:\n  custom_labels: [user_id]\n");
  EXPECT_TRUE(off.ok()) << messages(off);
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
