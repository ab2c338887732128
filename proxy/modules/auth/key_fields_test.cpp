#include "proxy/modules/auth/key_fields.h"

#include <gtest/gtest.h>

#include <chrono>

namespace {

using namespace llmproxy;
using modules::auth::KeyFields;
using modules::auth::record_from_fields;
using modules::auth::fields_from_json;

const WallTime kNow{std::chrono::seconds(1796860800 + 3600)};  // 2026-12-09 01:00 UTC

util::Parsed<auth::KeyRecord> read(const KeyFields& f) {
  return record_from_fields(f, "sk-test-1234567890", auth::hash_key("sk-test-1234567890"), 3, "ref", kNow);
}

TEST(KeyFields, EveryFieldIsRead) {
  const auto r = read({{"name", "ci"},
                       {"user_id", "u1"},
                       {"status", "enabled"},
                       {"starts_at", "2026-01-01T00:00:00Z"},
                       {"expires_at", "1893456000"},
                       {"total_quota", "1000"},
                       {"used_quota", "10"},
                       {"quota_reset_period", "daily"},
                       {"quota_reset_at", "1796860800"},
                       {"allowed_ips", "10.0.0.0/8, ::1"},
                       {"denied_ips", "10.0.0.9"},
                       {"team", "not ours: left alone"}});
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.value->name, "ci");
  EXPECT_EQ(r.value->user_id, "u1");
  EXPECT_EQ(r.value->provider, 3u);
  EXPECT_EQ(r.value->store_ref, "ref");
  EXPECT_EQ(r.value->id, auth::to_hex(auth::hash_key("sk-test-1234567890")));
  EXPECT_EQ(r.value->prefix, auth::key_prefix("sk-test-1234567890"));
  EXPECT_EQ(r.value->quota.total, 1000);
  EXPECT_EQ(r.value->quota.used, 10);
  EXPECT_EQ(r.value->quota.period, config::QuotaPeriod::daily);
  EXPECT_EQ(auth::used_now(r.value->quota, kNow), 10);
  ASSERT_TRUE(r.value->expires_at);
  EXPECT_FALSE(r.value->ips.permits(util::parse_ip("10.0.0.9").value));
  EXPECT_TRUE(r.value->ips.permits(util::parse_ip("10.0.0.8").value));
  EXPECT_FALSE(r.value->ips.permits(util::parse_ip("192.0.2.1").value));
}

TEST(KeyFields, AbsentFieldsMeanNoRule) {
  const auto r = read({});
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.value->status, auth::KeyStatus::active);
  EXPECT_FALSE(r.value->quota.limited());
  EXPECT_FALSE(r.value->expires_at);
  const auto nulls = read({{"expires_at", "null"}, {"status", ""}, {"total_quota", ""}});
  ASSERT_TRUE(nulls) << nulls.error;
  EXPECT_FALSE(nulls.value->expires_at);
}

TEST(KeyFields, TheOriginalsNumbersAndQuotaAlias) {
  const auto r = read({{"status", "1"}, {"quota", "500"}});
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.value->status, auth::KeyStatus::disabled);
  EXPECT_EQ(r.value->quota.total, 500);
}

// Without quota_reset_at the used count is the current period's.
TEST(KeyFields, UsedWithoutResetAtCountsNow) {
  const auto r = read({{"total_quota", "100"}, {"used_quota", "100"}, {"quota_reset_period", "monthly"}});
  ASSERT_TRUE(r) << r.error;
  EXPECT_TRUE(auth::exhausted(r.value->quota, kNow));
}

TEST(KeyFields, UnreadableFieldsNameThemselves) {
  EXPECT_EQ(read({{"status", "on"}}).error.rfind("status: 'on'", 0), 0u);
  EXPECT_EQ(read({{"total_quota", "-1"}}).error.rfind("total_quota:", 0), 0u);
  EXPECT_EQ(read({{"used_quota", "1.5"}}).error.rfind("used_quota:", 0), 0u);
  EXPECT_EQ(read({{"expires_at", "tomorrow"}}).error.rfind("expires_at:", 0), 0u);
  EXPECT_EQ(read({{"quota_reset_period", "hourly"}}).error.rfind("quota_reset_period:", 0), 0u);
  EXPECT_EQ(read({{"allowed_ips", "10.0.0.0/33"}}).error.rfind("allowed_ips", 0), 0u);
}

TEST(KeyFields, JsonObjectsBecomeFields) {
  auto f = fields_from_json(R"({"name":"n","total_quota":100,"used_quota":2.0,"allowed_ips":["10.0.0.1","::1"],)"
                            R"("expires_at":null,"vip":true})");
  ASSERT_TRUE(f) << f.error;
  const auto r = read(*f.value);
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r.value->quota.total, 100);
  EXPECT_EQ(r.value->quota.used, 2);
  EXPECT_TRUE(r.value->ips.permits(util::parse_ip("::1").value));
  EXPECT_FALSE(fields_from_json("[1]"));
  EXPECT_FALSE(fields_from_json("{\"a\":"));
  EXPECT_FALSE(fields_from_json("{\"allowed_ips\":{}}"));
  EXPECT_FALSE(fields_from_json("{\"denied_ips\":[1]}"));
  const auto nested = fields_from_json("{\"meta\":{\"a\":1},\"tags\":[1],\"name\":\"n\"}");
  ASSERT_TRUE(nested) << nested.error;
  EXPECT_EQ(nested.value->size(), 1u);
  EXPECT_FALSE(fields_from_json(""));
}

}  // namespace
