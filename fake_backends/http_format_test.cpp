#include "fake_backends/http_format.h"

#include <gtest/gtest.h>

namespace llmproxy::fake {
namespace {

TEST(HttpFormat, StatusLineAndHeaders) {
  std::string out;
  append_status_line(out, 200);
  append_status_line(out, 429);
  append_status_line(out, 599);
  append_header(out, "Content-Length", std::size_t{42});
  append_header(out, "Content-Type", "text/event-stream");
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\n"
            "HTTP/1.1 429 Too Many Requests\r\n"
            "HTTP/1.1 599 Server Error\r\n"
            "Content-Length: 42\r\n"
            "Content-Type: text/event-stream\r\n");
}

TEST(HttpFormat, Chunks) {
  std::string out;
  append_chunk(out, "hello");
  append_chunk(out, "");  // would terminate the body: skipped
  append_chunk(out, std::string(26, 'x'));
  out += kLastChunk;
  EXPECT_EQ(out, "5\r\nhello\r\n1a\r\n" + std::string(26, 'x') + "\r\n0\r\n\r\n");
  std::string h;
  append_chunk_header(h, 4096);
  EXPECT_EQ(h, "1000\r\n");
}

}  // namespace
}  // namespace llmproxy::fake
