#include "proxy/core/auth/authenticator.h"

#include <gtest/gtest.h>

#include "proxy/core/config/load.h"

using namespace llmproxy;
using namespace llmproxy::auth;
using openai::ErrorId;

namespace {

const WallTime kNow{std::chrono::seconds(1'767'225'600)};  // 2026-01-01T00:00:00Z
const auto kClient = util::parse_ip("10.0.0.7").value;

Authenticator build(std::string_view yaml) {
  const auto r = config::load_config_string(yaml, "auth.yaml", ".", {});
  EXPECT_TRUE(r.config) << (r.diagnostics.empty() ? "" : r.diagnostics[0].message);
  auto a = Authenticator::from(*r.config);
  EXPECT_TRUE(a.ok()) << a.error;
  return a.ok() ? std::move(*a.value) : Authenticator{};
}

std::optional<ErrorId> error_for(const Authenticator& a, std::string_view key) {
  return a.check(key, kClient, kNow).decision.error;
}

constexpr std::string_view kBackends = "backends: [{name: a, url: \"http://127.0.0.1:9\"}]\n";

}  // namespace

TEST(Authenticator, OnWithAuthOrWithApiKeys) {
  config::Config c;
  EXPECT_FALSE(auth_required(c));
  c.api_keys.push_back(config::StaticKey{});
  EXPECT_TRUE(auth_required(c));
  c.api_keys.clear();
  c.auth.enabled = true;
  EXPECT_TRUE(auth_required(c));
}

TEST(Authenticator, FirstMatchLetsTheFirstProviderThatKnowsTheKeyDecide) {
  const auto a = build(std::string(kBackends) + R"(
auth:
  enabled: true
  pipeline:
    - {name: off, type: static, enabled: false, static: {keys: [{key: sk-off}]}}
    - {name: one, type: static, static: {keys: [{key: sk-a, name: a, user_id: u1}, {key: sk-both, status: disabled}]}}
    - {name: two, type: static, static: {keys: [{key: sk-b}, {key: sk-both}]}}
api_keys: [sk-c, {key: sk-d, status: "1"}]
)");
  EXPECT_EQ(a.providers(), 3u);
  const auto ok = a.check("sk-a", kClient, kNow);
  ASSERT_TRUE(ok.decision.allowed());
  ASSERT_NE(ok.caller, nullptr);
  EXPECT_EQ(ok.caller->name, "a");
  EXPECT_EQ(ok.caller->user_id, "u1");
  EXPECT_EQ(ok.caller->id, to_hex(hash_key("sk-a")));
  EXPECT_FALSE(error_for(a, "sk-b"));
  EXPECT_FALSE(error_for(a, "sk-c"));
  EXPECT_EQ(error_for(a, "sk-both"), ErrorId::key_disabled);  // provider one decides
  EXPECT_EQ(error_for(a, "sk-d"), ErrorId::key_disabled);
  EXPECT_EQ(error_for(a, "sk-off"), ErrorId::invalid_api_key);  // its provider is disabled
  EXPECT_EQ(error_for(a, "sk-unknown"), ErrorId::invalid_api_key);
  EXPECT_EQ(error_for(a, ""), ErrorId::invalid_api_key);
  EXPECT_EQ(a.check("sk-unknown", kClient, kNow).caller, nullptr);
}

TEST(Authenticator, AllNeedsEveryProvider) {
  const auto a = build(std::string(kBackends) + R"(
auth:
  enabled: true
  mode: all
  pipeline:
    - {name: one, type: static, static: {keys: [{key: sk-both, name: first}, {key: sk-one}, {key: sk-ip, allowed_ips: [10.0.0.0/8]}]}}
    - {name: two, type: static, static: {keys: [{key: sk-both, name: second}, {key: sk-ip, denied_ips: [10.0.0.7]}]}}
)");
  const auto both = a.check("sk-both", kClient, kNow);
  ASSERT_TRUE(both.decision.allowed());
  EXPECT_EQ(both.caller->name, "first");
  EXPECT_EQ(error_for(a, "sk-one"), ErrorId::invalid_api_key);
  EXPECT_EQ(error_for(a, "sk-ip"), ErrorId::ip_not_allowed);
}

TEST(Authenticator, ApiKeysAloneWhenAuthIsOff) {
  const auto a = build(std::string(kBackends) + R"(
auth:
  enabled: false
  pipeline: [{name: one, type: static, static: {keys: [{key: sk-pipeline}]}}]
api_keys: [sk-top]
)");
  EXPECT_EQ(a.providers(), 1u);
  EXPECT_FALSE(error_for(a, "sk-top"));
  EXPECT_EQ(error_for(a, "sk-pipeline"), ErrorId::invalid_api_key);
}

TEST(Authenticator, RecordsFromTheConfig) {
  const auto a = build(std::string(kBackends) + R"(
api_keys:
  - {key: sk-later, starts_at: "2026-01-01T00:00:01Z"}
  - {key: sk-gone, expires_at: 1767225600}
  - {key: sk-num-expired, status: 3}
  - {key: sk-quota, status: quota_exceeded}
  - {key: sk-active, status: active, expires_at: "2026-01-01T00:00:01+00:00"}
)");
  EXPECT_EQ(error_for(a, "sk-later"), ErrorId::key_not_yet_valid);
  EXPECT_EQ(error_for(a, "sk-gone"), ErrorId::key_expired);
  EXPECT_EQ(error_for(a, "sk-num-expired"), ErrorId::key_expired);
  EXPECT_EQ(error_for(a, "sk-quota"), ErrorId::quota_exceeded);
  EXPECT_FALSE(error_for(a, "sk-active"));
  EXPECT_FALSE(a.check("sk-later", kClient, kNow + std::chrono::seconds(1)).decision.error);
}

TEST(Authenticator, BadRecordsNameTheirKey) {
  config::Config c;
  c.auth.enabled = true;
  config::AuthProvider p;
  p.type = config::ProviderType::static_keys;
  p.static_keys.keys.resize(2);
  p.static_keys.keys[0].key.value = "sk-1";
  p.static_keys.keys[1].key.value = "sk-1";
  c.auth.pipeline.push_back(p);
  auto a = Authenticator::from(c);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error, "auth.pipeline[0].static.keys[1]: the same key is listed twice");
  c.auth.pipeline[0].static_keys.keys[1].key.value = "sk-2";
  c.auth.pipeline[0].static_keys.keys[1].status = "on";
  a = Authenticator::from(c);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error.rfind("auth.pipeline[0].static.keys[1].status: unknown status \"on\"", 0), 0u) << a.error;
  c.auth.pipeline[0].type = config::ProviderType::lua;  // not built (check-config says so)
  EXPECT_FALSE(Authenticator::from(c));
  c.auth.pipeline[0].type = config::ProviderType::redis;  // a store: asked by the auth module
  a = Authenticator::from(c);
  ASSERT_TRUE(a);
  EXPECT_EQ(a.value->source(0), ProviderSource::store);
  EXPECT_TRUE(a.value->uses_stores());
}
