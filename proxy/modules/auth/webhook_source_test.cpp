// The webhook provider against a fake service speaking HTTP on the
// simulated network (virtual time: a timeout is a jump of the clock, never
// a sleep), through the auth filter as a client meets it: 2xx with fields
// and {} allow, 401 is an unknown key, 403 a disabled one, and every other
// outcome (5xx, no answer in time, no connection, a body that is not a JSON
// object, too big, not HTTP) is 503 auth_unavailable. The service receives
// the key once, as api_key, with the request's method, path, client and
// headers, never the key-carrying headers.
#include "proxy/modules/auth/webhook_source.h"

#include <gtest/gtest.h>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>

#include "proxy/core/config/load.h"
#include "proxy/modules/auth/auth_filter.h"
#include "proxy/shell/exchange.h"
#include "sim/sim_env.h"

namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using namespace llmproxy;
using namespace std::chrono_literals;
using openai::ErrorId;

std::string http_response(int status, std::string_view body) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + std::string(body);
}

// The operator's service: answers every request with `reply` (raw bytes),
// or never answers when `silent`; keeps what it was sent.
class FakeService {
 public:
  FakeService(sim::World& world, std::uint16_t port) : world_(world), env_(world, "hooks") {
    env::error_code ec;
    acceptor_ = env_.listen("", port, false, ec);
    world_.spawn(serve());
  }
  ~FakeService() { acceptor_->close(); }

  std::string reply = http_response(200, "{}");
  bool silent = false;
  std::vector<bhttp::request<bhttp::string_body>> received;

 private:
  env::Task<void> serve() {
    for (;;) {
      env::error_code ec;
      std::unique_ptr<env::Stream> s = co_await acceptor_->accept(ec);
      if (ec) co_return;
      world_.spawn(answer(std::shared_ptr<env::Stream>(std::move(s))));
    }
  }

  env::Task<void> answer(std::shared_ptr<env::Stream> s) {
    bhttp::request_parser<bhttp::string_body> parser;
    std::string pending;
    char buf[512];
    while (!parser.is_done()) {
      env::error_code ec;
      const std::size_t n = co_await s->read_some(asio::buffer(buf), kNoDeadline, ec);
      if (ec) co_return;
      pending.append(buf, n);
      env::error_code pec;
      const std::size_t used = parser.put(asio::buffer(pending), pec);
      pending.erase(0, used);
      if (pec && pec != bhttp::error::need_more) co_return;
    }
    received.push_back(parser.release());
    env::error_code ec;
    if (silent) {  // until the caller gives up and closes
      co_await s->read_some(asio::buffer(buf), kNoDeadline, ec);
      co_return;
    }
    co_await s->write(asio::buffer(reply), kNoDeadline, ec);
    s->close();
  }

  sim::World& world_;
  sim::SimEnv env_;
  std::unique_ptr<env::Acceptor> acceptor_;
};

constexpr const char* kConfig =
    "auth:\n  enabled: true\n  cache_ttl: 5s\n  pipeline:\n"
    "    - name: hook\n      type: webhook\n"
    "      webhook: {url: 'http://hooks:8080/keys/check', timeout: 2s, headers: {X-Hook-Token: s3cret}}\n"
    "backends: [{name: a, url: 'http://a:1'}]\n";

struct Answer {
  std::optional<ErrorId> error;
  std::string caller;
};

class WebhookTest : public ::testing::Test {
 protected:
  WebhookTest() {
    gateway_.stream_options().random_read_split = true;  // answers arrive in pieces
    build(kConfig);
  }

  void build(const std::string& yaml) {
    auto loaded = config::load_config_string(yaml, "auth.yaml", "", [](std::string_view) { return std::nullopt; });
    ASSERT_TRUE(loaded.ok()) << (loaded.diagnostics.empty() ? "" : loaded.diagnostics[0].message);
    auto a = auth::Authenticator::from(*loaded.config);
    ASSERT_TRUE(a) << a.error;
    const auto& hook = loaded.config->auth.pipeline[0].webhook;
    std::vector<std::string> key_headers;
    for (const auto& h : a.value->key_headers()) key_headers.push_back(h.name);
    source_ = std::make_shared<modules::auth::WebhookSource>(gateway_, hook, *util::parse_url(hook.url).value,
                                                             key_headers);
    modules::auth::StoreProviders stores{&gateway_, loaded.config->auth.cache_ttl, {source_}, loaded.config->auth.quota_check};
    filter_ = std::make_unique<modules::auth::AuthFilter>(
        std::make_shared<const auth::Authenticator>(std::move(*a.value)), std::move(stores));
  }

  // One request with `key` (Bearer) through the filter.
  Answer request(const std::string& key) {
    shell::ClientRequest req{bhttp::verb::post, "/v1/chat/completions?trace=1", 11};
    req.set(bhttp::field::authorization, "Bearer " + key);
    req.set("X-Api-Key", key);  // a key header too: never sent on
    req.set(bhttp::field::connection, "keep-alive, X-Hop");
    req.set("X-Hop", "per-connection");
    req.set(bhttp::field::content_type, "application/json");
    req.insert("X-Team", "a");
    req.insert("x-team", "b");
    shell::Exchange ex;
    Rng rng(1);
    ex.begin(req, world_.now(), world_.wall_now(), rng);
    ex.client_ip = "10.1.2.3";
    shell::FilterVerdict v;
    world_.spawn(judge(*filter_, ex, v));
    world_.run_until_idle();
    return Answer{v.error, std::string(ex.caller.name)};
  }

  // Coroutines take what they use as parameters (a capturing lambda's
  // closure would be gone before the coroutine runs).
  env::Task<void> judge(modules::auth::AuthFilter& filter, shell::Exchange& ex, shell::FilterVerdict& v) {
    v = co_await filter.on_request(ex);
    answered_at_ = world_.now();
  }
  static env::Task<void> look(modules::auth::WebhookSource& source, const modules::auth::LookupRequest& req,
                              modules::auth::SourceAnswer& answer) {
    answer = co_await source.lookup(req);
  }

  sim::World world_{7};
  TimePoint answered_at_{};
  sim::SimEnv gateway_{world_, "gateway"};
  FakeService service_{world_, 8080};
  std::shared_ptr<modules::auth::WebhookSource> source_;
  std::unique_ptr<modules::auth::AuthFilter> filter_;
};

TEST_F(WebhookTest, TheServiceReceivesTheKeyOnceWithTheRequest) {
  EXPECT_FALSE(request("sk-alpha-123456").error);
  ASSERT_EQ(service_.received.size(), 1u);
  const auto& got = service_.received[0];
  EXPECT_EQ(got.method(), bhttp::verb::post);
  EXPECT_EQ(got.target(), "/keys/check");
  EXPECT_EQ(got[bhttp::field::host], "hooks:8080");
  EXPECT_EQ(got[bhttp::field::content_type], "application/json");
  EXPECT_EQ(got["X-Hook-Token"], "s3cret");
  const auto body = boost::json::parse(got.body()).as_object();
  EXPECT_EQ(body.at("api_key").as_string(), "sk-alpha-123456");
  const auto& r = body.at("request").as_object();
  EXPECT_EQ(r.at("method").as_string(), "POST");
  EXPECT_EQ(r.at("path").as_string(), "/v1/chat/completions");
  EXPECT_EQ(r.at("client_ip").as_string(), "10.1.2.3");
  const auto& headers = r.at("headers").as_object();
  EXPECT_EQ(headers.at("content-type").as_string(), "application/json");
  EXPECT_EQ(headers.at("x-team").as_string(), "a, b");
  EXPECT_FALSE(headers.contains("authorization"));
  EXPECT_FALSE(headers.contains("x-api-key"));
  EXPECT_FALSE(headers.contains("connection"));
  EXPECT_FALSE(headers.contains("x-hop"));  // named by Connection
  EXPECT_EQ(std::string(got.body()).find("sk-alpha", got.body().find("sk-alpha") + 1), std::string::npos);
}

TEST_F(WebhookTest, TwoHundredWithFieldsIsTheKeysRecord) {
  service_.reply = http_response(200, R"({"name":"erin","status":"active","extra":{"x":1}})");
  EXPECT_FALSE(request("sk-erin").error);  // a nested member that is no rule: the service's own
  service_.reply = http_response(200, R"({"name":"alice","user_id":"team-a","allowed_ips":{"x":1}})");
  EXPECT_EQ(request("sk-alpha").error, ErrorId::auth_unavailable);  // a rule that cannot be read
  service_.reply = http_response(200, R"({"name":"alice","user_id":"team-a","allowed_ips":"192.0.2.0/24"})");
  EXPECT_EQ(request("sk-alpha").error, ErrorId::ip_not_allowed);  // the fields are judged
  service_.reply = http_response(201, R"({"name":"bob","total_quota":100,"used_quota":100})");
  EXPECT_EQ(request("sk-bob").error, ErrorId::quota_exceeded);
  service_.reply = http_response(200, R"({"name":"carol","status":1})");
  EXPECT_EQ(request("sk-carol").error, ErrorId::key_disabled);
  service_.reply = http_response(200, R"({"name":"dave","expires_at":"2020-01-01T00:00:00Z"})");
  EXPECT_EQ(request("sk-dave").error, ErrorId::key_expired);
  service_.reply = http_response(200, R"({"name":"erin","user_id":"u-erin"})");
  EXPECT_EQ(request("sk-erin").caller, "erin");
  EXPECT_FALSE(source_->keeps_usage());
  EXPECT_EQ(filter_->ledger(0), nullptr);  // the service keeps its own quota
}

TEST_F(WebhookTest, AnEmptyObjectAllowsWithoutRules) {
  service_.reply = http_response(200, "{}");
  EXPECT_FALSE(request("sk-anyone").error);
  service_.reply = "HTTP/1.1 204 No Content\r\n\r\n";
  EXPECT_EQ(request("sk-no-body").error, ErrorId::auth_unavailable);  // no object: not an answer
  // Chunked is HTTP too.
  service_.reply = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n1\r\n}\r\n0\r\n\r\n";
  EXPECT_FALSE(request("sk-chunked").error);
}

TEST_F(WebhookTest, FourOhOneIsUnknownAndFourOhThreeIsDisabled) {
  service_.reply = http_response(401, R"({"error":"no"})");
  EXPECT_EQ(request("sk-nobody").error, ErrorId::invalid_api_key);
  service_.reply = http_response(403, R"({"error":{"message":"blocked"}})");
  EXPECT_EQ(request("sk-blocked").error, ErrorId::key_disabled);
  // Both are answers: cached for cache_ttl like any.
  service_.reply = http_response(200, "{}");
  EXPECT_EQ(request("sk-nobody").error, ErrorId::invalid_api_key);
  EXPECT_EQ(request("sk-blocked").error, ErrorId::key_disabled);
  EXPECT_EQ(service_.received.size(), 2u);
  world_.run_for(5s);
  EXPECT_FALSE(request("sk-nobody").error);
}

TEST_F(WebhookTest, EveryOtherAnswerFailsClosed) {
  for (const std::string& reply : {http_response(500, "{}"), http_response(302, "{}"), http_response(404, "{}"),
                                   http_response(429, "{}"), http_response(200, "not json"),
                                   http_response(200, "[1,2]"), std::string("SSH-2.0-OpenSSH\r\n\r\n"),
                                   std::string("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}")}) {
    service_.reply = reply;
    EXPECT_EQ(request("sk-alpha").error, ErrorId::auth_unavailable) << reply;
  }
  // Failures are not cached: the next answer counts.
  service_.reply = http_response(200, "{}");
  EXPECT_FALSE(request("sk-alpha").error);
}

// An answer cut anywhere (the service died mid-write) is never read as a
// shorter one: every proper prefix fails, the whole answer allows.
TEST_F(WebhookTest, EveryCutAnswerFailsClosed) {
  for (const std::string& whole :
       {http_response(200, R"({"name":"alice"})"),
        std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n4\r\n\"b\"}\r\n0\r\n\r\n")}) {
    for (std::size_t n = 0; n < whole.size(); ++n) {
      service_.reply = whole.substr(0, n);
      EXPECT_EQ(request("sk-alpha").error, ErrorId::auth_unavailable) << n << ": " << service_.reply;
    }
    service_.reply = whole;
    EXPECT_FALSE(request("sk-alpha").error) << whole;
    world_.run_for(5s);  // past the cached answer
  }
}

TEST_F(WebhookTest, ABodyOver64KiBIsRefusedUnread) {
  const std::string big = R"({"name":")" + std::string(70 * 1024, 'x') + R"("})";
  service_.reply = http_response(200, big);
  EXPECT_EQ(request("sk-alpha").error, ErrorId::auth_unavailable);
  const std::string fits = R"({"name":")" + std::string(60 * 1024, 'x') + R"("})";
  service_.reply = http_response(200, fits);
  EXPECT_FALSE(request("sk-alpha").error);
  // A head that never ends is bounded too.
  service_.reply = "HTTP/1.1 200 OK\r\nX-Pad: " + std::string(40 * 1024, 'p');
  EXPECT_EQ(request("sk-beta").error, ErrorId::auth_unavailable);
}

TEST_F(WebhookTest, NoAnswerWithinTheTimeoutFails) {
  service_.silent = true;
  const TimePoint start = world_.now();
  EXPECT_EQ(request("sk-alpha").error, ErrorId::auth_unavailable);
  EXPECT_EQ(answered_at_ - start, 2s);  // the configured timeout, in virtual time
  EXPECT_EQ(service_.received.size(), 1u);
  // A host that never completes the connection is bounded by the same timeout.
  world_.network().set_host_fault("hooks", sim::Fault::hang);
  const TimePoint again = world_.now();
  EXPECT_EQ(request("sk-beta").error, ErrorId::auth_unavailable);
  EXPECT_EQ(answered_at_ - again, 2s);
}

TEST_F(WebhookTest, NoServiceFails) {
  world_.network().set_host_fault("hooks", sim::Fault::refuse);
  EXPECT_EQ(request("sk-alpha").error, ErrorId::auth_unavailable);
  world_.network().set_host_fault("hooks", sim::Fault::none);
  service_.reply = http_response(200, "{}");
  EXPECT_FALSE(request("sk-alpha").error);  // recovers by itself
}

TEST_F(WebhookTest, BytesJsonCannotCarryAreNotSent) {
  EXPECT_EQ(request("sk-\xff\xfe").error, ErrorId::invalid_api_key);
  EXPECT_TRUE(service_.received.empty());  // unknown without a call
  service_.reply = http_response(200, "{}");
  shell::ClientRequest req{bhttp::verb::post, "/v1/chat/completions", 11};
  req.set(bhttp::field::authorization, "Bearer sk-alpha");
  req.set("X-Latin1", "caf\xe9");
  req.set("X-Utf8", "caf\xc3\xa9");
  shell::Exchange ex;
  Rng rng(1);
  ex.begin(req, world_.now(), world_.wall_now(), rng);
  const auth::KeyHash hash = auth::hash_key("sk-alpha");
  const std::optional<util::IpAddress> client;
  const modules::auth::LookupRequest lookup{"sk-alpha", hash, 0, client, ex};
  const auto body = boost::json::parse(source_->request_body(lookup)).as_object();
  const auto& headers = body.at("request").as_object().at("headers").as_object();
  EXPECT_FALSE(headers.contains("x-latin1"));
  EXPECT_EQ(headers.at("x-utf8").as_string(), "caf\xc3\xa9");
}

TEST_F(WebhookTest, TheLogNeverHoldsTheKey) {
  auth::KeyHash hash = auth::hash_key("sk-secret-abcdef123456");
  shell::ClientRequest req{bhttp::verb::get, "/v1/models", 11};
  shell::Exchange ex;
  Rng rng(1);
  ex.begin(req, world_.now(), world_.wall_now(), rng);
  const std::optional<util::IpAddress> client;
  const modules::auth::LookupRequest lookup{"sk-secret-abcdef123456", hash, 0, client, ex};
  for (const std::string& reply : {http_response(500, "{}"), http_response(200, R"({"allowed_ips":"x"})"),
                                   http_response(200, "sk-secret-abcdef123456")}) {
    service_.reply = reply;
    modules::auth::SourceAnswer answer;
    world_.spawn(look(*source_, lookup, answer));
    world_.run_until_idle();
    EXPECT_EQ(answer.kind, modules::auth::SourceAnswer::Kind::failed);
    EXPECT_EQ(answer.error.find("sk-secret-abcdef123456"), std::string::npos) << answer.error;
    EXPECT_NE(answer.error.find("http://hooks:8080/keys/check"), std::string::npos) << answer.error;
  }
  // An unknown client is null, and the body is the method and path's.
  const auto body = boost::json::parse(source_->request_body(lookup)).as_object();
  EXPECT_TRUE(body.at("request").as_object().at("client_ip").is_null());
  EXPECT_EQ(body.at("request").as_object().at("method").as_string(), "GET");
}

}  // namespace
