// The redis provider's source against a real redis-server (scripts/test
// starts one: LLMPROXY_TEST_REDIS): hash and JSON values read through
// key_fields, unknown keys, values that cannot be read, and usage charged
// atomically with the period restart, on both value kinds.
#include "proxy/modules/auth/redis_source.h"

#include <gtest/gtest.h>

#include <array>

#include "proxy/shell/exchange.h"
#include "proxy/stores/redis/redis_test_support.h"

namespace {

using namespace llmproxy;
using modules::auth::LookupRequest;
using modules::auth::RedisSource;
using modules::auth::SourceAnswer;
using stores::redis::testing::run;
namespace rt = stores::redis::testing;

constexpr std::string_view kPattern = "llmproxy-test:auth:{api_key}";

struct Fixture {
  stores::redis::ClientConfig cfg;
  shell::Exchange ex;
  std::optional<util::IpAddress> client;
};

env::Task<SourceAnswer> ask(RedisSource& s, Fixture& f, std::string_view key) {
  const auth::KeyHash hash = auth::hash_key(key);
  const LookupRequest req{key, hash, 1, f.client, f.ex};
  co_return co_await s.lookup(req);
}

// GCC 12 cannot keep a braced list's array across a co_await: arguments
// are passed one by one and collected here.
template <class... A>
std::vector<std::string> args(const A&... a) {
  return {std::string(a)...};
}

env::Task<std::string> cmd(stores::redis::RedisClient& c, std::vector<std::string> args) {
  std::vector<std::string_view> argv(args.begin(), args.end());
  stores::redis::error_code ec;
  const auto r = co_await c.command(argv, ec);
  co_return r.is_integer() ? std::to_string(r.integer) : r.str;
}

TEST(RedisSource, KeyNamesReplaceEveryPlaceholder) {
  EXPECT_EQ(modules::auth::redis_key_name("k:{api_key}", "sk-1"), "k:sk-1");
  EXPECT_EQ(modules::auth::redis_key_name("{api_key}/{api_key}", "a"), "a/a");
  EXPECT_EQ(modules::auth::redis_key_name("k:{api_key", "a"), "k:{api_key");
}

TEST(RedisSource, HashAndJsonValuesAreKeys) {
  Fixture f;
  if (!rt::test_redis(f.cfg)) return;
  run([&](env::RealEnv& env) -> env::Task<void> {
    stores::redis::RedisClient admin(env, f.cfg);
    RedisSource source(env, std::make_shared<stores::redis::RedisClient>(env, f.cfg), std::string(kPattern));
    co_await cmd(admin, args("DEL", "llmproxy-test:auth:sk-hash", "llmproxy-test:auth:sk-json",
                         "llmproxy-test:auth:sk-list", "llmproxy-test:auth:sk-bad", "llmproxy-test:auth:sk-nojson"));
    co_await cmd(admin, args("HSET", "llmproxy-test:auth:sk-hash", "name", "ci", "user_id", "u1", "status", "enabled",
                         "total_quota", "100", "used_quota", "7", "allowed_ips", "10.0.0.0/8"));
    co_await cmd(admin, args("SET", "llmproxy-test:auth:sk-json", R"({"name":"j","status":1,"denied_ips":["::1"]})"));
    co_await cmd(admin, args("RPUSH", "llmproxy-test:auth:sk-list", "x"));
    co_await cmd(admin, args("HSET", "llmproxy-test:auth:sk-bad", "status", "on"));
    co_await cmd(admin, args("SET", "llmproxy-test:auth:sk-nojson", "enabled"));

    const auto hash = co_await ask(source, f, "sk-hash");
    EXPECT_EQ(hash.kind, SourceAnswer::Kind::known) << hash.error;
    if (hash.record) {
      EXPECT_EQ(hash.record->name, "ci");
      EXPECT_EQ(hash.record->quota.used, 7);
      EXPECT_EQ(hash.record->provider, 1u);
      EXPECT_EQ(hash.record->store_ref, "llmproxy-test:auth:sk-hash");
    }
    const auto json = co_await ask(source, f, "sk-json");
    EXPECT_EQ(json.kind, SourceAnswer::Kind::known) << json.error;
    if (json.record) {
      EXPECT_EQ(json.record->status, auth::KeyStatus::disabled);
    }
    EXPECT_EQ((co_await ask(source, f, "sk-none")).kind, SourceAnswer::Kind::unknown);
    // Entries that cannot be read fail (503), naming why, never the key.
    const std::array<std::string_view, 3> unreadable = {"sk-list", "sk-bad", "sk-nojson"};
    for (std::string_view key : unreadable) {
      const auto bad = co_await ask(source, f, key);
      EXPECT_EQ(bad.kind, SourceAnswer::Kind::failed) << key;
      EXPECT_EQ(bad.error.find(key), std::string::npos) << bad.error;
    }
    // A key that looks like a pattern or a command is only ever a name.
    EXPECT_EQ((co_await ask(source, f, "*")).kind, SourceAnswer::Kind::unknown);
    EXPECT_EQ((co_await ask(source, f, "sk-hash\r\nFLUSHALL")).kind, SourceAnswer::Kind::unknown);
    const std::string got1 = co_await cmd(admin, args("EXISTS", "llmproxy-test:auth:sk-hash"));
    EXPECT_EQ(got1, "1");
    source.close();
    admin.close();
  });
}

TEST(RedisSource, UsageIsAddedAtomicallyAndRestartsInANewPeriod) {
  Fixture f;
  if (!rt::test_redis(f.cfg)) return;
  run([&](env::RealEnv& env) -> env::Task<void> {
    stores::redis::RedisClient admin(env, f.cfg);
    RedisSource source(env, std::make_shared<stores::redis::RedisClient>(env, f.cfg), std::string(kPattern));
    const std::string h = "llmproxy-test:auth:sk-charge-h", j = "llmproxy-test:auth:sk-charge-j";
    co_await cmd(admin, args("DEL", h, j));
    co_await cmd(admin, args("HSET", h, "used_quota", "5", "quota_reset_period", "daily", "quota_reset_at", "1000"));
    co_await cmd(admin, args("SET", j, R"({"used_quota":5,"note":"kept"})", "EX", "3600"));

    // No period: added.
    EXPECT_TRUE((co_await source.add_usage(j, 10, std::nullopt)).ok());
    // The same period: added; a later one: restarted.
    EXPECT_TRUE((co_await source.add_usage(h, 10, 1000)).ok());
    const std::string got2 = co_await cmd(admin, args("HGET", h, "used_quota"));
    EXPECT_EQ(got2, "15");
    EXPECT_TRUE((co_await source.add_usage(h, 3, 2000)).ok());
    const std::string got3 = co_await cmd(admin, args("HGET", h, "used_quota"));
    EXPECT_EQ(got3, "3");
    const std::string got4 = co_await cmd(admin, args("HGET", h, "quota_reset_at"));
    EXPECT_EQ(got4, "2000");
    EXPECT_TRUE((co_await source.add_usage(j, 1, 2000)).ok());  // no reset_at yet: counted as this period's
    const auto back = co_await ask(source, f, "sk-charge-j");
    EXPECT_EQ(back.kind, SourceAnswer::Kind::known) << back.error;
    if (back.record) {
      EXPECT_EQ(back.record->quota.used, 16);
    }
    const std::string got5 = co_await cmd(admin, args("GET", j));
    EXPECT_NE(got5, "");
    EXPECT_NE((co_await cmd(admin, args("GET", j))).find("\"note\":\"kept\""), std::string::npos);
    const std::string got6 = co_await cmd(admin, args("TTL", j));
    EXPECT_NE(got6, "-1");  // KEEPTTL
    // Gone: not_found (its usage has nowhere to go).
    EXPECT_EQ((co_await source.add_usage("llmproxy-test:auth:sk-gone", 1, std::nullopt)).outcome,
              stores::keys::Outcome::not_found);
    source.close();
    admin.close();
  });
}

TEST(RedisSource, AStoppedRedisIsAFailureNotAnUnknownKey) {
  Fixture f;
  if (!rt::test_redis(f.cfg)) return;
  run([&](env::RealEnv& env) -> env::Task<void> {
    auto cfg = f.cfg;
    cfg.port = rt::closed_port(env);
    RedisSource source(env, std::make_shared<stores::redis::RedisClient>(env, cfg), std::string(kPattern));
    const auto a = co_await ask(source, f, "sk-any");
    EXPECT_EQ(a.kind, SourceAnswer::Kind::failed);
    EXPECT_EQ((co_await source.add_usage("x", 1, std::nullopt)).outcome, stores::keys::Outcome::unavailable);
    source.close();
  });
}

}  // namespace
