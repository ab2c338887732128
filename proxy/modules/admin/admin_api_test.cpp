// The admin API handler on a memory key store: each route's answers and
// envelope, the token check, field validation naming the field, and that
// neither a key nor the token appears where it must not.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "proxy/modules/admin/admin_api.h"
#include "proxy/stores/keys/memory_key_store.h"

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace llmproxy;
using llmproxy::modules::admin::AdminApi;
using llmproxy::modules::admin::AdminOptions;

constexpr const char* kToken = "admin-secret-token";

struct Answer {
  int status = 0;
  json::object body;
};

class AdminApiTest : public ::testing::Test {
 protected:
  AdminApiTest() {
    AdminOptions o;
    o.token = kToken;
    o.store = store_;
    o.secure_random = [this](std::span<std::uint8_t> out) {
      for (auto& b : out) b = static_cast<std::uint8_t>(next_random_++);
      return true;
    };
    api_ = std::make_unique<AdminApi>(std::move(o));
  }

  Answer call(const std::string& path, const std::string& body, const std::string& token = kToken,
              boost::beast::http::verb method = boost::beast::http::verb::post) {
    shell::ClientRequest req{method, path, 11};
    if (!token.empty()) req.set(boost::beast::http::field::authorization, "Bearer " + token);
    req.body() = body;
    shell::Exchange ex;
    Rng rng(1);
    ex.begin(req, TimePoint{}, WallTime(std::chrono::seconds(1767225600)), rng);  // 2026-01-01T00:00:00Z
    ex.client_ip = "203.0.113.9";
    std::string out;
    shell::EndpointResponse r;
    asio::io_context io;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> { r = co_await api_->handle_async(ex, out); }, asio::detached);
    io.run();
    Answer a;
    a.status = r.status;
    a.body = json::parse(out).as_object();
    return a;
  }

  std::shared_ptr<stores::keys::MemoryKeyStore> store_ = std::make_shared<stores::keys::MemoryKeyStore>();
  std::unique_ptr<AdminApi> api_;
  int next_random_ = 0;
};

TEST_F(AdminApiTest, CreateGetUpdateDeleteWithTheEnvelope) {
  Answer a = call("/admin/keys/create",
                  R"({"key":"sk-test-0123456789abcdef","name":"ci","user_id":"u1","status":"enabled",)"
                  R"("expires_at":"2027-01-01T00:00:00Z","total_quota":5000,"quota_reset_period":"monthly",)"
                  R"("allowed_ips":["10.0.0.0/8"],"denied_ips":"10.0.0.9, 10.0.0.10"})");
  ASSERT_EQ(a.status, 200) << json::serialize(a.body);
  EXPECT_EQ(a.body["success"], true);
  EXPECT_TRUE(a.body["error"].is_null());
  const auto& d = a.body["data"].as_object();
  EXPECT_FALSE(d.contains("key"));  // a key the caller gave is not echoed
  EXPECT_EQ(d.at("key_prefix"), "sk-tes…");  // auth::key_prefix: min(8, size / 4) characters
  EXPECT_EQ(d.at("expires_at"), "2027-01-01T00:00:00Z");
  EXPECT_EQ(d.at("created_at"), "2026-01-01T00:00:00Z");
  EXPECT_EQ(d.at("denied_ips").as_array().size(), 2u);

  a = call("/admin/keys/update", R"({"key":"sk-test-0123456789abcdef","status":1,"expires_at":null})");
  ASSERT_EQ(a.status, 200) << json::serialize(a.body);
  EXPECT_EQ(a.body["data"].as_object().at("status"), 1);
  EXPECT_EQ(a.body["data"].as_object().at("status_name"), "disabled");
  EXPECT_TRUE(a.body["data"].as_object().at("expires_at").is_null());
  EXPECT_EQ(a.body["data"].as_object().at("name"), "ci");  // untouched fields stay

  a = call("/admin/keys/get", R"({"key":"sk-test-0123456789abcdef"})");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body["data"].as_object().at("total_quota"), 5000);

  EXPECT_EQ(call("/admin/keys/delete", R"({"key":"sk-test-0123456789abcdef"})").status, 200);
  a = call("/admin/keys/get", R"({"key":"sk-test-0123456789abcdef"})");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.body["success"], false);
  EXPECT_EQ(a.body["error"], "key_not_found");
}

TEST_F(AdminApiTest, AGeneratedKeyIsReturnedOnceAndStoredOnlyAsADigest) {
  Answer a = call("/admin/keys/create", R"({"name":"generated"})");
  ASSERT_EQ(a.status, 200) << json::serialize(a.body);
  const std::string key(a.body["data"].as_object().at("key").as_string());
  EXPECT_EQ(key.substr(0, 3), "sk-");
  EXPECT_EQ(key.size(), 3u + 64u);  // 32 random bytes in hex
  a = call("/admin/keys/get", json::serialize(json::object{{"key", key}}));
  ASSERT_EQ(a.status, 200);
  EXPECT_FALSE(a.body["data"].as_object().contains("key"));
  // The store holds the digest, not the key.
  Answer listed = call("/admin/keys/list", "{}");
  EXPECT_EQ(json::serialize(listed.body).find(key), std::string::npos);
}

TEST_F(AdminApiTest, AnswersStayValidJsonForKeysOfAnyCharacters) {
  // The key prefix once cut the first "é" in half: the answer (and the log
  // line) held invalid UTF-8 (found by fuzz/admin_request).
  const std::string key = "a\u00e9\u00e9\u00e9\u00e9";
  Answer a = call("/admin/keys/create", json::serialize(json::object{{"key", key}}));  // call() parses the answer
  ASSERT_EQ(a.status, 200) << json::serialize(a.body);
  EXPECT_EQ(a.body["data"].as_object().at("key_prefix"), "a\u2026");
  EXPECT_EQ(call("/admin/keys/get", json::serialize(json::object{{"key", key}})).status, 200);
}

TEST_F(AdminApiTest, DuplicatesConflictAndUnknownKeysAreNotFound) {
  EXPECT_EQ(call("/admin/keys/create", R"({"key":"k-1"})").status, 200);
  Answer a = call("/admin/keys/create", R"({"key":"k-1"})");
  EXPECT_EQ(a.status, 409);
  EXPECT_EQ(a.body["error"], "key_exists");
  EXPECT_EQ(call("/admin/keys/update", R"({"key":"nope","name":"x"})").status, 404);
  EXPECT_EQ(call("/admin/keys/delete", R"({"key":"nope"})").status, 404);
}

TEST_F(AdminApiTest, BadInputIsA400NamingTheField) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"key":"k","status":"sleeping"})", "status"},
      {R"({"key":"k","expires_at":"next tuesday"})", "expires_at"},
      {R"({"key":"k","total_quota":-5})", "total_quota"},
      {R"({"key":"k","quota_reset_period":"hourly"})", "quota_reset_period"},
      {R"({"key":"k","allowed_ips":["10.0.0.0/33"]})", "allowed_ips"},
      {R"({"key":"k","nmae":"typo"})", "nmae"},
      {R"({"key":""})", "key"},
      {R"({"key":42})", "key"},
  };
  for (const auto& [body, field] : cases) {
    const Answer a = call("/admin/keys/create", body);
    EXPECT_EQ(a.status, 400) << body;
    EXPECT_EQ(a.body.at("error"), "invalid_field") << body;
    EXPECT_EQ(std::string(a.body.at("message").as_string()).rfind(field + ":", 0), 0u)
        << body << " → " << a.body.at("message");
  }
  EXPECT_EQ(call("/admin/keys/create", "not json").status, 400);
  EXPECT_EQ(call("/admin/keys/create", "[1,2]").status, 400);
  EXPECT_EQ(call("/admin/keys/create", std::string(100000, '[')).status, 400);  // too deep, not a crash
  EXPECT_EQ(call("/admin/keys/list", R"({"limit":0})").status, 400);
  EXPECT_EQ(call("/admin/keys/list", R"({"limit":5000})").status, 400);
}

TEST_F(AdminApiTest, TheLargestOffsetIsAnEmptyPage) {
  // offset + limit overflowed in the memory store (found by fuzz/admin_request).
  call("/admin/keys/create", R"({"key":"k-1"})");
  Answer a = call("/admin/keys/list", R"({"offset":9223372036854775807,"limit":1000})");
  ASSERT_EQ(a.status, 200) << json::serialize(a.body);
  EXPECT_TRUE(a.body["data"].as_object().at("keys").as_array().empty());
  EXPECT_EQ(a.body["data"].as_object().at("total"), 1);
}

TEST_F(AdminApiTest, TheTokenIsRequiredAndCheckedByEitherHeader) {
  EXPECT_EQ(call("/admin/keys/list", "{}", "").status, 401);
  EXPECT_EQ(call("/admin/keys/list", "{}", "admin-secret-tokeN").status, 401);
  EXPECT_EQ(call("/admin/keys/list", "{}", "admin-secret-token-and-more").status, 401);
  // X-Admin-Token works too.
  shell::ClientRequest req{boost::beast::http::verb::post, "/admin/keys/list", 11};
  req.set("X-Admin-Token", kToken);
  req.body() = "{}";
  shell::Exchange ex;
  Rng rng(1);
  ex.begin(req, TimePoint{}, WallTime{}, rng);
  std::string out;
  shell::EndpointResponse r;
  asio::io_context io;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> { r = co_await api_->handle_async(ex, out); }, asio::detached);
  io.run();
  EXPECT_EQ(r.status, 200) << out;
  EXPECT_EQ(call("/admin/keys/list", "{}", kToken, boost::beast::http::verb::get).status, 405);
}

TEST_F(AdminApiTest, ListPagesAndSyncIsAllOrNothing) {
  for (int i = 0; i < 5; ++i) call("/admin/keys/create", R"({"key":"key-)" + std::to_string(i) + R"("})");
  Answer a = call("/admin/keys/list", R"({"offset":3,"limit":10})");
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.body["data"].as_object().at("total"), 5);
  EXPECT_EQ(a.body["data"].as_object().at("keys").as_array().size(), 2u);

  // One bad entry: nothing is written.
  a = call("/admin/keys/sync", R"({"mode":"full","keys":[{"key":"new-1"},{"key":"new-2","status":"nope"}]})");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body.at("message").as_string().subview().substr(0, 15), "keys[1].status:");
  EXPECT_EQ(call("/admin/keys/list", "{}").body["data"].as_object().at("total"), 5);

  a = call("/admin/keys/sync", R"({"mode":"full","keys":[{"key":"new-1","name":"n1"},{"key":"key-0"}]})");
  ASSERT_EQ(a.status, 200) << json::serialize(a.body);
  EXPECT_EQ(call("/admin/keys/list", "{}").body["data"].as_object().at("total"), 2);
  a = call("/admin/keys/sync", R"({"mode":"incremental","keys":[{"key":"new-3"}]})");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(call("/admin/keys/list", "{}").body["data"].as_object().at("total"), 3);
  EXPECT_EQ(call("/admin/keys/sync", R"({"mode":"partial","keys":[]})").status, 400);
}

TEST_F(AdminApiTest, ASyncOfTooManyKeysIsABadRequestNotAStoreFailure) {
  // Was a 503 store_unavailable (the store's refusal), which clients retry
  // (found by fuzz/admin_request: 503 with the store up).
  json::array keys;
  for (std::size_t i = 0; i <= stores::keys::kMaxSyncKeys; ++i) keys.push_back(json::object{{"key", "k" + std::to_string(i)}});
  const Answer a = call("/admin/keys/sync", json::serialize(json::object{{"mode", "incremental"}, {"keys", std::move(keys)}}));
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body.at("error"), "invalid_field");
  EXPECT_EQ(a.body.at("message").as_string().subview().substr(0, 5), "keys:");
  EXPECT_EQ(call("/admin/keys/list", "{}").body["data"].as_object().at("total"), 0);
}

}  // namespace
