// The RESP codec wrapper: values of every type, replies split at every byte,
// several replies per read, and the inputs hiredis 0.14 handles badly.
#include "proxy/stores/redis/reply.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace llmproxy::stores::redis {
namespace {

using namespace std::string_literals;

struct Parsed {
  std::vector<Reply> replies;
  bool failed = false;
};

// Feeds `bytes` in pieces of `step` bytes (0 = all at once), taking replies
// out after every piece.
Parsed parse(std::string_view bytes, std::size_t step = 0) {
  ReplyReader reader;
  Parsed out;
  if (step == 0) step = bytes.size() + 1;
  for (std::size_t pos = 0; pos < bytes.size() && !out.failed; pos += step) {
    if (!reader.feed(bytes.substr(pos, step))) {
      out.failed = true;
      break;
    }
    for (;;) {
      Reply r;
      const auto st = reader.next(r);
      if (st == ReplyReader::Status::reply) {
        out.replies.push_back(std::move(r));
        continue;
      }
      out.failed = st == ReplyReader::Status::error;
      break;
    }
  }
  return out;
}

Reply one(std::string_view bytes) {
  Parsed p = parse(bytes);
  EXPECT_FALSE(p.failed) << bytes;
  EXPECT_EQ(p.replies.size(), 1u) << bytes;
  return p.replies.empty() ? Reply{} : p.replies[0];
}

TEST(RedisReply, ScalarTypes) {
  EXPECT_EQ(one("+OK\r\n").describe(), "+OK");
  EXPECT_EQ(one("-ERR wrong type\r\n").describe(), "-ERR wrong type");
  EXPECT_TRUE(one("-ERR x\r\n").is_error());
  EXPECT_EQ(one(":42\r\n").integer, 42);
  EXPECT_EQ(one(":-9223372036854775808\r\n").integer, INT64_MIN);
  EXPECT_EQ(one(":9223372036854775807\r\n").integer, INT64_MAX);
  EXPECT_EQ(one("$5\r\nhello\r\n").str, "hello");
  EXPECT_EQ(one("$0\r\n\r\n").type, Reply::Type::string);
  EXPECT_TRUE(one("$-1\r\n").is_nil());
  EXPECT_TRUE(one("*-1\r\n").is_nil());
}

TEST(RedisReply, BulkStringsAreBinarySafe) {
  const Reply r = one("$6\r\na\r\nb\0c\r\n"s);
  EXPECT_EQ(r.str, "a\r\nb\0c"s);
}

TEST(RedisReply, NestedArrays) {
  const Reply r = one("*3\r\n:1\r\n*2\r\n$1\r\na\r\n*1\r\n$-1\r\n*0\r\n");
  EXPECT_EQ(r.describe(), "[1, [\"a\", [nil]], []]");
  ASSERT_EQ(r.elements.size(), 3u);
  EXPECT_TRUE(r.elements[2].is_array());
  EXPECT_TRUE(r.elements[2].elements.empty());
}

TEST(RedisReply, ErrorInsideArrayIsAValueNotAParseFailure) {
  const Reply r = one("*2\r\n-ERR one\r\n+two\r\n");
  EXPECT_EQ(r.describe(), "[-ERR one, +two]");
}

TEST(RedisReply, SeveralRepliesInOneRead) {
  const Parsed p = parse("+OK\r\n:1\r\n$1\r\nx\r\n*1\r\n:2\r\n");
  ASSERT_FALSE(p.failed);
  ASSERT_EQ(p.replies.size(), 4u);
  EXPECT_EQ(p.replies[3].describe(), "[2]");
}

TEST(RedisReply, EverySplitGivesTheSameReplies) {
  const std::string input = "*3\r\n:1\r\n*2\r\n$5\r\nhe\r\no\r\n*1\r\n$-1\r\n*0\r\n+OK\r\n-ERR e\r\n";
  const Parsed whole = parse(input);
  ASSERT_FALSE(whole.failed);
  ASSERT_EQ(whole.replies.size(), 3u);
  for (std::size_t step = 1; step < input.size(); ++step) {
    const Parsed split = parse(input, step);
    EXPECT_FALSE(split.failed) << step;
    EXPECT_EQ(split.replies, whole.replies) << "step " << step;
  }
}

TEST(RedisReply, PartialReplyIsIncompleteNotAnError) {
  ReplyReader reader;
  Reply r;
  ASSERT_TRUE(reader.feed("*2\r\n$3\r\nab"));
  EXPECT_EQ(reader.next(r), ReplyReader::Status::incomplete);
  ASSERT_TRUE(reader.feed("c\r\n:7"));
  EXPECT_EQ(reader.next(r), ReplyReader::Status::incomplete);
  ASSERT_TRUE(reader.feed("\r\n"));
  ASSERT_EQ(reader.next(r), ReplyReader::Status::reply);
  EXPECT_EQ(r.describe(), "[\"abc\", 7]");
  EXPECT_EQ(reader.next(r), ReplyReader::Status::incomplete);
}

TEST(RedisReply, UnknownTypeByteFails) {
  ReplyReader reader;
  Reply r;
  reader.feed("@foo\r\n");
  EXPECT_EQ(reader.next(r), ReplyReader::Status::error);
  EXPECT_NE(reader.error_message().find("reply type byte"), std::string_view::npos);
  EXPECT_FALSE(reader.feed("+OK\r\n"));  // stays failed
  reader.reset();
  EXPECT_TRUE(reader.error_message().empty());
  ASSERT_TRUE(reader.feed("+OK\r\n"));
  EXPECT_EQ(reader.next(r), ReplyReader::Status::reply);
}

TEST(RedisReply, GarbageAfterAPartialArrayFailsWithoutLeaking) {
  EXPECT_TRUE(parse("*3\r\n$5\r\nhello\r\n*2\r\n:1\r\n@").failed);
}

TEST(RedisReply, ArrayCountsHiredisWouldMisreadFail) {
  // 2^32 wraps to 0 in upstream hiredis 0.14's int, negative sizes, > 10^9
  // (Debian's 0.14.1-3 rejects these itself; reply.cpp checks them too).
  EXPECT_TRUE(parse("*4294967296\r\n:1\r\n").failed);
  EXPECT_TRUE(parse("*4294967297\r\n:1\r\n").failed);
  EXPECT_TRUE(parse("*-5\r\n").failed);
  EXPECT_TRUE(parse("*-2147483648\r\n").failed);
  EXPECT_TRUE(parse("*1000000000\r\n").failed);
  EXPECT_TRUE(parse("*2\r\n*99999999999999999999\r\n").failed);
  EXPECT_TRUE(parse(":12x\r\n").failed);
  EXPECT_TRUE(parse("$-5\r\n").failed);
}

TEST(RedisReply, DeepNestingFails) {
  std::string deep;
  for (int i = 0; i < 9; ++i) deep += "*1\r\n";
  deep += ":1\r\n";
  EXPECT_TRUE(parse(deep).failed);
  std::string ok;
  for (int i = 0; i < 7; ++i) ok += "*1\r\n";
  ok += ":1\r\n";
  EXPECT_EQ(one(ok).describe(), "[[[[[[[1]]]]]]]");
}

TEST(RedisReply, HugeBulkLengthWaitsForData) {
  const Parsed p = parse("$9223372036854775807\r\nabc");
  EXPECT_FALSE(p.failed);
  EXPECT_TRUE(p.replies.empty());
  // A huge claimed array count is fine as long as it fits: elements come as data.
  const Parsed q = parse("*999999999\r\n:1\r\n");
  EXPECT_FALSE(q.failed);
  EXPECT_TRUE(q.replies.empty());
}

TEST(RedisEncode, CommandIsAnArrayOfBulkStrings) {
  std::string out;
  const std::string_view args[] = {"SET", "k", "v"};
  append_command(out, args);
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
}

TEST(RedisEncode, BinaryEmptyAndManyArgumentsRoundTrip) {
  std::vector<std::string> storage = {"RPUSH", "", "a\r\nb", "\0x\0"s};
  for (int i = 0; i < 40; ++i) storage.push_back(std::to_string(i));
  std::vector<std::string_view> args(storage.begin(), storage.end());
  std::string out = "+prefix\r\n";
  append_command(out, args);
  const Parsed p = parse(out);
  ASSERT_FALSE(p.failed);
  ASSERT_EQ(p.replies.size(), 2u);
  const Reply& cmd = p.replies[1];
  ASSERT_EQ(cmd.elements.size(), storage.size());
  for (std::size_t i = 0; i < storage.size(); ++i) EXPECT_EQ(cmd.elements[i].str, storage[i]);
}

}  // namespace
}  // namespace llmproxy::stores::redis
