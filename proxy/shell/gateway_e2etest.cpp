// End-to-end tests of the request path on real loopback sockets: the shell's
// Worker on RealEnv in front of the fake OpenAI backend (FakeServer, also on
// RealEnv), driven by a plain HTTP client. Everything runs in one thread on
// one io_context; waits are bounded by deadlines, never by sleeps.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>

#include "fake_backends/fake_server.h"
#include "proxy/env/real/real_env.h"
#include "proxy/shell/testing/http_test_client.h"
#include "proxy/shell/testing/run_body.h"
#include "proxy/shell/worker.h"

namespace llmproxy::shell {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::ClientResponse;
using testing::exchange;
using testing::json_request;

constexpr std::string_view kChat =
    R"({"model":"fake-model","messages":[{"role":"user","content":"hello there"}]})";
constexpr std::string_view kChatStream =
    R"({"model":"fake-model","stream":true,"messages":[{"role":"user","content":"hello there"}]})";
constexpr std::string_view kChatStreamUsage =
    R"({"model":"fake-model","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]})";

class Gateway : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = std::make_unique<env::RealEnv>(ioc_, 7);
    fake::FakeConfig fc;
    fc.profile.ttft = 1ms;
    fc.profile.itl = 1ms;
    fc.profile.output_tokens = 5;
    fake_ = std::make_unique<fake::FakeServer>(*env_, fc);
    env::error_code ec;
    fake_acceptor_ = env_->listen("127.0.0.1", 0, false, ec);
    ASSERT_FALSE(ec);
    config_.listen_host = "127.0.0.1";
    BackendTarget b;
    b.name = "fake";
    b.host = "127.0.0.1";
    b.port = fake_acceptor_->port();
    b.host_header = "127.0.0.1:" + std::to_string(b.port);
    b.headers = {{"X-Backend-ID", "b1"}};
    b.timeout = 10s;
    b.connect_timeout = 2s;
    config_.backends.push_back(b);
  }

  // Starts the gateway with config_ (tests may edit it first) and runs `body`.
  void run(std::function<env::Task<void>()> body) {
    worker_ = std::make_unique<Worker>(*env_, std::make_shared<ShellConfig>(config_));
    worker_->observe([this](const RequestRecord& r) { records_.push_back(r); });
    env::error_code ec;
    acceptor_ = env_->listen("127.0.0.1", 0, false, ec);
    ASSERT_FALSE(ec);
    asio::co_spawn(ioc_, fake_->run(*fake_acceptor_), asio::detached);
    asio::co_spawn(ioc_, worker_->serve(*acceptor_), asio::detached);
    // 30 s is a bound; the tests finish in milliseconds.
    const bool done = testing::run_body(ioc_, body, [&] {
      acceptor_->close();
      worker_->close_all_sessions();
      fake_->stop();
    }, 30s);
    ASSERT_TRUE(done) << "test body did not finish";
  }

  env::Task<std::unique_ptr<env::Stream>> connect() {
    env::error_code ec;
    auto s = co_await env_->connect("127.0.0.1", acceptor_->port(), env_->now() + 5s, ec);
    EXPECT_FALSE(ec) << ec.message();
    co_return s;
  }

  env::Task<ClientResponse> request(std::string req) {
    auto s = co_await connect();
    co_return co_await exchange(*env_, *s, std::move(req), env_->now() + 10s);
  }

  // Waits (bounded) until pred() holds, checking every millisecond.
  env::Task<bool> eventually(std::function<bool()> pred) {
    const auto until = env_->now() + 5s;
    while (!pred()) {
      if (env_->now() >= until) co_return false;
      env::error_code ec;
      co_await env_->sleep_for(1ms, ec);
    }
    co_return true;
  }

  asio::io_context ioc_;
  std::unique_ptr<env::RealEnv> env_;
  std::unique_ptr<fake::FakeServer> fake_;
  std::unique_ptr<env::Acceptor> fake_acceptor_;
  std::unique_ptr<env::Acceptor> acceptor_;
  std::unique_ptr<Worker> worker_;
  ShellConfig config_;
  std::vector<RequestRecord> records_;
};

TEST_F(Gateway, NonStreamCompletionIsRelayedWithUsage) {
  run([&]() -> env::Task<void> {
    auto r = co_await request(json_request("POST", "/v1/chat/completions", kChat,
                                           "X-Request-Id: abc-123\r\n"));
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.complete);
    EXPECT_NE(r.body.find("\"chat.completion\""), std::string::npos) << r.body;
    EXPECT_EQ(r.header("x-request-id"), "abc-123");
  });
  ASSERT_EQ(records_.size(), 1u);
  EXPECT_EQ(records_[0].outcome, Outcome::completed);
  EXPECT_EQ(records_[0].status, 200);
  EXPECT_EQ(records_[0].completion_tokens, 5);
  EXPECT_GT(records_[0].prompt_tokens, 0);
  EXPECT_EQ(records_[0].request_id, "abc-123");
}

TEST_F(Gateway, ForwardedRequestCarriesProxyHeadersButNotTheKey) {
  std::vector<fake::HttpRequest> seen;
  fake::FakeConfig fc;
  fc.profile.ttft = 1ms;
  fc.on_request = [&](const fake::HttpRequest& r) { seen.push_back(r); };
  fake_ = std::make_unique<fake::FakeServer>(*env_, fc);
  run([&]() -> env::Task<void> {
    auto r = co_await request(json_request(
        "POST", "/v1/chat/completions?trace=1", kChat,
        "Authorization: Bearer sk-secret\r\nX-Forwarded-For: 10.1.1.1\r\nConnection: close, X-Drop\r\nX-Drop: 1\r\nX-Keep: yes\r\n"));
    EXPECT_EQ(r.status, 200);
  });
  ASSERT_EQ(seen.size(), 1u);
  const auto& up = seen[0];
  EXPECT_EQ(up.target(), "/v1/chat/completions?trace=1");
  EXPECT_EQ(up.body(), kChat);  // byte for byte
  EXPECT_EQ(up["X-Forwarded-For"], "10.1.1.1, 127.0.0.1");
  EXPECT_EQ(up["X-Forwarded-Proto"], "http");
  EXPECT_EQ(up["X-Backend-ID"], "b1");
  EXPECT_EQ(up["X-Keep"], "yes");
  EXPECT_EQ(up.count("Authorization"), 0u);
  EXPECT_EQ(up.count("X-Drop"), 0u);
  EXPECT_FALSE(up["X-Request-Id"].empty());
}

TEST_F(Gateway, StreamGetsUsageInjectedAndTheExtraChunkStripped) {
  run([&]() -> env::Task<void> {
    auto r = co_await request(json_request("POST", "/v1/chat/completions", kChatStream));
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(r.header("content-type").rfind("text/event-stream", 0), 0u);
    EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos);
    EXPECT_EQ(r.body.find("\"usage\":{"), std::string::npos) << "usage chunk leaked: " << r.body;
  });
  ASSERT_EQ(records_.size(), 1u);
  EXPECT_TRUE(records_[0].saw_done);
  EXPECT_EQ(records_[0].completion_tokens, 5);
}

TEST_F(Gateway, StreamThatAskedForUsageKeepsIt) {
  run([&]() -> env::Task<void> {
    auto r = co_await request(json_request("POST", "/v1/chat/completions", kChatStreamUsage));
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("\"usage\":{"), std::string::npos);
    EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos);
  });
  EXPECT_EQ(records_.at(0).completion_tokens, 5);
}

TEST_F(Gateway, FirstChunkReachesClientBeforeBackendSendsSecond) {
  run([&]() -> env::Task<void> {
    auto s = co_await connect();
    std::uint64_t tokens_when_first_seen = 0;
    auto r = co_await exchange(
        *env_, *s,
        json_request("POST", "/v1/chat/completions", kChatStream,
                     "x-fake-fault: itl=3s,tokens=3\r\n"),
        env_->now() + 10s, [&](const ClientResponse& cr) {
          // The first content event (the role delta comes first, then tokens).
          if (cr.body.find("tok") == std::string::npos) return false;
          tokens_when_first_seen = fake_->stats().tokens_sent;
          return true;
        });
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(tokens_when_first_seen, 1u) << "the gateway held a chunk back";
    s->close();
  });
}

TEST_F(Gateway, ClientDisconnectCancelsUpstream) {
  run([&]() -> env::Task<void> {
    auto s = co_await connect();
    auto r = co_await exchange(
        *env_, *s,
        json_request("POST", "/v1/chat/completions", kChatStream, "x-fake-fault: itl=2s,tokens=50\r\n"),
        env_->now() + 10s,
        [](const ClientResponse& cr) { return cr.body.find("tok") != std::string::npos; });
    EXPECT_EQ(r.status, 200);
    s->close();
    const bool ok1 = co_await eventually([&] { return fake_->stats().client_cancels == 1; });
    EXPECT_TRUE(ok1)
        << "the backend never saw the cancel";
    const bool ok2 = co_await eventually([&] { return records_.size() == 1; });
    EXPECT_TRUE(ok2);
  });
  EXPECT_EQ(records_.at(0).outcome, Outcome::client_cancel);
}

TEST_F(Gateway, ClientDisconnectDuringPrefillCancelsUpstream) {
  run([&]() -> env::Task<void> {
    auto s = co_await connect();
    auto req = json_request("POST", "/v1/chat/completions", kChat, "x-fake-fault: ttft=3s\r\n");
    env::error_code ec;
    co_await s->write(asio::buffer(req), kNoDeadline, ec);
    const bool ok3 = co_await eventually([&] { return fake_->stats().in_flight == 1; });
    EXPECT_TRUE(ok3);
    s->close();
    const bool ok4 = co_await eventually([&] { return fake_->stats().client_cancels == 1; });
    EXPECT_TRUE(ok4);
  });
}

TEST_F(Gateway, MidStreamResetEndsWithErrorEventNotDone) {
  run([&]() -> env::Task<void> {
    auto r = co_await request(json_request("POST", "/v1/chat/completions", kChatStream,
                                           "x-fake-fault: reset_after=2\r\n"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.find("[DONE]"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("data: {\"error\""), std::string::npos) << r.body;
  });
  EXPECT_EQ(records_.at(0).outcome, Outcome::error);
  EXPECT_FALSE(records_.at(0).saw_done);
}

TEST_F(Gateway, StreamWithoutDoneIsFinalisedAtOnce) {
  run([&]() -> env::Task<void> {
    auto r = co_await request(json_request("POST", "/v1/chat/completions", kChatStream,
                                           "x-fake-fault: no_done\r\n"));
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(r.body.find("[DONE]"), std::string::npos);
  });
  EXPECT_EQ(records_.at(0).outcome, Outcome::completed);
  EXPECT_FALSE(records_.at(0).saw_done);
}

TEST_F(Gateway, UpstreamErrorStatusIsPassedThrough) {
  run([&]() -> env::Task<void> {
    auto r = co_await request(json_request("POST", "/v1/chat/completions", kChat,
                                           "x-fake-fault: status=400,code=context_length_exceeded\r\n"));
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("context_length_exceeded"), std::string::npos);
  });
}

TEST_F(Gateway, UnreachableBackendIs502) {
  config_.backends[0].port = 1;  // nothing listens there
  run([&]() -> env::Task<void> {
    auto r = co_await request(json_request("POST", "/v1/chat/completions", kChat));
    EXPECT_EQ(r.status, 502);
    EXPECT_NE(r.body.find("\"code\":\"upstream_connect_failed\""), std::string::npos) << r.body;
    EXPECT_FALSE(r.header("x-request-id").empty());
  });
}

TEST_F(Gateway, FirstByteTimeoutIs504) {
  config_.backends[0].first_byte_timeout = 50ms;
  run([&]() -> env::Task<void> {
    auto r = co_await request(json_request("POST", "/v1/chat/completions", kChat,
                                           "x-fake-fault: hang\r\n"));
    EXPECT_EQ(r.status, 504);
    EXPECT_NE(r.body.find("upstream_timeout"), std::string::npos) << r.body;
  });
}

TEST_F(Gateway, LimitsAndErrorBodies) {
  config_.max_header_bytes = 2048;
  config_.max_body_size = 1024;
  run([&]() -> env::Task<void> {
    auto big_header = json_request("POST", "/v1/chat/completions", kChat,
                                   "X-Big: " + std::string(4096, 'a') + "\r\n");
    auto r = co_await request(big_header);
    EXPECT_EQ(r.status, 431);
    EXPECT_NE(r.body.find("\"error\""), std::string::npos);

    r = co_await request(json_request("POST", "/v1/chat/completions", std::string(2000, ' ')));
    EXPECT_EQ(r.status, 413);
    EXPECT_NE(r.body.find("request_too_large"), std::string::npos) << r.body;

    r = co_await request("GET /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.status, 405);
    EXPECT_FALSE(r.header("allow").empty());

    r = co_await request(json_request("POST", "/v1/chat/completions", "{not json"));
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("\"type\":\"invalid_request_error\""), std::string::npos) << r.body;

    r = co_await request("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.status, 404);

    r = co_await request("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.status, 200);
    r = co_await request("GET /ready HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.status, 200);
  });
  EXPECT_EQ(fake_->stats().requests_total, 0u);
}

TEST_F(Gateway, ConcurrentKeepAliveClients) {
  run([&]() -> env::Task<void> {
    int finished = 0, ok = 0;
    constexpr int kClients = 8, kRequests = 5;
    for (int c = 0; c < kClients; ++c) {
      asio::co_spawn(ioc_, [&, c]() -> env::Task<void> {
        auto s = co_await connect();
        for (int i = 0; i < kRequests; ++i) {
          auto r = co_await exchange(*env_, *s,
                                     json_request("POST", "/v1/chat/completions",
                                                  (c + i) % 2 ? kChat : kChatStream),
                                     env_->now() + 10s);
          if (r.status == 200 && r.complete) ++ok;
        }
        ++finished;
      }, asio::detached);
    }
    const bool ok5 = co_await eventually([&] { return finished == kClients; });
    EXPECT_TRUE(ok5);
    EXPECT_EQ(ok, kClients * kRequests);
  });
  EXPECT_EQ(fake_->stats().connections_accepted, worker_->counters().upstream_connects);
  EXPECT_LE(worker_->counters().upstream_connects, 8u) << "upstream keep-alive not reused";
}

TEST_F(Gateway, PipelinedRequestsAnswerInOrder) {
  run([&]() -> env::Task<void> {
    auto s = co_await connect();
    std::string two = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n" +
                      json_request("POST", "/v1/chat/completions", kChat);
    std::string carry;
    auto first = co_await exchange(*env_, *s, carry, two, env_->now() + 10s);
    EXPECT_EQ(first.status, 200);
    EXPECT_NE(first.body.find("ok"), std::string::npos);
    auto second = co_await exchange(*env_, *s, carry, "", env_->now() + 10s);
    EXPECT_EQ(second.status, 200);
    EXPECT_NE(second.body.find("chat.completion"), std::string::npos);
  });
}

// A response that is complete with its head (HEAD, 204, Content-Length: 0)
// is relayed at once, and the connection goes on. (It once waited for a
// body that never comes.)
TEST_F(Gateway, HeadAnswerIsRelayedWithoutABody) {
  run([&]() -> env::Task<void> {
    auto s = co_await connect();
    env::error_code ec;
    co_await s->write(asio::buffer(std::string_view("HEAD /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")),
                      env_->now() + 5s, ec);
    std::string got;
    char buf[4096];
    while (got.find("\r\n\r\n") == std::string::npos && !ec) {
      const std::size_t n = co_await s->read_some(asio::buffer(buf), env_->now() + 5s, ec);
      got.append(buf, n);
    }
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_TRUE(got.starts_with("HTTP/1.1 405")) << got;  // the fake allows GET only
    EXPECT_NE(got.find("Content-Length: 120"), std::string::npos) << got;
    std::string carry = got.substr(got.find("\r\n\r\n") + 4);
    EXPECT_EQ(carry, "");  // no body after a HEAD answer
    auto next = co_await exchange(*env_, *s, carry, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
                                  env_->now() + 10s);
    EXPECT_EQ(next.status, 200);
  });
  ASSERT_EQ(records_.size(), 2u);  // the HEAD and the /health after it
  EXPECT_EQ(records_[0].outcome, Outcome::completed);
  EXPECT_EQ(records_[0].status, 405);
}

}  // namespace
}  // namespace llmproxy::shell
