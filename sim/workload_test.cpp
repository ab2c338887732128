#include "sim/workload.h"

#include <gtest/gtest.h>

#include <vector>

#include "sim/sim_env.h"

namespace llmproxy::sim {
namespace {

using namespace std::chrono_literals;

TimePoint at(Duration d) { return TimePoint{} + d; }

TEST(FrameResponse, ContentLength) {
  const std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  for (std::size_t cut = 0; cut < r.size(); ++cut) {
    EXPECT_FALSE(frame_response(r.substr(0, cut)).total_size) << cut;
  }
  const ResponseFraming f = frame_response(r);
  EXPECT_EQ(f.status, 200);
  EXPECT_EQ(f.total_size, r.size());
}

TEST(FrameResponse, ChunkedWithExtensionsAndTrailers) {
  const std::string r =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;x=y\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-T: 1\r\n\r\n";
  for (std::size_t cut = 0; cut < r.size(); ++cut) {
    EXPECT_FALSE(frame_response(r.substr(0, cut)).total_size) << cut;
  }
  EXPECT_EQ(frame_response(r).total_size, r.size());
  EXPECT_TRUE(frame_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
                  .malformed);
}

TEST(FrameResponse, NoBodyStatusesAndCloseDelimited) {
  EXPECT_EQ(frame_response("HTTP/1.1 204 No Content\r\n\r\n").total_size, 27u);
  const ResponseFraming f = frame_response("HTTP/1.1 200 OK\r\n\r\nstream...");
  EXPECT_TRUE(f.close_delimited);
  EXPECT_FALSE(f.total_size);
  EXPECT_TRUE(frame_response("garbage\r\n\r\n").malformed);
}

// A server that answers every connection with `pieces`, one write each,
// `gap` apart, then closes (or not).
env::Task<void> canned_server(SimEnv& env, env::Acceptor& acceptor,
                              std::vector<std::string> pieces, Duration gap, bool close_after,
                              std::string* request_seen) {
  for (;;) {
    env::error_code ec;
    auto stream = co_await acceptor.accept(ec);
    if (ec) co_return;
    char buf[4096];
    const std::size_t n = co_await stream->read_some(asio::buffer(buf), kNoDeadline, ec);
    if (request_seen) request_seen->assign(buf, n);
    for (const auto& piece : pieces) {
      co_await env.sleep_for(gap, ec);
      const asio::const_buffer b[] = {asio::buffer(piece)};
      co_await stream->write(std::span<const asio::const_buffer>(b), kNoDeadline, ec);
      if (ec) break;
    }
    if (close_after) {
      stream->close();
    } else {
      co_await env.sleep_for(1h, ec);  // hold the connection open
    }
  }
}

class WorkloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    world.network().set_default_latency(1ms);
    env::error_code ec;
    acceptor = server.listen("", 8000, false, ec);
    ASSERT_FALSE(ec);
  }
  void TearDown() override { acceptor->close(); }

  HttpExchange exchange(std::string request, std::optional<Duration> cancel_after = {}) {
    HttpExchange result;
    auto body = [&]() -> env::Task<void> {
      FakeClient fc(client, FakeClientOptions{.host = "backend-1", .port = 8000});
      result = co_await fc.send(std::move(request), cancel_after);
    };
    world.spawn(body());
    world.run_for(10s);
    return result;
  }

  World world{21};
  SimEnv server{world, "backend-1"};
  SimEnv client{world, "client-1"};
  std::unique_ptr<env::Acceptor> acceptor;
};

TEST_F(WorkloadTest, RecordsRawBytesAndTimingsOfAChunkedResponse) {
  const std::vector<std::string> pieces = {
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "6\r\ndata:1\r\n",
      "6\r\ndata:2\r\n", "0\r\n\r\n"};
  std::string seen;
  world.spawn(canned_server(server, *acceptor, pieces, 100ms, false, &seen));
  const std::string request = http_post_json("/v1/chat/completions", "backend-1", "{}");
  const HttpExchange x = exchange(request);
  EXPECT_EQ(seen, request);
  EXPECT_TRUE(x.complete);
  EXPECT_FALSE(x.error);
  EXPECT_EQ(x.status, 200);
  std::string all;
  for (const auto& p : pieces) all += p;
  EXPECT_EQ(x.response, all);
  EXPECT_EQ(x.raw_body(), "6\r\ndata:1\r\n6\r\ndata:2\r\n0\r\n\r\n");
  EXPECT_EQ(x.connected, at(2ms));
  ASSERT_EQ(x.reads.size(), 4u);
  EXPECT_EQ(x.first_byte, at(2ms) + 1ms + 100ms + 1ms);  // request, gap, response
  EXPECT_EQ(x.reads[1].first - x.reads[0].first, Duration(100ms));
}

TEST_F(WorkloadTest, CloseDelimitedBodyEndsAtEof) {
  world.spawn(canned_server(server, *acceptor, {"HTTP/1.1 200 OK\r\n\r\nall of it"}, 0ms, true,
                            nullptr));
  const HttpExchange x = exchange("GET / HTTP/1.1\r\nHost: b\r\n\r\n");
  EXPECT_TRUE(x.complete);
  EXPECT_FALSE(x.error);
  EXPECT_EQ(x.raw_body(), "all of it");
}

TEST_F(WorkloadTest, TruncatedResponseIsIncompleteWithTheError) {
  world.spawn(canned_server(server, *acceptor,
                            {"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"}, 0ms, true,
                            nullptr));
  const HttpExchange x = exchange("GET / HTTP/1.1\r\nHost: b\r\n\r\n");
  EXPECT_FALSE(x.complete);
  EXPECT_EQ(x.error, asio::error::eof);
  EXPECT_EQ(x.status, 200);
}

TEST_F(WorkloadTest, CancelAfterResetsTheConnection) {
  world.spawn(canned_server(server, *acceptor,
                            {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "1\r\na\r\n",
                             "1\r\nb\r\n", "0\r\n\r\n"},
                            1s, false, nullptr));
  const HttpExchange x = exchange("GET / HTTP/1.1\r\nHost: b\r\n\r\n", 1500ms);
  EXPECT_TRUE(x.cancelled);
  EXPECT_FALSE(x.complete);
  EXPECT_EQ(x.finished, x.connected + Duration(1500ms));
  EXPECT_EQ(x.reads.size(), 1u);
}

TEST_F(WorkloadTest, ConnectErrorsAreRecorded) {
  world.network().set_host_fault("backend-1", Fault::refuse);
  const HttpExchange x = exchange("GET / HTTP/1.1\r\nHost: b\r\n\r\n");
  EXPECT_EQ(x.connect_error, asio::error::connection_refused);
  EXPECT_TRUE(x.response.empty());
}

}  // namespace
}  // namespace llmproxy::sim
