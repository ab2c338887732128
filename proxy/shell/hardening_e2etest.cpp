// Regression tests of issue #10 (hardening the request path) on real
// loopback sockets: the shell's Worker on RealEnv in front of a hostile
// upstream (fake::HostileUpstream) or the fake OpenAI backend, driven by raw
// clients. Each test names the case it pins; the simulator property
// conformance/harness/isolation_property_test.cpp covers the same upstream
// misbehaviours over random schedules. Waits are bounded by deadlines.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>

#include "fake_backends/fake_server.h"
#include "fake_backends/hostile_upstream.h"
#include "proxy/core/log/log.h"
#include "proxy/env/real/real_env.h"
#include "proxy/shell/testing/http_test_client.h"
#include "proxy/shell/testing/run_body.h"
#include "proxy/shell/worker.h"

namespace llmproxy::shell {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using fake::HostilePlan;
using fake::Misbehaviour;
using testing::ClientResponse;
using testing::exchange;

const bool kQuiet = [] {
  log::LoggerOptions o;
  o.level = log::Level::error;
  log::configure(o);
  return true;
}();

std::string tagged(std::string_view method, std::string_view tag, std::string_view target = "/v1/tagged") {
  std::string r = std::string(method) + " " + std::string(target) +
                  " HTTP/1.1\r\nHost: gw\r\nX-Tag: " + std::string(tag) + "\r\n";
  if (method == "POST") return r + "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
  return r + "\r\n";
}

std::string own_body(std::string_view tag) { return "{\"tag\":\"" + std::string(tag) + "\"}"; }

class Hardening : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = std::make_unique<env::RealEnv>(ioc_, 11);
    config_.listen_host = "127.0.0.1";
    BackendTarget b;
    b.name = "up";
    b.host = "127.0.0.1";
    b.timeout = 10s;
    b.connect_timeout = 2s;
    b.first_byte_timeout = 5s;
    config_.backends.push_back(b);
  }

  // Serves with a hostile upstream following `plans` (the k-th request read
  // gets plans[k], clean after the list).
  void run_hostile(std::vector<HostilePlan> plans, std::function<env::Task<void>()> body,
                   std::size_t sse_padding = 0) {
    fake::HostileConfig hc;
    hc.sse_padding = sse_padding;
    hc.plan = [plans](std::uint64_t k) { return k < plans.size() ? plans[k] : HostilePlan{}; };
    hostile_ = std::make_unique<fake::HostileUpstream>(*env_, hc);
    env::error_code ec;
    up_acceptor_ = env_->listen("127.0.0.1", 0, false, ec);
    ASSERT_FALSE(ec);
    asio::co_spawn(ioc_, hostile_->run(*up_acceptor_), asio::detached);
    run(std::move(body), [this] { hostile_->stop(); });
  }

  void run_fake(fake::FakeConfig fc, std::function<env::Task<void>()> body) {
    fake_ = std::make_unique<fake::FakeServer>(*env_, fc);
    env::error_code ec;
    up_acceptor_ = env_->listen("127.0.0.1", 0, false, ec);
    ASSERT_FALSE(ec);
    asio::co_spawn(ioc_, fake_->run(*up_acceptor_), asio::detached);
    run(std::move(body), [this] { fake_->stop(); });
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

  env::Task<void> pause(Duration d) {
    env::error_code ec;
    co_await env_->sleep_for(d, ec);
  }

  // Waits (bounded) until pred() holds, looking every millisecond: steps
  // that depend on the gateway having seen something wait for it, not for
  // a guessed time.
  env::Task<bool> eventually(std::function<bool()> pred) {
    const TimePoint until = env_->now() + 5s;
    while (!pred()) {
      if (env_->now() >= until) co_return false;
      co_await pause(1ms);
    }
    co_return true;
  }

  // Everything the gateway sends on `s` until it closes (bounded).
  env::Task<std::string> read_to_close(env::Stream& s, Duration limit = 5s) {
    std::string got;
    char buf[8192];
    const TimePoint until = env_->now() + limit;
    for (;;) {
      env::error_code ec;
      const std::size_t n = co_await s.read_some(asio::buffer(buf), until, ec);
      got.append(buf, n);
      if (ec) break;
    }
    co_return got;
  }

  asio::io_context ioc_;
  std::unique_ptr<env::RealEnv> env_;
  std::unique_ptr<fake::HostileUpstream> hostile_;
  std::unique_ptr<fake::FakeServer> fake_;
  std::unique_ptr<env::Acceptor> up_acceptor_;
  std::unique_ptr<env::Acceptor> acceptor_;
  std::unique_ptr<Worker> worker_;
  ShellConfig config_;
  std::vector<RequestRecord> records_;

 private:
  void run(std::function<env::Task<void>()> body, std::function<void()> stop_upstream) {
    config_.backends[0].port = up_acceptor_->port();
    config_.backends[0].host_header = "127.0.0.1:" + std::to_string(up_acceptor_->port());
    worker_ = std::make_unique<Worker>(*env_, std::make_shared<ShellConfig>(config_));
    worker_->observe([this](const RequestRecord& r) { records_.push_back(r); });
    env::error_code ec;
    acceptor_ = env_->listen("127.0.0.1", 0, false, ec);
    ASSERT_FALSE(ec);
    asio::co_spawn(ioc_, worker_->serve(*acceptor_), asio::detached);
    const bool done = testing::run_body(ioc_, body, [&] {
      acceptor_->close();
      worker_->close_all_sessions();
      stop_upstream();
    }, 60s);
    ASSERT_TRUE(done) << "test body did not finish";
  }
};

// Case 1a: interim 1xx heads before the answer. The client gets the final
// answer (its own), and the next client on the pooled connection gets its own.
TEST_F(Hardening, InterimHeadsAreSkippedAndNeverShiftAnswers) {
  run_hostile({{Misbehaviour::interim_100}, {Misbehaviour::interim_103}, {Misbehaviour::interim_many},
               {Misbehaviour::none}},
              [&]() -> env::Task<void> {
                for (const char* tag : {"a", "b", "c", "d"}) {
                  auto r = co_await request(tagged("POST", tag));
                  EXPECT_EQ(r.status, 200) << tag;
                  EXPECT_EQ(r.body, own_body(tag));
                }
              });
  EXPECT_EQ(hostile_->connections(), 1u) << "the connection is reusable after interim heads";
}

// Case 1b: more bytes than Content-Length (a whole stray response). The
// connection is not reused; the next client gets its own answer.
TEST_F(Hardening, BytesPastTheEndAreNeverTheNextAnswer) {
  run_hostile({{Misbehaviour::extra_now}, {Misbehaviour::extra_later, 50ms}, {Misbehaviour::none}},
              [&]() -> env::Task<void> {
                auto r = co_await request(tagged("POST", "a"));
                EXPECT_EQ(r.body, own_body("a"));
                r = co_await request(tagged("POST", "b"));
                EXPECT_EQ(r.body, own_body("b"));
                // The stray response of "b" arrives while the connection is idle.
                const bool seen1 = co_await eventually([&] { return hostile_->strays() == 2; });
                EXPECT_TRUE(seen1);
                co_await pause(10ms);
                r = co_await request(tagged("POST", "c"));
                EXPECT_EQ(r.status, 200);
                EXPECT_EQ(r.body, own_body("c"));
              });
  EXPECT_EQ(hostile_->connections(), 3u);
  EXPECT_EQ(worker_->pool().closed_readable(), 1u);
}

// Case 1c: writes on an idle pooled connection, and a body after a HEAD answer.
TEST_F(Hardening, IdleWritesAndHeadBodiesCloseTheConnection) {
  run_hostile({{Misbehaviour::idle_garbage, 20ms}, {Misbehaviour::head_with_body}, {Misbehaviour::none}},
              [&]() -> env::Task<void> {
                auto r = co_await request(tagged("POST", "a"));
                EXPECT_EQ(r.body, own_body("a"));
                const bool seen2 = co_await eventually([&] { return hostile_->strays() == 1; });
                EXPECT_TRUE(seen2);
                co_await pause(10ms);
                r = co_await request(tagged("HEAD", "b"));
                EXPECT_EQ(r.status, 200);
                EXPECT_EQ(r.body, "");
                r = co_await request(tagged("POST", "c"));
                EXPECT_EQ(r.body, own_body("c"));
              });
  EXPECT_EQ(hostile_->connections(), 3u);
}

// Case 2: the backend closes idle keep-alive connections (uvicorn: 5 s; here
// 100 ms) and requests come 150 ms apart: every one is answered (it was a
// 502 every other time).
TEST_F(Hardening, BackendIdleCloseNeverCostsA502) {
  fake::FakeConfig fc;
  fc.profile.ttft = 1ms;
  fc.profile.itl = 1ms;
  fc.profile.output_tokens = 2;
  fc.profile.idle_timeout = 100ms;
  config_.routing.retry.max_retries = 0;
  run_fake(fc, [&]() -> env::Task<void> {
    for (int i = 0; i < 4; ++i) {
      auto r = co_await request(testing::json_request(
          "POST", "/v1/chat/completions",
          R"({"model":"fake-model","messages":[{"role":"user","content":"hi"}]})"));
      EXPECT_EQ(r.status, 200) << "request " << i << ": " << r.body;
      co_await pause(150ms);
    }
  });
  for (const auto& rec : records_) EXPECT_EQ(rec.attempts, 1u);
}

// Case 2, the race itself: the backend closes a pooled connection just as a
// request arrives on it (nothing was readable before): the request goes again
// on a fresh connection, not counted as a retry or a backend failure.
TEST_F(Hardening, ReusedConnectionClosedBeforeAnyByteIsSentAgainFresh) {
  config_.routing.retry.max_retries = 0;
  run_hostile({{Misbehaviour::none}, {Misbehaviour::close_on_request}, {Misbehaviour::none}},
              [&]() -> env::Task<void> {
                auto r = co_await request(tagged("POST", "a"));
                EXPECT_EQ(r.body, own_body("a"));
                r = co_await request(tagged("POST", "b"));
                EXPECT_EQ(r.status, 200);
                EXPECT_EQ(r.body, own_body("b"));
              });
  EXPECT_EQ(worker_->counters().stale_reuses, 1u);
  ASSERT_EQ(records_.size(), 2u);
  EXPECT_EQ(records_[1].attempts, 1u);
  EXPECT_TRUE(worker_->routable(0, env_->now())) << "not a backend failure";
}

// Case 3: lingering close. A client that keeps sending a body past the limit
// reads the 413 (it got EPIPE/ECONNRESET before).
TEST_F(Hardening, EarlyErrorIsReadByAClientStillSending) {
  config_.max_body_size = 1024;
  run_hostile({}, [&]() -> env::Task<void> {
    auto s = co_await connect();
    constexpr std::size_t kBody = 4 << 20;
    std::string head = "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: "
                       "application/json\r\nContent-Length: " + std::to_string(kBody) + "\r\n\r\n";
    env::error_code ec;
    co_await s->write(asio::buffer(head), env_->now() + 5s, ec);
    const std::string chunk(64 * 1024, 'x');
    for (std::size_t sent = 0; sent < kBody && !ec; sent += chunk.size())
      co_await s->write(asio::buffer(chunk), env_->now() + 5s, ec);
    EXPECT_FALSE(ec) << "the gateway should read and discard the rest: " << ec.message();
    s->shutdown_send();
    const std::string got = co_await read_to_close(*s);
    EXPECT_TRUE(got.starts_with("HTTP/1.1 413")) << got.substr(0, 200);
  });
}

// Case 4: Transfer-Encoding that does not end in chunked (and its friends):
// 400 or 501 and a close; the body is never parsed as a next request.
TEST_F(Hardening, TransferEncodingSmugglingIsRefused) {
  run_hostile({}, [&]() -> env::Task<void> {
    const std::string smuggled = tagged("POST", "smuggled");
    struct Case {
      std::string te;
      int status;
    };
    for (const Case& c : {Case{"chunked, identity", 400}, Case{"xchunked", 400},
                          Case{"identity", 400}, Case{"gzip, chunked", 501},
                          Case{"chunked\r\nTransfer-Encoding: chunked", 400}}) {
      auto s = co_await connect();
      const std::string req = "POST /v1/tagged HTTP/1.1\r\nHost: gw\r\nX-Tag: outer\r\n"
                              "Transfer-Encoding: " + c.te + "\r\n\r\n" + smuggled;
      env::error_code ec;
      co_await s->write(asio::buffer(req), env_->now() + 5s, ec);
      const std::string got = co_await read_to_close(*s);
      EXPECT_TRUE(got.starts_with("HTTP/1.1 " + std::to_string(c.status))) << c.te << ": " << got;
      EXPECT_EQ(got.find("HTTP/1.1", 5), std::string::npos) << "one answer only: " << got;
    }
    // HTTP/1.0 with Transfer-Encoding.
    auto s = co_await connect();
    const std::string req = "POST /v1/tagged HTTP/1.0\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "2\r\n{}\r\n0\r\n\r\n";
    env::error_code ec;
    co_await s->write(asio::buffer(req), env_->now() + 5s, ec);
    const std::string got = co_await read_to_close(*s);
    EXPECT_TRUE(got.starts_with("HTTP/1.1 400")) << got;
  });
  EXPECT_EQ(hostile_->requests(), 0u) << "nothing reached the backend";
}

// Case 5: a header value of 64 KiB or more (Beast's fields would throw) is a
// 431, not a dead session.
TEST_F(Hardening, HugeHeaderValueIs431) {
  config_.max_header_bytes = 1 << 20;
  run_hostile({}, [&]() -> env::Task<void> {
    for (std::size_t size : {65'534u, 70'000u, 300'000u}) {
      auto s = co_await connect();
      const std::string req = "GET /v1/tagged HTTP/1.1\r\nHost: gw\r\nX-Big: " +
                              std::string(size, 'v') + "\r\n\r\n";
      env::error_code ec;
      co_await s->write(asio::buffer(req), env_->now() + 5s, ec);
      const std::string got = co_await read_to_close(*s);
      EXPECT_TRUE(got.starts_with("HTTP/1.1 431")) << size << ": " << got.substr(0, 100);
    }
    auto ok = co_await request(tagged("GET", "after"));
    EXPECT_EQ(ok.status, 200);
  });
}

// Case 6: server.max_connections: one past the limit is told 503 and closed.
TEST_F(Hardening, ConnectionsPastTheLimitGet503) {
  config_.max_connections = 2;
  run_hostile({}, [&]() -> env::Task<void> {
    auto a = co_await connect();
    auto b = co_await connect();
    const bool seen3 = co_await eventually([&] { return worker_->admission().connections() == 2; });
    EXPECT_TRUE(seen3);
    auto c = co_await connect();
    const std::string got = co_await read_to_close(*c);
    EXPECT_TRUE(got.starts_with("HTTP/1.1 503")) << got;
    EXPECT_NE(got.find("server_overloaded"), std::string::npos);
    a->close();
    const bool seen4 = co_await eventually([&] { return worker_->admission().connections() == 1; });
    EXPECT_TRUE(seen4);
    auto r = co_await exchange(*env_, *b, tagged("GET", "b"), env_->now() + 5s);
    EXPECT_EQ(r.status, 200);
    auto d = co_await request(tagged("GET", "d"));
    EXPECT_EQ(d.status, 200);
  });
  EXPECT_EQ(worker_->counters().connections_refused, 1u);
}

// Case 6: the body budget. Two bodies being received at once do not fit in
// a budget for one: the second is told 503.
TEST_F(Hardening, BodyBudgetAnswers503) {
  config_.buffer_memory_budget = 1500;
  config_.max_body_size = 1024;
  run_hostile({}, [&]() -> env::Task<void> {
    auto a = co_await connect();
    // The head and the first bytes of a body: the rest never comes.
    const std::string head =
        "POST /v1/tagged HTTP/1.1\r\nHost: gw\r\nContent-Length: 1000\r\n\r\n{\"a\":";
    env::error_code ec;
    co_await a->write(asio::buffer(head), env_->now() + 5s, ec);
    const bool seen5 = co_await eventually([&] { return worker_->admission().buffered_bytes() > 0; });
    EXPECT_TRUE(seen5);
    auto b = co_await connect();
    co_await b->write(asio::buffer(head), env_->now() + 5s, ec);
    const std::string got = co_await read_to_close(*b);
    EXPECT_TRUE(got.starts_with("HTTP/1.1 503")) << got;
    a->close();
  });
  EXPECT_EQ(worker_->admission().buffered_bytes(), 0u);
}

// Case 9: large SSE events are assembled within the process's buffer
// budget; a stream whose event does not fit ends with an error event
// (server_overloaded), never [DONE], and gives its bytes back.
TEST_F(Hardening, LargeStreamEventsPastTheBudgetEndTheStream) {
  config_.buffer_memory_budget = 64 * 1024;
  run_hostile({}, [&]() -> env::Task<void> {
    auto r = co_await request(tagged("GET", "big", "/v1/tagged/stream"));
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("server_overloaded"), std::string::npos) << r.body.substr(0, 300);
    EXPECT_EQ(r.body.find("[DONE]"), std::string::npos);
  }, /*sse_padding=*/200 * 1024);
  EXPECT_EQ(worker_->admission().buffered_bytes(), 0u);
}

// Case 7: a client that pipelined a second request and then hung up: the
// upstream request is cancelled at once, not left running to its timeout.
TEST_F(Hardening, PipelinedThenClosedCancelsUpstream) {
  fake::FakeConfig fc;
  fc.profile.ttft = 3s;
  fc.profile.itl = 1ms;
  fc.profile.output_tokens = 2;
  run_fake(fc, [&]() -> env::Task<void> {
    auto s = co_await connect();
    const std::string one = testing::json_request(
        "POST", "/v1/chat/completions", R"({"model":"fake-model","messages":[{"role":"user","content":"hi"}]})");
    env::error_code ec;
    co_await s->write(asio::buffer(one), env_->now() + 5s, ec);
    // The first is read and sent upstream.
    const bool seen6 = co_await eventually([&] { return fake_->stats().requests_total == 1; });
    EXPECT_TRUE(seen6);
    // The second waits in the gateway's socket (nothing reads it until the
    // first is answered), then the client hangs up.
    co_await s->write(asio::buffer(one), env_->now() + 5s, ec);
    co_await pause(50ms);
    s->close();
    const TimePoint closed_at = env_->now();
    while (fake_->stats().client_cancels == 0 && env_->now() - closed_at < 2s) co_await pause(5ms);
    EXPECT_EQ(fake_->stats().client_cancels, 1u);
    EXPECT_LT(env_->now() - closed_at, 1s) << "upstream kept generating for a client that left";
  });
  ASSERT_FALSE(records_.empty());
  EXPECT_EQ(records_[0].outcome, Outcome::client_cancel);
}

// Case 10: the client-side smuggling corpus (CL+TE, duplicate and list
// Content-Length, Transfer-Encoding variants, obs-fold, NUL, a space before
// the colon), the same files the http_session fuzz target replays: each gets
// one 400 or 501 and a close, and nothing reaches the backend.
TEST_F(Hardening, SmugglingCorpusIsRefused) {
  const char* dir = std::getenv("SMUGGLING_CORPUS");
  if (dir == nullptr) GTEST_SKIP() << "SMUGGLING_CORPUS not set (meson test sets it)";
  std::vector<std::pair<std::string, std::string>> inputs;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (!name.starts_with("smuggle_")) continue;
    std::ifstream f(e.path(), std::ios::binary);
    inputs.emplace_back(name, std::string(std::istreambuf_iterator<char>(f), {}));
  }
  ASSERT_GE(inputs.size(), 10u);
  run_hostile({}, [&]() -> env::Task<void> {
    for (const auto& [name, bytes] : inputs) {
      auto s = co_await connect();
      env::error_code ec;
      co_await s->write(asio::buffer(bytes), env_->now() + 5s, ec);
      const std::string got = co_await read_to_close(*s);
      EXPECT_TRUE(got.starts_with("HTTP/1.1 400") || got.starts_with("HTTP/1.1 501"))
          << name << ": " << got.substr(0, 200);
      EXPECT_EQ(got.find("HTTP/1.1", 5), std::string::npos) << name << ": one answer only";
    }
  });
  EXPECT_EQ(hostile_->requests(), 0u) << "nothing reached the backend";
}

}  // namespace
}  // namespace llmproxy::shell
