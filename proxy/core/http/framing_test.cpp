#include "proxy/core/http/framing.h"

#include <gtest/gtest.h>

#include <string>

namespace llmproxy::http {
namespace {

FramingVerdict te(std::string_view value, unsigned minor = 1) {
  FramingFields f;
  f.transfer_encoding = value;
  f.te_fields = 1;
  f.http_minor = minor;
  return check_request_framing(f);
}

TEST(Framing, OnlyAFinalSingleChunkedIsAccepted) {
  EXPECT_EQ(te("chunked"), FramingVerdict::ok);
  EXPECT_EQ(te("Chunked"), FramingVerdict::ok);
  EXPECT_EQ(te(" chunked\t"), FramingVerdict::ok);
  EXPECT_EQ(te(", chunked,"), FramingVerdict::ok);  // empty list elements are ignored
}

TEST(Framing, SmugglingShapesAreBadRequests) {
  EXPECT_EQ(te("chunked, identity"), FramingVerdict::bad_request);
  EXPECT_EQ(te("xchunked"), FramingVerdict::bad_request);
  EXPECT_EQ(te("chunkedx"), FramingVerdict::bad_request);
  EXPECT_EQ(te("identity"), FramingVerdict::bad_request);
  EXPECT_EQ(te("gzip"), FramingVerdict::bad_request);
  EXPECT_EQ(te(""), FramingVerdict::bad_request);
  EXPECT_EQ(te(" , "), FramingVerdict::bad_request);
  EXPECT_EQ(te("chunked, chunked"), FramingVerdict::bad_request);
  EXPECT_EQ(te("chunked;ext=1"), FramingVerdict::bad_request);
  EXPECT_EQ(te("chunked", 0), FramingVerdict::bad_request);  // HTTP/1.0
}

TEST(Framing, OtherCodingsBeforeChunkedAreNotImplemented) {
  EXPECT_EQ(te("gzip, chunked"), FramingVerdict::not_implemented);
  EXPECT_EQ(te("identity, chunked"), FramingVerdict::not_implemented);
}

TEST(Framing, ContentLengthRules) {
  FramingFields f;
  f.content_length_fields = 1;
  f.content_length = "12";
  EXPECT_EQ(check_request_framing(f), FramingVerdict::ok);
  f.content_length = "12, 12";
  EXPECT_EQ(check_request_framing(f), FramingVerdict::bad_request);
  f.content_length = "12";
  f.content_length_fields = 2;
  EXPECT_EQ(check_request_framing(f), FramingVerdict::bad_request);
  f.content_length_fields = 1;
  f.te_fields = 1;
  f.transfer_encoding = "chunked";
  EXPECT_EQ(check_request_framing(f), FramingVerdict::bad_request);  // CL + TE
}

TEST(HeaderLineGuard, LongLineIsFoundAcrossGrowingInput) {
  HeaderLineGuard g;
  std::string head = "POST / HTTP/1.1\r\nX-Big: ";
  EXPECT_TRUE(g.ok(head));
  head.append(HeaderLineGuard::kMaxLine - 20, 'a');
  EXPECT_TRUE(g.ok(head));
  head.append(100, 'a');
  EXPECT_FALSE(g.ok(head));
}

TEST(HeaderLineGuard, ManyShortLinesPass) {
  HeaderLineGuard g;
  std::string head = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 5000; ++i) head += "X-A: " + std::string(100, 'b') + "\r\n";
  EXPECT_TRUE(g.ok(head));
  g.reset();
  EXPECT_TRUE(g.ok(head));
}

TEST(HeaderLineGuard, ALineJustUnderTheLimitPasses) {
  HeaderLineGuard g;
  std::string head = "GET / HTTP/1.1\r\n" + std::string(HeaderLineGuard::kMaxLine, 'c') + "\r\n";
  EXPECT_TRUE(g.ok(head));
}

// The parser takes complete lines from the front before the head is whole.
TEST(HeaderLineGuard, FollowsWhatTheParserConsumed) {
  HeaderLineGuard g;
  std::string head = "GET / HTTP/1.1\r\nX-A: 1\r\nX-B: 2";
  EXPECT_TRUE(g.ok(head));
  const std::size_t taken = head.find("X-B");
  g.consumed(taken);
  head.erase(0, taken);
  head += std::string(1000, 'b');
  EXPECT_TRUE(g.ok(head));
  head += std::string(HeaderLineGuard::kMaxLine, 'b');
  EXPECT_FALSE(g.ok(head));
}

TEST(HeaderLineGuard, ObsFoldIsFound) {
  HeaderLineGuard g;
  EXPECT_EQ(g.check("POST / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n"),
            HeaderLineGuard::Verdict::obs_fold);
  g.reset();
  EXPECT_EQ(g.check("POST / HTTP/1.1\r\nX-A: 1\r\n\tmore\r\n\r\n"),
            HeaderLineGuard::Verdict::obs_fold);
  g.reset();
  // Spaces inside a value are fine, and so is the body after the head, however long.
  EXPECT_EQ(g.check("POST / HTTP/1.1\r\nX-A: a b\r\n\r\n { \"x\": 1 }\n  indented"),
            HeaderLineGuard::Verdict::ok);
  g.reset();
  std::string big = "POST / HTTP/1.1\nContent-Length: 100000\n\n" + std::string(100000, 'j');
  EXPECT_EQ(g.check(big), HeaderLineGuard::Verdict::ok);
}

}  // namespace
}  // namespace llmproxy::http
