// End-to-end: FakeServer on the real environment (127.0.0.1, port 0), driven
// by a tiny client on env::Stream. Every scenario runs under a global wall
// deadline; timings are tiny and asserted only as lower bounds or by order.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <functional>
#include <iostream>

#include "fake_backends/fake_server.h"
#include "fake_backends/openai_response.h"
#include "fake_backends/test_client.h"
#include "proxy/env/real/real_env.h"

namespace llmproxy::fake {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using testing::ClientResponse;
using testing::make_request;
using testing::read_response;
using testing::roundtrip;
using testing::sse_payloads;

struct Ctx {
  env::Env& env;
  FakeServer& server;
  std::uint16_t port;

  TimePoint deadline() const { return env.now() + 5s; }
  env::Task<ClientResponse> send(std::string request) {
    return roundtrip(env, port, std::move(request), deadline());
  }
};

using Body = std::function<env::Task<void>(Ctx&)>;

env::Task<void> drive(Body body, Ctx& ctx) {
  co_await body(ctx);
  ctx.server.stop();
}

FakeConfig fast_config() {
  FakeConfig c;
  c.name = "b1";
  c.profile.ttft = 1ms;
  c.profile.itl = 1ms;
  c.profile.output_tokens = 5;
  return c;
}

// Runs `body` against a fresh server; bounded by a global deadline.
void run_scenario(FakeConfig config, Body body) {
  asio::io_context ioc(1);
  env::RealEnv env(ioc, 1234);
  boost::system::error_code ec;
  auto acceptor = env.listen("127.0.0.1", 0, false, ec);
  ASSERT_FALSE(ec) << ec.message();
  FakeServer server(env, std::move(config));
  Ctx ctx{env, server, acceptor->port()};
  bool server_done = false;
  bool body_done = false;
  asio::co_spawn(ioc, server.run(*acceptor), [&](std::exception_ptr e) {
    server_done = true;
    if (e) ADD_FAILURE() << "server run() threw";
  });
  asio::co_spawn(ioc, drive(std::move(body), ctx), [&](std::exception_ptr e) {
    body_done = true;
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        ADD_FAILURE() << "test body threw: " << ex.what();
      }
      server.stop();
    }
  });
  ioc.run_for(20s);
  if (!server_done || !body_done) {
    ADD_FAILURE() << "scenario did not finish within the global deadline";
    server.stop();
    ioc.run_for(1s);
  }
  EXPECT_TRUE(server_done);
  EXPECT_EQ(server.stats().internal_errors, 0u);
  EXPECT_EQ(server.stats().in_flight, 0u);
}

// Polls a condition (no fixed sleeps: returns as soon as it holds).
env::Task<bool> eventually(env::Env& env, std::function<bool()> cond) {
  const TimePoint until = env.now() + 5s;
  while (!cond()) {
    if (env.now() >= until) co_return false;
    boost::system::error_code ec;
    co_await env.sleep_for(1ms, ec);
  }
  co_return true;
}

std::string chat(bool stream, bool include_usage = false, int max_tokens = 0,
                 std::string_view model = "fake-model") {
  std::string b = R"({"model":")" + std::string(model) +
                  R"(","messages":[{"role":"user","content":"hello big world"}])";
  if (stream) b += R"(,"stream":true)";
  if (include_usage) b += R"(,"stream_options":{"include_usage":true})";
  if (max_tokens) b += R"(,"max_tokens":)" + std::to_string(max_tokens);
  b += "}";
  return b;
}

std::string post_chat(const std::string& body, std::string_view fault = {}) {
  std::string extra;
  if (!fault.empty()) extra = "x-fake-fault: " + std::string(fault) + "\r\n";
  return make_request("POST", "/v1/chat/completions", body, extra);
}

std::uint64_t hash_of(const std::string& body) {
  InferenceRequest ir;
  ApiError err;
  EXPECT_TRUE(parse_inference_request(Endpoint::chat, body, ir, err));
  return ir.content_hash;
}

bool valid_json(std::string_view s) {
  boost::system::error_code ec;
  json::parse(json::string_view(s.data(), s.size()), ec);
  return !ec;
}

TEST(FakeServerE2E, NonStreamChat) {
  run_scenario(fast_config(), [](Ctx& ctx) -> env::Task<void> {
    auto r = co_await ctx.send(post_chat(chat(false)));
    EXPECT_TRUE(r.complete) << r.ec.message();
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    EXPECT_EQ(r.header("x-fake-backend"), "b1");
    auto v = json::parse(r.body());
    EXPECT_EQ(v.at("object"), "chat.completion");
    EXPECT_EQ(v.at("model"), "fake-model");
    EXPECT_EQ(v.at("choices").at(0).at("message").at("content").as_string(),
              completion_text(hash_of(chat(false)), 5));
    EXPECT_EQ(v.at("choices").at(0).at("finish_reason"), "stop");
    EXPECT_EQ(v.at("usage").at("prompt_tokens"), 3);
    EXPECT_EQ(v.at("usage").at("completion_tokens"), 5);
    EXPECT_EQ(v.at("usage").at("total_tokens"), 8);

    r = co_await ctx.send(post_chat(chat(false, false, 3)));
    v = json::parse(r.body());
    EXPECT_EQ(v.at("choices").at(0).at("finish_reason"), "length");
    EXPECT_EQ(v.at("usage").at("completion_tokens"), 3);
    // The server counts after its write completes, which may be after the
    // client has read the bytes.
    FakeServer& server = ctx.server;
    const bool counted = co_await eventually(ctx.env, [&] { return server.stats().completed == 2; });
    EXPECT_TRUE(counted);
    EXPECT_EQ(ctx.server.stats().tokens_sent, 8u);
    EXPECT_EQ(ctx.server.stats().requests("/v1/chat/completions"), 2u);
    EXPECT_EQ(ctx.server.stats().completed, 2u);
  });
}

TEST(FakeServerE2E, StreamChatWithoutUsage) {
  run_scenario(fast_config(), [](Ctx& ctx) -> env::Task<void> {
    const auto r = co_await ctx.send(post_chat(chat(true)));
    EXPECT_TRUE(r.complete) << r.ec.message();
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.header("Content-Type"), "text/event-stream");
    EXPECT_EQ(r.header("Transfer-Encoding"), "chunked");
    const auto ev = sse_payloads(r.body());
    if (ev.size() != 8u) {
      ADD_FAILURE() << "events: " << ev.size() << "\n" << r.body();
      co_return;
    }
    std::string content;
    for (std::size_t i = 0; i + 1 < ev.size(); ++i) {
      const auto v = json::parse(ev[i]);
      EXPECT_EQ(v.at("object"), "chat.completion.chunk");
      EXPECT_FALSE(v.as_object().contains("usage"));
      const auto& choice = v.at("choices").at(0);
      if (i == 0) {
        EXPECT_EQ(choice.at("delta").at("role"), "assistant");
      }
      if (i + 2 < ev.size()) {
        EXPECT_TRUE(choice.at("finish_reason").is_null());
      }
      if (const auto* c = choice.at("delta").as_object().if_contains("content"))
        content += c->as_string().c_str();
    }
    EXPECT_EQ(json::parse(ev[6]).at("choices").at(0).at("finish_reason"), "stop");
    EXPECT_EQ(ev[7], "[DONE]");
    EXPECT_EQ(content, completion_text(hash_of(chat(true)), 5));
    EXPECT_EQ(ctx.server.stats().tokens_sent, 5u);
  });
}

TEST(FakeServerE2E, StreamChatIncludeUsage) {
  run_scenario(fast_config(), [](Ctx& ctx) -> env::Task<void> {
    const auto r = co_await ctx.send(post_chat(chat(true, true, 2)));
    EXPECT_TRUE(r.complete);
    const auto ev = sse_payloads(r.body());
    if (ev.size() != 6u) {  // role, 2 tokens, finish, usage, [DONE]
      ADD_FAILURE() << r.body();
      co_return;
    }
    for (int i = 0; i < 4; ++i) {
      const auto v = json::parse(ev[i]);
      EXPECT_TRUE(v.as_object().contains("usage") && v.at("usage").is_null()) << ev[i];
    }
    EXPECT_EQ(json::parse(ev[3]).at("choices").at(0).at("finish_reason"), "length");
    const auto u = json::parse(ev[4]);
    EXPECT_TRUE(u.at("choices").as_array().empty());
    EXPECT_EQ(u.at("usage").at("prompt_tokens"), 3);
    EXPECT_EQ(u.at("usage").at("completion_tokens"), 2);
    EXPECT_EQ(u.at("usage").at("total_tokens"), 5);
    EXPECT_EQ(ev[5], "[DONE]");
  });
}

TEST(FakeServerE2E, CompletionsEmbeddingsModelsHealth) {
  run_scenario(fast_config(), [](Ctx& ctx) -> env::Task<void> {
    auto r = co_await ctx.send(make_request("POST", "/v1/completions", R"({"model":"fake-model","prompt":"a b"})"));
    auto v = json::parse(r.body());
    EXPECT_EQ(v.at("object"), "text_completion");
    EXPECT_EQ(v.at("usage").at("prompt_tokens"), 2);

    r = co_await ctx.send(make_request("POST", "/v1/completions",
                                       R"({"model":"fake-model","prompt":"a b","stream":true})"));
    auto ev = sse_payloads(r.body());
    EXPECT_EQ(ev.size(), 7u);  // 5 tokens, finish, [DONE]: no role event
    EXPECT_EQ(json::parse(ev.at(0)).at("object"), "text_completion");

    r = co_await ctx.send(make_request("POST", "/v1/embeddings", R"({"model":"fake-model","input":["x","y z"]})"));
    v = json::parse(r.body());
    EXPECT_EQ(v.at("data").as_array().size(), 2u);
    EXPECT_EQ(v.at("data").at(0).at("embedding").as_array().size(), 8u);
    EXPECT_EQ(v.at("usage").at("prompt_tokens"), 3);

    r = co_await ctx.send(make_request("GET", "/v1/models"));
    v = json::parse(r.body());
    EXPECT_EQ(v.at("data").at(0).at("id"), "fake-model");

    r = co_await ctx.send(make_request("GET", "/health"));
    EXPECT_EQ(r.status(), 200);
    r = co_await ctx.send(make_request("GET", "/v1/health"));
    EXPECT_EQ(r.status(), 200);
    const auto& s = ctx.server.stats();
    EXPECT_EQ(s.requests(Endpoint::health), 2u);
    EXPECT_EQ(s.requests(Endpoint::completions), 2u);
    EXPECT_EQ(s.requests(Endpoint::embeddings), 1u);
    EXPECT_EQ(s.requests(Endpoint::models), 1u);
  });
}

TEST(FakeServerE2E, ErrorsAreOpenAiShaped) {
  run_scenario(fast_config(), [](Ctx& ctx) -> env::Task<void> {
    auto r = co_await ctx.send(make_request("GET", "/nope"));
    EXPECT_EQ(r.status(), 404);
    EXPECT_TRUE(json::parse(r.body()).at("error").is_object());
    r = co_await ctx.send(make_request("GET", "/v1/chat/completions"));
    EXPECT_EQ(r.status(), 405);
    EXPECT_EQ(r.header("Allow"), "POST");
    r = co_await ctx.send(post_chat("{oops"));
    EXPECT_EQ(r.status(), 400);
    EXPECT_EQ(json::parse(r.body()).at("error").at("type"), "invalid_request_error");
    r = co_await ctx.send(post_chat(chat(false, false, 0, "gpt-9")));
    EXPECT_EQ(r.status(), 404);
    EXPECT_EQ(json::parse(r.body()).at("error").at("code"), "model_not_found");
    r = co_await ctx.send(post_chat(chat(false), "explode=1"));
    EXPECT_EQ(r.status(), 400);
    EXPECT_EQ(json::parse(r.body()).at("error").at("code"), "bad_fault_spec");
    r = co_await ctx.send("GARBAGE\r\n\r\n");
    EXPECT_EQ(r.status(), 400);
    EXPECT_EQ(ctx.server.stats().requests(Endpoint::unknown), 1u);
  });
}

TEST(FakeServerE2E, KeepAlivePipeliningAndConnectionClose) {
  run_scenario(fast_config(), [](Ctx& ctx) -> env::Task<void> {
    boost::system::error_code ec;
    auto s = co_await ctx.env.connect("127.0.0.1", ctx.port, ctx.deadline(), ec);
    EXPECT_FALSE(ec);
    if (ec) co_return;
    const std::string two = post_chat(chat(true)) + post_chat(chat(false));
    co_await s->write(asio::buffer(two), ctx.deadline(), ec);
    std::string leftover;
    const auto a = co_await read_response(*s, ctx.deadline(), leftover);
    const auto b = co_await read_response(*s, ctx.deadline(), leftover);
    EXPECT_TRUE(a.complete && b.complete);
    EXPECT_EQ(a.header("Content-Type"), "text/event-stream");
    EXPECT_EQ(b.header("Content-Type"), "application/json");
    const std::string closing = make_request("GET", "/health", {}, "Connection: close\r\n");
    co_await s->write(asio::buffer(closing), ctx.deadline(), ec);
    const auto c = co_await read_response(*s, ctx.deadline(), leftover);
    EXPECT_TRUE(c.complete);
    EXPECT_EQ(c.header("Connection"), "close");
    char byte;
    const auto n = co_await s->read_some(asio::buffer(&byte, 1), ctx.deadline(), ec);
    EXPECT_EQ(n, 0u);
    EXPECT_EQ(ec, asio::error::eof);
    EXPECT_EQ(ctx.server.stats().connections_accepted, 1u);
  });
}

TEST(FakeServerE2E, ExpectContinueAndIdleTimeout) {
  auto config = fast_config();
  config.profile.idle_timeout = 30ms;
  run_scenario(config, [](Ctx& ctx) -> env::Task<void> {
    boost::system::error_code ec;
    auto s = co_await ctx.env.connect("127.0.0.1", ctx.port, ctx.deadline(), ec);
    const std::string body = chat(false);
    std::string head = make_request("POST", "/v1/chat/completions", body, "Expect: 100-continue\r\n");
    head.resize(head.size() - body.size());  // headers only: wait for 100 Continue
    co_await s->write(asio::buffer(head), ctx.deadline(), ec);
    std::string leftover;
    const auto cont = co_await read_response(*s, ctx.deadline(), leftover);
    EXPECT_EQ(cont.status(), 100);
    co_await s->write(asio::buffer(body), ctx.deadline(), ec);
    const auto r = co_await read_response(*s, ctx.deadline(), leftover);
    EXPECT_EQ(r.status(), 200);
    // Then the idle keep-alive connection is closed by the server.
    char byte;
    const auto n = co_await s->read_some(asio::buffer(&byte, 1), ctx.deadline(), ec);
    EXPECT_EQ(n, 0u);
    EXPECT_EQ(ec, asio::error::eof) << ec.message();
    EXPECT_EQ(ctx.server.stats().client_cancels, 0u);
  });
}

TEST(FakeServerE2E, StatusFaults) {
  run_scenario(fast_config(), [](Ctx& ctx) -> env::Task<void> {
    auto r = co_await ctx.send(post_chat(chat(true), "status=429,retry_after=2"));
    EXPECT_EQ(r.status(), 429);
    EXPECT_EQ(r.header("Retry-After"), "2");
    EXPECT_EQ(json::parse(r.body()).at("error").at("type"), "rate_limit_error");
    r = co_await ctx.send(post_chat(chat(false), "status=400,code=context_length_exceeded"));
    EXPECT_EQ(r.status(), 400);
    EXPECT_EQ(json::parse(r.body()).at("error").at("code"), "context_length_exceeded");
    EXPECT_EQ(ctx.server.stats().faults_injected, 2u);
  });
}

TEST(FakeServerE2E, ResetBeforeHeadersAndAfterTokens) {
  run_scenario(fast_config(), [](Ctx& ctx) -> env::Task<void> {
    auto r = co_await ctx.send(post_chat(chat(true), "reset_before_headers"));
    EXPECT_FALSE(r.header_done);
    EXPECT_EQ(r.ec, asio::error::connection_reset) << r.ec.message();

    r = co_await ctx.send(post_chat(chat(true), "reset_after=2"));
    EXPECT_TRUE(r.header_done);
    EXPECT_FALSE(r.complete);
    EXPECT_EQ(r.ec, asio::error::connection_reset) << r.ec.message();
    EXPECT_EQ(r.raw.find("[DONE]"), std::string::npos);
    EXPECT_EQ(ctx.server.stats().resets_sent, 2u);
    EXPECT_EQ(ctx.server.stats().tokens_sent, 2u);
  });
}

TEST(FakeServerE2E, StallThenContinue) {
  run_scenario(fast_config(), [](Ctx& ctx) -> env::Task<void> {
    const TimePoint t0 = ctx.env.now();
    const auto r = co_await ctx.send(post_chat(chat(true), "stall_after=2,for=100ms"));
    EXPECT_GE(ctx.env.now() - t0, 100ms);
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(sse_payloads(r.body()).back(), "[DONE]");
    EXPECT_EQ(ctx.server.stats().tokens_sent, 5u);
  });
}

TEST(FakeServerE2E, MalformedNoDoneSlowHeaders) {
  run_scenario(fast_config(), [](Ctx& ctx) -> env::Task<void> {
    auto r = co_await ctx.send(post_chat(chat(true), "malformed_at=2"));
    EXPECT_TRUE(r.complete);
    auto ev = sse_payloads(r.body());
    if (ev.size() != 8u) {
      ADD_FAILURE() << r.body();
      co_return;
    }
    for (std::size_t i = 0; i + 1 < ev.size(); ++i)
      EXPECT_EQ(valid_json(ev[i]), i != 2) << i << ": " << ev[i];  // event 2 carries token 2

    r = co_await ctx.send(post_chat(chat(true), "no_done"));
    EXPECT_TRUE(r.complete);
    ev = sse_payloads(r.body());
    EXPECT_EQ(ev.size(), 7u);
    EXPECT_EQ(r.body().find("[DONE]"), std::string::npos);

    const TimePoint t0 = ctx.env.now();
    r = co_await ctx.send(post_chat(chat(false), "slow_headers=80ms"));
    EXPECT_GE(ctx.env.now() - t0, 80ms);
    EXPECT_EQ(r.status(), 200);
  });
}

TEST(FakeServerE2E, HangCountsTheClientCancel) {
  run_scenario(fast_config(), [](Ctx& ctx) -> env::Task<void> {
    boost::system::error_code ec;
    auto s = co_await ctx.env.connect("127.0.0.1", ctx.port, ctx.deadline(), ec);
    const std::string req = post_chat(chat(true), "hang");
    co_await s->write(asio::buffer(req), ctx.deadline(), ec);
    std::string leftover;
    const auto r = co_await read_response(*s, ctx.env.now() + 150ms, leftover);
    EXPECT_EQ(r.ec, asio::error::timed_out);
    EXPECT_TRUE(r.raw.empty());
    EXPECT_EQ(ctx.server.stats().in_flight, 1u);
    s->close();
    FakeServer& server = ctx.server;
    const bool drained = co_await eventually(ctx.env, [&] { return server.stats().in_flight == 0; });
    EXPECT_TRUE(drained);
    EXPECT_EQ(server.stats().client_cancels, 1u);
  });
}

TEST(FakeServerE2E, ClientCancelMidStreamStopsGeneration) {
  auto config = fast_config();
  config.profile.output_tokens = 100000;
  run_scenario(config, [](Ctx& ctx) -> env::Task<void> {
    boost::system::error_code ec;
    auto s = co_await ctx.env.connect("127.0.0.1", ctx.port, ctx.deadline(), ec);
    const std::string req = post_chat(chat(true));
    co_await s->write(asio::buffer(req), ctx.deadline(), ec);
    FakeServer& server = ctx.server;
    const bool streaming = co_await eventually(ctx.env, [&] { return server.stats().tokens_sent >= 3; });
    EXPECT_TRUE(streaming);
    s->close();
    const bool drained = co_await eventually(ctx.env, [&] { return server.stats().in_flight == 0; });
    EXPECT_TRUE(drained);
    EXPECT_EQ(server.stats().client_cancels, 1u);
    EXPECT_LT(server.stats().tokens_sent, 100000u);
    EXPECT_EQ(server.stats().completed, 0u);
  });
}

TEST(FakeServerE2E, HealthIsControlledSeparately) {
  auto config = fast_config();
  std::string err;
  FaultWindow gray;
  ASSERT_TRUE(parse_fault_window("health=down", gray, err)) << err;
  config.faults.push_back(gray);
  run_scenario(config, [](Ctx& ctx) -> env::Task<void> {
    auto r = co_await ctx.send(make_request("GET", "/health"));
    EXPECT_EQ(r.status(), 503);  // gray failure: health fails ...
    r = co_await ctx.send(post_chat(chat(false)));
    EXPECT_EQ(r.status(), 200);  // ... but completions work
    // The reverse: completions fail, health explicitly up.
    r = co_await ctx.send(make_request("GET", "/health", {}, "x-fake-fault: health=up\r\n"));
    EXPECT_EQ(r.status(), 200);
    r = co_await ctx.send(post_chat(chat(false), "status=503"));
    EXPECT_EQ(r.status(), 503);
    // A hanging probe.
    boost::system::error_code ec;
    auto s = co_await ctx.env.connect("127.0.0.1", ctx.port, ctx.deadline(), ec);
    const std::string probe = make_request("GET", "/health", {}, "x-fake-fault: health=hang\r\n");
    co_await s->write(asio::buffer(probe), ctx.deadline(), ec);
    std::string leftover;
    r = co_await read_response(*s, ctx.env.now() + 100ms, leftover);
    EXPECT_EQ(r.ec, asio::error::timed_out);
  });
}

TEST(FakeServerE2E, TimelineWindows) {
  auto config = fast_config();
  std::string err;
  FaultWindow now_down, later;
  ASSERT_TRUE(parse_fault_window("from=0s,to=1h,down", now_down, err)) << err;
  ASSERT_TRUE(parse_fault_window("from=1h,status=500", later, err)) << err;
  config.faults = {now_down, later};
  run_scenario(config, [](Ctx& ctx) -> env::Task<void> {
    auto r = co_await ctx.send(post_chat(chat(false)));
    EXPECT_EQ(r.status(), 503);
    r = co_await ctx.send(make_request("GET", "/health"));
    EXPECT_EQ(r.status(), 503);
    ctx.server.set_faults({});
    r = co_await ctx.send(post_chat(chat(false)));
    EXPECT_EQ(r.status(), 200);
  });
}

TEST(FakeServerE2E, ConcurrencyLimitQueuesFifo) {
  auto config = fast_config();
  config.profile.max_concurrency = 1;
  config.profile.ttft = 100ms;
  run_scenario(config, [](Ctx& ctx) -> env::Task<void> {
    using namespace asio::experimental::awaitable_operators;
    auto [a, b, c] = co_await (ctx.send(post_chat(chat(false))) && ctx.send(post_chat(chat(true))) &&
                               ctx.send(post_chat(chat(false))));
    EXPECT_EQ(a.status(), 200);
    EXPECT_EQ(b.status(), 200);
    EXPECT_EQ(c.status(), 200);
    FakeServer& server = ctx.server;
    const bool counted = co_await eventually(ctx.env, [&] { return server.stats().completed == 3; });
    EXPECT_TRUE(counted);
    const auto& s = ctx.server.stats();
    EXPECT_EQ(s.max_active, 1u);
    EXPECT_GE(s.max_queued, 1u);  // 2 unless the machine is very loaded
    EXPECT_EQ(s.max_in_flight, 3u);
    EXPECT_EQ(s.completed, 3u);
    EXPECT_EQ(s.active, 0u);
    EXPECT_EQ(s.queued, 0u);
  });
}

TEST(FakeServerE2E, QueuedClientThatLeavesFreesItsPlace) {
  auto config = fast_config();
  config.profile.max_concurrency = 1;
  config.profile.ttft = 50ms;
  run_scenario(config, [](Ctx& ctx) -> env::Task<void> {
    FakeServer& server = ctx.server;
    boost::system::error_code ec;
    auto holder = co_await ctx.env.connect("127.0.0.1", ctx.port, ctx.deadline(), ec);
    const std::string req = post_chat(chat(true));
    co_await holder->write(asio::buffer(req), ctx.deadline(), ec);
    const bool holding = co_await eventually(ctx.env, [&] { return server.stats().active == 1; });
    EXPECT_TRUE(holding);
    auto waiter = co_await ctx.env.connect("127.0.0.1", ctx.port, ctx.deadline(), ec);
    co_await waiter->write(asio::buffer(req), ctx.deadline(), ec);
    const bool queued = co_await eventually(ctx.env, [&] { return server.stats().queued == 1; });
    EXPECT_TRUE(queued);
    waiter->close();
    const bool left = co_await eventually(ctx.env, [&] { return server.stats().queued == 0; });
    EXPECT_TRUE(left);
    EXPECT_EQ(server.stats().client_cancels, 1u);
    std::string leftover;
    const auto r = co_await read_response(*holder, ctx.deadline(), leftover);
    EXPECT_TRUE(r.complete);
    const bool counted = co_await eventually(ctx.env, [&] { return server.stats().completed == 1; });
    EXPECT_TRUE(counted);
    EXPECT_EQ(server.stats().active, 0u);
  });
}

}  // namespace
}  // namespace llmproxy::fake
