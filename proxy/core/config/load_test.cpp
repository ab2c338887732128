#include "proxy/core/config/load.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "proxy/core/config/print.h"
#include "proxy/core/config/test_env.h"

using namespace llmproxy;
using namespace llmproxy::config;
using namespace std::chrono_literals;
using config::testing::fake_env;
using ::testing::HasSubstr;

namespace {

constexpr const char* kMinimal = "backends:\n  - url: http://127.0.0.1:9001\n";

LoadResult load(std::string_view yaml, const EnvLookup& env = fake_env(), std::string base_dir = "") {
  return load_config_string(yaml, "test.yaml", std::move(base_dir), env);
}

std::string messages(const LoadResult& r) {
  std::string out;
  for (const auto& d : r.diagnostics) out += format_diagnostic(d) + "\n";
  return out;
}

}  // namespace

TEST(Load, MinimalConfigHasDocumentedDefaults) {
  const auto r = load(kMinimal);
  ASSERT_TRUE(r.ok()) << messages(r);
  const Config& c = *r.config;
  EXPECT_EQ(c.server.listen, ":8000");
  EXPECT_EQ(c.server.read_timeout, 30s);
  EXPECT_EQ(c.server.write_timeout, 60s);
  EXPECT_EQ(c.server.idle_timeout, 120s);
  EXPECT_EQ(c.server.max_header_bytes.bytes, 32768u);
  EXPECT_EQ(c.server.max_body_size.bytes, 10485760u);
  EXPECT_EQ(c.server.workers, 0);
  EXPECT_EQ(c.server.drain_timeout, 30s);
  EXPECT_EQ(c.log.level, LogLevel::info);
  EXPECT_TRUE(c.routing.enabled);
  EXPECT_EQ(c.routing.load_balance, LoadBalance::round_robin);
  EXPECT_EQ(c.routing.timeout, 60s);
  EXPECT_EQ(c.routing.connect_timeout, 5s);
  EXPECT_EQ(c.routing.first_byte_timeout, 0s);
  EXPECT_EQ(c.routing.retry.jitter, 0.2);
  EXPECT_EQ(c.routing.retry.retry_on.size(), 5u);
  EXPECT_EQ(c.auth.cache_ttl, 10s);
  EXPECT_EQ(c.rate_limit.fail_mode, FailMode::open);
  EXPECT_EQ(c.health_check.expected_status, 200);
  EXPECT_FALSE(c.auth.enabled || c.rate_limit.enabled || c.health_check.enabled || c.discovery.enabled ||
               c.logging.enabled || c.metrics.enabled || c.usage.enabled || c.admin.enabled || c.hooks.enabled ||
               c.scripts.enabled || c.routing.retry.enabled || c.routing.circuit_breaker.enabled);
  ASSERT_EQ(c.backends.size(), 1u);
  EXPECT_EQ(c.backends[0].weight, 1);
  EXPECT_FALSE(c.backends[0].forward_api_key);
  EXPECT_EQ(c.backends[0].parsed_url.host, "127.0.0.1");
  EXPECT_EQ(c.backends[0].parsed_url.port, 9001);
}

TEST(Load, ExpandsEnvironmentVariables) {
  const auto r = load(
      "server:\n  listen: ':${PORT}'\nbackends:\n  - url: http://${HOST:-localhost}:1\n    headers: {X-Price: '$$5'}\n",
      fake_env({{"PORT", "9999"}}));
  ASSERT_TRUE(r.ok()) << messages(r);
  EXPECT_EQ(r.config->server.listen, ":9999");
  EXPECT_EQ(r.config->backends[0].url, "http://localhost:1");
  EXPECT_EQ(r.config->backends[0].headers.entries[0].second, "$5");

  const auto unset = load("backends:\n  - url: http://${NOPE}:1\n");
  EXPECT_EQ(unset.config, nullptr);
  EXPECT_THAT(messages(unset), HasSubstr("test.yaml:2:10: backends[0].url: environment variable NOPE is not set"));
}

TEST(Load, TopLevelListenIsAnAliasOfServerListen) {
  auto r = load(std::string("listen: 127.0.0.1:1234\n") + kMinimal);
  ASSERT_TRUE(r.ok()) << messages(r);
  EXPECT_EQ(r.config->server.listen, "127.0.0.1:1234");
  r = load(std::string("listen: ':1'\nserver: {listen: ':1'}\n") + kMinimal);
  EXPECT_TRUE(r.ok()) << messages(r);
  r = load(std::string("listen: ':1'\nserver: {listen: ':2'}\n") + kMinimal);
  EXPECT_THAT(messages(r), HasSubstr("test.yaml:1:1: listen: differs from server.listen"));
}

TEST(Load, AcceptsAliases) {
  const auto r = load(std::string(kMinimal) +
                      "routing: {load_balance: least_connections}\n"
                      "api_keys: [sk-a, {key: sk-b, user_id: u}]\n"
                      "auth:\n  pipeline:\n    - {name: l, type: lua, lua: {script: 'return true'}}\n");
  ASSERT_NE(r.config, nullptr) << messages(r);
  EXPECT_FALSE(r.has_schema_errors());
  EXPECT_EQ(r.config->routing.load_balance, LoadBalance::least_conn);
  ASSERT_EQ(r.config->api_keys.size(), 2u);
  EXPECT_EQ(r.config->api_keys[0].key.value, "sk-a");
  EXPECT_EQ(r.config->api_keys[1].user_id, "u");
  EXPECT_EQ(r.config->auth.pipeline[0].lua.code, "return true");
  // api_keys is built; the pipeline does not run while auth is off.
  EXPECT_TRUE(r.ok()) << messages(r);
}

TEST(Load, StorageShorthandsJoinTheLists) {
  const auto r = load(std::string(kMinimal) +
                      "storage:\n  database: {driver: sqlite, path: x.db}\n  cache: {driver: memory}\n"
                      "logging: {request: {storage: database}}\nrate_limit: {storage: cache}\n");
  ASSERT_TRUE(r.ok()) << messages(r);
  ASSERT_EQ(r.config->storage.databases.size(), 1u);
  EXPECT_EQ(r.config->storage.databases[0].name, "database");
  EXPECT_EQ(r.config->storage.caches[0].name, "cache");
  EXPECT_TRUE(r.config->storage.database_shorthand.empty());
  const auto back = load(print_config(*r.config, false));
  ASSERT_TRUE(back.ok()) << messages(back);
  EXPECT_EQ(*back.config, *r.config);
}

TEST(Load, DefaultStorageRule) {
  Config c;
  c.storage.databases = {DatabaseConfig{}, DatabaseConfig{}};
  c.storage.databases[0].name = "first";
  c.storage.databases[1].name = "database";
  EXPECT_EQ(resolve_database(c, "database")->name, "database");
  c.storage.databases[1].name = "second";
  EXPECT_EQ(resolve_database(c, "database")->name, "first");
  EXPECT_EQ(resolve_database(c, "second")->name, "second");
  EXPECT_EQ(resolve_database(c, "nope"), nullptr);
  EXPECT_EQ(resolve_cache(c, "cache"), nullptr);
  c.storage.caches = {CacheConfig{}};
  c.storage.caches[0].name = "local";
  EXPECT_EQ(resolve_cache(c, "cache")->name, "local");
}

TEST(Load, MalformedInputNeverThrows) {
  for (const char* text : {"", "{", "[", ":", "- - -", "a: [", "\t", "%YAML 9\n", "!!binary x", "&a [*a]",
                           "backends: *nope", "? ? ?", "server: {listen: [[[]]]}", "\xff\xfe", "backends:\n- - - - x",
                           "routing: {retry: {retry_on: {a: b}}}", "backends: [{headers: {? [a]: b}}]"}) {
    LoadResult r;
    EXPECT_NO_THROW(r = load(text)) << text;
    EXPECT_FALSE(r.diagnostics.empty()) << text;
  }
}

TEST(Load, DeepNestingIsAnErrorNotACrash) {
  const std::string deep = "backends: " + std::string(20000, '[') + std::string(20000, ']') + "\n";
  const auto r = load(deep);
  EXPECT_EQ(r.config, nullptr);
}

TEST(Load, TopLevelXKeysHoldAnchors) {
  const auto r = load("x-backend: &b {url: 'http://h:1', weight: 3}\nbackends: [*b, *b]\n");
  ASSERT_TRUE(r.ok()) << messages(r);
  EXPECT_EQ(r.config->backends.size(), 2u);
  EXPECT_EQ(r.config->backends[1].weight, 3);
}

TEST(Load, AliasBombIsCutShort) {
  std::string yaml = "x-b: &b {url: 'http://h:1', models: [a, b, c, d]}\n";
  yaml += "x-s: &s {name: s, type: static, static: {backends: [*b";
  for (int i = 0; i < 700; ++i) yaml += ", *b";
  yaml += "]}}\ndiscovery:\n  sources: [*s";
  for (int i = 0; i < 700; ++i) yaml += ", *s";
  yaml += "]\n";
  const auto r = load(yaml);
  EXPECT_EQ(r.config, nullptr);
  EXPECT_THAT(messages(r), HasSubstr("config too large"));
  EXPECT_LT(r.diagnostics.size(), 10u) << messages(r);
}

TEST(Load, LongStringAliasBombIsCutShort) {
  std::string yaml = "x-s: &s '" + std::string(4000, 'a') + "'\n" + kMinimal + "metrics: {custom_labels: [*s";
  for (int i = 0; i < 2000; ++i) yaml += ", *s";
  yaml += "]}\n";
  const auto r = load(yaml);
  EXPECT_EQ(r.config, nullptr);
  EXPECT_THAT(messages(r), HasSubstr("config too large"));
}

// ---- text that goes into HTTP heads

namespace {
std::string backend_with_header(std::string_view name, std::string_view value) {
  return "backends:\n  - url: http://127.0.0.1:9001\n    headers:\n      " + std::string(name) + ": " +
         std::string(value) + "\n";
}
TEST(Load, ChangedKeysNamesEveryDifferenceAndNothingElse) {
  const auto a = load(R"(
server:
  listen: "127.0.0.1:8080"
backends:
  - name: a
    url: "http://a:8000"
  - name: b
    url: "http://b:8000"
)");
  const auto b = load(R"(
server:
  listen: "127.0.0.1:9090"
rate_limit:
  enabled: true
backends:
  - name: a
    url: "http://a:8000"
    weight: 4
  - name: b
    url: "http://b:8000"
)");
  const auto c = load(R"(
server:
  listen: "127.0.0.1:8080"
backends:
  - name: a
    url: "http://a:8000"
)");
  ASSERT_TRUE(a.config && b.config && c.config);
  EXPECT_TRUE(changed_keys(*a.config, *a.config).empty());
  EXPECT_EQ(changed_keys(*a.config, *b.config),
            (std::vector<std::string>{"server.listen", "backends[0].weight", "rate_limit.enabled"}));
  EXPECT_EQ(changed_keys(*a.config, *c.config), (std::vector<std::string>{"backends"}));
}

}  // namespace

TEST(HttpHeads, HeaderValueWithCrLfIsRejectedAtTheValue) {
  const auto r = load(backend_with_header("X-Key", "\"abc\\r\\nX-Injected: 1\""));
  EXPECT_EQ(r.config, nullptr);
  EXPECT_EQ(messages(r),
            "test.yaml:4:14: backends[0].headers.X-Key: value contains a line break (CR/LF); header values must be "
            "one line\n");
}

TEST(HttpHeads, SecretFromEnvWithTrailingNewlineIsRejected) {
  // Expansion comes first, so the check sees what would be sent.
  const auto r = load(backend_with_header("Authorization", "'Bearer ${SECRET}'"),
                      fake_env({{"SECRET", "s3cr3t\n"}}));
  EXPECT_EQ(r.config, nullptr);
  EXPECT_EQ(messages(r),
            "test.yaml:4:22: backends[0].headers.Authorization: value ends with a line break (CR/LF), as text read "
            "from a file often does; header values must be one line\n");
  EXPECT_THAT(messages(r), ::testing::Not(HasSubstr("s3cr3t")));  // the value may be a secret

  const auto ok = load(backend_with_header("Authorization", "'Bearer ${SECRET}'"), fake_env({{"SECRET", "s3cr3t"}}));
  ASSERT_TRUE(ok.ok()) << messages(ok);
  EXPECT_EQ(ok.config->backends[0].headers.entries[0].second, "Bearer s3cr3t");
}

TEST(HttpHeads, HeaderValueControlCharactersAreRejected) {
  EXPECT_THAT(messages(load(backend_with_header("X-A", "\"a\\0b\""))),
              HasSubstr("test.yaml:4:12: backends[0].headers.X-A: value contains a control character (NUL)"));
  EXPECT_THAT(messages(load(backend_with_header("X-A", "\"a\\eb\""))),
              HasSubstr("value contains a control character (0x1B)"));
  const auto tab = load(backend_with_header("X-A", "\"a\\tb\""));
  EXPECT_TRUE(tab.ok()) << messages(tab);
}

TEST(HttpHeads, HeaderNamesMustBeTokensReportedAtTheKey) {
  EXPECT_EQ(messages(load(backend_with_header("X Key", "v"))),
            "test.yaml:4:7: backends[0].headers.X Key: header name contains a space; header names may use only "
            "letters, digits and !#$%&'*+-.^_`|~\n");
  // A line break in a quoted key is shown escaped: one diagnostic, one line.
  EXPECT_EQ(messages(load(backend_with_header("\"X-Key\\r\\nX-Injected\"", "v"))),
            "test.yaml:4:7: backends[0].headers.X-Key\\r\\nX-Injected: header name contains a line break (CR/LF); "
            "header names may use only letters, digits and !#$%&'*+-.^_`|~\n");
  EXPECT_THAT(messages(load(backend_with_header("\"X-Key:\"", "v"))), HasSubstr("header name contains ':'"));
  const auto ok = load(backend_with_header("X-Custom_1.~", "v"));
  EXPECT_TRUE(ok.ok()) << messages(ok);
}

TEST(HttpHeads, EveryHeaderMapIsChecked) {
  const auto r = load(std::string(kMinimal) +
                      "discovery:\n  sources:\n"
                      "    - {name: d, type: http, http: {url: 'http://r:1', headers: {X-A: \"1\\n\"}}}\n"
                      "    - {name: s, type: static, static: {backends: [{url: 'http://s:1', headers: {X-B: \"2\\n\"}}]}}\n"
                      "auth:\n  pipeline:\n"
                      "    - {name: w, type: webhook, webhook: {url: 'http://w:1', headers: {X-C: \"3\\n\"}}}\n"
                      "usage:\n  reporters:\n"
                      "    - {name: u, type: webhook, webhook: {url: 'http://u:1', headers: {X-D: \"4\\n\"}}}\n");
  const std::string m = messages(r);
  EXPECT_THAT(m, HasSubstr("discovery.sources[0].http.headers.X-A: value ends with a line break"));
  EXPECT_THAT(m, HasSubstr("discovery.sources[1].static.backends[0].headers.X-B: value ends with a line break"));
  EXPECT_THAT(m, HasSubstr("auth.pipeline[0].webhook.headers.X-C: value ends with a line break"));
  EXPECT_THAT(m, HasSubstr("usage.reporters[0].webhook.headers.X-D: value ends with a line break"));
}

TEST(HttpHeads, OtherStringsThatReachAHeadRejectLineBreaks) {
  // The backend URL gives the request line's path and the Host header.
  const auto url = load("backends:\n  - url: http://${HOST}:1/v1\n", fake_env({{"HOST", "h\r\nX-Injected: 1"}}));
  EXPECT_THAT(messages(url), HasSubstr("test.yaml:2:10: backends[0].url: URL \"http://h\\r\\nX-Injected: 1:1/v1\" "
                                       "contains a space or control character\n"));
  const auto base = load("backends:\n  - url: 'http://h:1${P}'\n", fake_env({{"P", "/v1\n"}}));
  EXPECT_THAT(messages(base), HasSubstr("contains a space or control character"));
  // The health probe's request line.
  const auto path = load(std::string(kMinimal) + "health_check: {path: '${P}'}\n", fake_env({{"P", "/health\n"}}));
  EXPECT_THAT(messages(path), HasSubstr("health_check.path: invalid character in path \"/health\\n\""));
  const auto method = load(std::string(kMinimal) + "health_check: {method: \"GET\\r\\n\"}\n");
  EXPECT_THAT(messages(method), HasSubstr("health_check.method: invalid HTTP method"));
  // CORS answers (not built yet, but configured now) and the names of key headers.
  const auto cors = load(std::string(kMinimal) +
                         "server:\n  cors:\n    allowed_origins: [\"https://a.example\\n\"]\n"
                         "    allowed_methods: [GET, \"PO ST\"]\n    allowed_headers: [\"X Key\"]\n"
                         "    expose_headers: [\"X-A\\r\\n\"]\n"
                         "auth: {header_names: [Authorization, \"X-Key\\n\"]}\n");
  const std::string m = messages(cors);
  EXPECT_THAT(m, HasSubstr("server.cors.allowed_origins[0]: value ends with a line break (CR/LF)"));
  EXPECT_THAT(m, HasSubstr("server.cors.allowed_methods[1]: method contains a space"));
  EXPECT_THAT(m, HasSubstr("server.cors.allowed_headers[0]: header name contains a space"));
  EXPECT_THAT(m, HasSubstr("server.cors.expose_headers[0]: header name contains a line break (CR/LF)"));
  EXPECT_THAT(m, HasSubstr("auth.header_names[1]: header name contains a line break (CR/LF)"));
  const auto defaults = load(std::string(kMinimal) + "server: {cors: {allowed_methods: ['*'], allowed_headers: ['*']}}\n");
  EXPECT_FALSE(defaults.has_schema_errors()) << messages(defaults);
}

// ---- alias budget and the diagnostic cap

namespace {
std::size_t message_bytes(const LoadResult& r) { return messages(r).size(); }

// ~1 MiB of one long key repeated through an alias; before keys were charged
// it took seconds, a gigabyte, and printed ~94 000 diagnostics of 10 kB each.
std::string aliased_key_bomb() {
  std::string yaml = "x-k: &k " + std::string(10000, 'a') + "\nbackends:\n  - url: http://h:1\n";
  while (yaml.size() < (1u << 20)) yaml += "    *k : 1\n";
  return yaml;
}
}  // namespace

TEST(AliasBudget, AliasedKeysAreChargedAgainstTheBudget) {
  const auto r = load(aliased_key_bomb());
  EXPECT_EQ(r.config, nullptr);
  ASSERT_FALSE(r.diagnostics.empty());
  EXPECT_EQ(format_diagnostic(r.diagnostics[0]),
            "test.yaml:1:6: backends[0]: config too large (YAML aliases expand to more than 200000 values); reading "
            "stopped here");
  // Bounded work: reading stopped after a few hundred keys (each costs its
  // length), and the repeats of one problem are shown once.
  EXPECT_LT(r.problem_count(), 10u) << messages(r);
  EXPECT_LT(message_bytes(r), 1000u) << messages(r);
  EXPECT_THAT(messages(r), HasSubstr("duplicate key 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'"));
}

TEST(AliasBudget, ManyDistinctAliasedKeysStopEarlyAndAreCapped) {
  std::string yaml;
  for (int i = 0; i < 100; ++i) yaml += "x-k" + std::to_string(i) + ": &k" + std::to_string(i) + " " +
                                        std::string(3000, 'b') + std::to_string(i) + "\n";
  yaml += "backends:\n  - url: http://h:1\n";
  for (int i = 0; yaml.size() < (1u << 20); ++i) yaml += "    *k" + std::to_string(i % 100) + " : 1\n";
  const auto r = load(yaml);
  EXPECT_EQ(r.config, nullptr);
  EXPECT_THAT(r.diagnostics.front().message, HasSubstr("config too large"));
  EXPECT_EQ(r.diagnostics.size(), kMaxDiagnostics + 1);
  EXPECT_THAT(r.diagnostics.back().message, ::testing::MatchesRegex("\\.\\.\\. [0-9]+ more problems not shown"));
  EXPECT_LT(r.problem_count(), 200u);  // a few hundred keys read, ~340 000 in the file
  EXPECT_LT(message_bytes(r), 16u * 1024);
}

TEST(AliasBudget, AliasedHeaderNamesAreChargedToo) {
  std::string yaml = "x-k: &k " + std::string(10000, 'H') + "\nbackends:\n  - url: http://h:1\n    headers:\n";
  while (yaml.size() < (1u << 20)) yaml += "      *k : v\n";
  const auto r = load(yaml);
  EXPECT_EQ(r.config, nullptr);
  EXPECT_THAT(r.diagnostics.front().message, HasSubstr("backends[0].headers: config too large"));
  EXPECT_LT(r.problem_count(), 10u) << messages(r);
}

TEST(AliasBudget, KeysAfterTheStopAreNotCalledUnknown) {
  std::string yaml = "x-s: &s '" + std::string(4000, 'a') + "'\n" + kMinimal + "metrics: {custom_labels: [*s";
  for (int i = 0; i < 2000; ++i) yaml += ", *s";
  yaml += "]}\nrouting: {timeout: 5s}\nhealth_check: {enabled: false}\n";
  const auto r = load(yaml);
  EXPECT_EQ(r.config, nullptr);
  EXPECT_THAT(messages(r), HasSubstr("config too large"));
  EXPECT_THAT(messages(r), ::testing::Not(HasSubstr("unknown")));
}

TEST(Diagnostics, ManyProblemsAreCappedWithASummaryAtTheFirstOneLeftOut) {
  std::string yaml = std::string(kMinimal) + "server:\n";
  for (int i = 0; i < 120; ++i) yaml += "  bogus_" + std::to_string(i) + ": 1\n";
  const auto r = load(yaml);
  EXPECT_EQ(r.config, nullptr);
  ASSERT_EQ(r.diagnostics.size(), kMaxDiagnostics + 1);
  EXPECT_EQ(format_diagnostic(r.diagnostics[0]), "test.yaml:4:3: server: unknown key 'bogus_0'");
  EXPECT_EQ(format_diagnostic(r.diagnostics[kMaxDiagnostics - 1]), "test.yaml:53:3: server: unknown key 'bogus_49'");
  EXPECT_EQ(format_diagnostic(r.diagnostics.back()), "test.yaml:54:3: ... 70 more problems not shown");
  EXPECT_EQ(r.not_shown, 70u);
  EXPECT_EQ(r.problem_count(), 120u);
  EXPECT_TRUE(r.has_schema_errors());
  EXPECT_EQ(load(yaml).diagnostics, r.diagnostics);  // deterministic
}

TEST(Diagnostics, OneMoreThanTheCapIsShownInFull) {
  std::string yaml = std::string(kMinimal) + "server:\n";
  for (std::size_t i = 0; i <= kMaxDiagnostics; ++i) yaml += "  bogus_" + std::to_string(i) + ": 1\n";
  const auto r = load(yaml);
  EXPECT_EQ(r.diagnostics.size(), kMaxDiagnostics + 1);
  EXPECT_EQ(r.not_shown, 0u);
  EXPECT_THAT(r.diagnostics.back().message, HasSubstr("bogus_50"));
}

TEST(Diagnostics, RepeatsFromAliasesAreShownOnce) {
  // yaml-cpp gives an alias the position of its anchor, so both duplicates
  // would be the same line at 1:6.
  const auto r = load("x-k: &k bogus\nbackends:\n  - url: http://h:1\n    *k : 1\n    *k : 2\n    *k : 3\n");
  EXPECT_EQ(messages(r),
            "test.yaml:1:6: backends[0].bogus: duplicate key 'bogus'\n"
            "test.yaml:1:6: backends[0]: unknown key 'bogus'\n");
}

TEST(Diagnostics, AreOneLineEach) {
  const auto r = load("backends:\n  - url: \"http://h\\n:1\"\n    name: [\"a\\nb\"]\n");
  for (const auto& d : r.diagnostics) EXPECT_EQ(d.message.find_first_of("\r\n"), std::string::npos) << d.message;
  EXPECT_THAT(messages(r), HasSubstr("URL \"http://h\\n:1\""));
}

TEST(Print, RedactsSecretsAndEscapesDollars) {
  const auto r = load(std::string(kMinimal) +
                      "storage:\n  databases: [{name: d, driver: postgres, host: h, password: 'p$w'}]\n"
                      "admin: {token: t0k}\n");
  ASSERT_NE(r.config, nullptr) << messages(r);
  const std::string redacted = print_config(*r.config, true);
  EXPECT_THAT(redacted, HasSubstr("password: \"<redacted>\""));
  EXPECT_THAT(redacted, HasSubstr("token: \"<redacted>\""));
  EXPECT_THAT(redacted, ::testing::Not(HasSubstr("t0k")));
  const std::string plain = print_config(*r.config, false);
  EXPECT_THAT(plain, HasSubstr("password: \"p$$w\""));
  const auto again = load(plain);
  ASSERT_NE(again.config, nullptr) << messages(again);
  EXPECT_EQ(*again.config, *r.config);
  EXPECT_EQ(print_config(*again.config, false), plain);
}

TEST(Print, IsAFixpointForTheMinimalConfig) {
  const auto r = load(kMinimal);
  ASSERT_TRUE(r.ok());
  const std::string once = print_config(*r.config, false);
  const auto back = load(once);
  ASSERT_TRUE(back.ok()) << messages(back) << once;
  EXPECT_EQ(print_config(*back.config, false), once);
  EXPECT_EQ(*back.config, *r.config);
}

TEST(Scripts, CompilesFilesRelativeToTheConfig) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "llmproxy_config_load_test";
  fs::create_directories(dir / "s");
  std::ofstream(dir / "s" / "ok.lua") << "function process(ctx) return {} end\n";
  std::ofstream(dir / "s" / "bad.lua") << "function process(ctx\n";
  const std::string base = std::string(kMinimal) + "routing:\n  script: {enabled: true, path: s/";
  auto ok = load(base + "ok.lua}\n", fake_env(), dir.string());
  EXPECT_FALSE(ok.has_schema_errors()) << messages(ok);
  auto bad = load(base + "bad.lua}\n", fake_env(), dir.string());
  EXPECT_THAT(messages(bad), HasSubstr("routing.script.path: Lua syntax error: s/bad.lua:"));
  auto missing = load(base + "none.lua}\n", fake_env(), dir.string());
  EXPECT_THAT(messages(missing), HasSubstr("script file 's/none.lua' not found"));
  auto disabled = load(std::string(kMinimal) + "routing:\n  script: {enabled: false, path: s/none.lua}\n",
                       fake_env(), dir.string());
  EXPECT_TRUE(disabled.ok()) << messages(disabled);
  fs::remove_all(dir);
}

TEST(Diagnostic, Format) {
  EXPECT_EQ(format_diagnostic(Diagnostic{"a.yaml", 3, 7, "boom", Diagnostic::Kind::schema}), "a.yaml:3:7: boom");
}

TEST(LoadFile, ReportsUnreadableFile) {
  const auto r = load_config_file("/nonexistent/llmproxy.yaml", fake_env());
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_THAT(format_diagnostic(r.diagnostics[0]), HasSubstr("/nonexistent/llmproxy.yaml:1:1: cannot read config file"));
}
