#include "proxy/core/openai/sse_relay.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace llmproxy::openai {
namespace {

const std::string kChunk1 =
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
    "\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}],\"usage\":null}\n\n";
const std::string kChunk2 =
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
    "\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},"
    "\"finish_reason\":\"stop\"}],\"usage\":null}\n\n";
const std::string kUsage =
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
    "\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2,"
    "\"total_tokens\":9}}\n\n";
const std::string kDone = "data: [DONE]\n\n";

struct FeedResult {
  std::string out;
  std::vector<std::size_t> writes_per_feed;
};

// Feeds `input` cut at `cuts` (sorted offsets), then finish().
FeedResult feed(SseRelayFilter& f, std::string_view input, const std::vector<std::size_t>& cuts = {}) {
  FeedResult r;
  StringSink sink;
  std::size_t prev = 0;
  auto step = [&](std::size_t to) {
    const std::size_t before = sink.out.size();
    f.feed(input.substr(prev, to - prev), sink);
    r.writes_per_feed.push_back(sink.out.size() - before);
    prev = to;
  };
  for (std::size_t c : cuts) step(c);
  step(input.size());
  f.finish(sink);
  r.out = sink.out;
  return r;
}

TEST(SseRelay, PassThroughForwardsEverythingAtOnce) {
  const std::string stream = kChunk1 + kChunk2 + kUsage + kDone;
  SseRelayFilter f(false);
  const FeedResult r = feed(f, stream, {10, 11, 200, 201});
  EXPECT_EQ(r.out, stream);
  EXPECT_EQ(r.writes_per_feed, (std::vector<std::size_t>{10, 1, 189, 1, stream.size() - 201}));
  EXPECT_TRUE(f.saw_done());
  EXPECT_EQ(f.events(), 4u);
  EXPECT_EQ(f.usage(), (Usage{7, 2, 9, true}));
  EXPECT_FALSE(f.malformed());
  EXPECT_FALSE(f.ended_mid_event());
  EXPECT_EQ(f.stripped_events(), 0u);
}

TEST(SseRelay, StripRemovesOnlyTheUsageChunk) {
  const std::string stream = kChunk1 + kChunk2 + kUsage + kDone;
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    SseRelayFilter f(true);
    const FeedResult r = feed(f, stream, {cut});
    EXPECT_EQ(r.out, kChunk1 + kChunk2 + kDone) << cut;
    EXPECT_EQ(f.usage(), (Usage{7, 2, 9, true}));
    EXPECT_EQ(f.stripped_events(), 1u);
    EXPECT_TRUE(f.saw_done());
  }
}

TEST(SseRelay, StripReleasesContentChunkOnceChoicesStart) {
  SseRelayFilter f(true);
  StringSink sink;
  const std::size_t at = kChunk1.find("[{") + 2;
  f.feed(std::string_view(kChunk1).substr(0, at - 1), sink);  // up to "["
  EXPECT_EQ(sink.out, "");
  EXPECT_GT(f.held_bytes(), 0u);
  f.feed(std::string_view(kChunk1).substr(at - 1, 1), sink);  // "{"
  EXPECT_EQ(sink.out, kChunk1.substr(0, at));
  EXPECT_EQ(f.held_bytes(), 0u);
  f.feed(std::string_view(kChunk1).substr(at), sink);
  EXPECT_EQ(sink.out, kChunk1);
}

TEST(SseRelay, LineEndingsAndSplitCrLf) {
  const std::string usage_crlf = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1}}\r\n\r\n";
  const std::string usage_cr = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":2}}\r\r";
  const std::string content = "data: {\"choices\":[{\"delta\":{}}]}\r\n\r\n";
  const std::string stream = content + usage_crlf + content + usage_cr + "\n" + kDone;
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    SseRelayFilter f(true);
    const FeedResult r = feed(f, stream, {cut});
    // The \n after usage_cr's final \r is a separate blank line, not part of
    // the stripped event... unless it completes a \r\n: here it does.
    EXPECT_EQ(r.out, content + content + kDone) << cut;
    EXPECT_EQ(f.events(), 5u);
    EXPECT_EQ(f.usage().prompt_tokens, 2);
  }
}

TEST(SseRelay, MultiLineDataAndFields) {
  const std::string stream =
      ": keep-alive\n\nevent: message\nid: 1\nretry: 10\ndata: {\"choices\":\ndata:[],\"usage\":"
      "{\"total_tokens\":3}}\n\ndata:[DONE]\n\n";
  SseRelayFilter f(true);
  const FeedResult r = feed(f, stream);
  EXPECT_EQ(r.out, ": keep-alive\n\ndata:[DONE]\n\n");
  EXPECT_EQ(f.usage(), (Usage{0, 0, 3, true}));
  EXPECT_TRUE(f.saw_done());
  EXPECT_EQ(f.events(), 2u);
}

TEST(SseRelay, MalformedPayloadStopsForwarding) {
  const std::string bad = "data: {\"choices\":[{\"x\"\n\n";
  const std::string stream = kChunk1 + bad + kDone;
  for (bool strip : {false, true}) {
    SseRelayFilter f(strip);
    const FeedResult r = feed(f, stream);
    EXPECT_EQ(r.out, kChunk1 + bad);
    EXPECT_TRUE(f.malformed());
    EXPECT_FALSE(f.saw_done());
  }
}

TEST(SseRelay, InvalidUtf8InContentIsNotMalformed) {
  // A backend that cuts a multi-byte character between tokens.
  const std::string stream = "data: {\"choices\":[{\"delta\":{\"content\":\"\xe4\xbd\"}}]}\n\n" + kUsage + kDone;
  SseRelayFilter f(true);
  const FeedResult r = feed(f, stream, {20});
  EXPECT_FALSE(f.malformed());
  EXPECT_EQ(r.out, stream.substr(0, stream.size() - kUsage.size() - kDone.size()) + kDone);
}

TEST(SseRelay, OversizedEventIsMalformed) {
  SseRelayFilter f(false, 32);
  const std::string stream = "data: " + std::string(40, 'x') + "\n\n";
  const FeedResult r = feed(f, stream, {7, 20});
  EXPECT_TRUE(f.malformed());
  EXPECT_EQ(r.out, stream.substr(0, 6 + 32));
}

TEST(SseRelay, BlockLongerThanLimitIsNeverHeldOrStripped) {
  const std::string stream = ": " + std::string(100, 'x') + "\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":1}}\n\n";
  for (std::size_t cut : {std::size_t{0}, std::size_t{50}, std::size_t{110}, stream.size()}) {
    SseRelayFilter f(true, 64);
    const FeedResult r = feed(f, stream, {cut});
    EXPECT_EQ(r.out, stream) << cut;
    EXPECT_EQ(f.stripped_events(), 0u);
    EXPECT_EQ(f.usage().prompt_tokens, 1);
    EXPECT_FALSE(f.malformed());
  }
}

// A small independent WHATWG event-stream parser: the data of each event.
std::vector<std::string> parse_events(std::string_view s) {
  std::vector<std::string> events;
  std::string data, line;
  bool has_data = false;
  auto end_line = [&] {
    if (line.empty()) {
      if (has_data) events.push_back(data);
      data.clear();
      has_data = false;
    } else if (line[0] != ':') {
      const std::size_t colon = line.find(':');
      const std::string name = line.substr(0, colon);
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.erase(0, 1);
      if (name == "data") {
        if (has_data) data += '\n';
        data += value;
        has_data = true;
      }
    }
    line.clear();
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' || s[i] == '\n') {
      end_line();
      if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      line += s[i];
    }
  }
  return events;
}

TEST(SseRelay, CloseForErrorLetsTheErrorEventStandAlone) {
  const std::string stream = kChunk1 + ": c\r\nevent: x\r\n" + kChunk2 + kUsage +
                             "data: {\"choices\":[{}]}\r\rdata: [DONE]\n\n";
  const std::string error = "data: {\"error\":{}}\n\n";
  for (bool strip : {false, true}) {
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
      SseRelayFilter f(strip);
      StringSink sink;
      f.feed(std::string_view(stream).substr(0, cut), sink);
      const std::string client = sink.out + std::string(f.close_for_error()) + error;
      const auto events = parse_events(client);
      ASSERT_FALSE(events.empty()) << cut;
      EXPECT_EQ(events.back(), "{\"error\":{}}") << "strip=" << strip << " cut=" << cut;
    }
  }
}

TEST(SseRelay, EndedMidEvent) {
  SseRelayFilter a(false);
  feed(a, kChunk1 + "data: {\"cho");
  EXPECT_TRUE(a.ended_mid_event());
  SseRelayFilter b(false);
  feed(b, kChunk1 + ": ping\n");
  EXPECT_FALSE(b.ended_mid_event());
  SseRelayFilter c(false);
  feed(c, kChunk1 + "data: {}\n");
  EXPECT_TRUE(c.ended_mid_event());
}

TEST(SseRelay, FinishReleasesHeldIncompleteEvent) {
  SseRelayFilter f(true);
  const std::string partial = "data: {\"choices\":[]";
  const FeedResult r = feed(f, partial);
  EXPECT_EQ(r.out, partial);
  EXPECT_TRUE(f.ended_mid_event());
}

TEST(SseRelay, EmptyDataIsAnEventAndMalformed) {
  SseRelayFilter f(false);
  feed(f, "data\n\n");
  EXPECT_EQ(f.events(), 1u);
  EXPECT_TRUE(f.malformed());
}

// Issue #10 case 9: one huge event must not leave a stream holding its size
// for the rest of the stream (50 slow streams once held 230 MB).
TEST(SseRelay, BuffersShrinkAfterALargeEvent) {
  for (const bool strip : {false, true}) {
    SseRelayFilter f(strip);
    StringSink sink;
    const std::string big = "data: {\"choices\":[],\"x\":\"" + std::string(900 * 1024, 'a') + "\"}\n\n";
    // Fed in pieces, as a socket delivers it.
    for (std::size_t at = 0; at < big.size(); at += 16 * 1024)
      f.feed(std::string_view(big).substr(at, 16 * 1024), sink);
    EXPECT_FALSE(f.malformed());
    f.feed(kChunk1, sink);
    f.feed(kChunk1, sink);
    EXPECT_LE(f.buffered_bytes(), 3 * SseRelayFilter::kKeptCapacity) << "strip=" << strip;
  }
}

TEST(SseRelay, EventsPastTheCapAreMalformed) {
  SseRelayFilter f(false);
  StringSink sink;
  const std::string huge =
      "data: {\"x\":\"" + std::string(SseRelayFilter::kDefaultMaxEventBytes, 'a') + "\"}\n\n";
  f.feed(huge, sink);
  EXPECT_TRUE(f.malformed());
  EXPECT_LE(f.buffered_bytes(), SseRelayFilter::kDefaultMaxEventBytes + 64 * 1024);
}

}  // namespace
}  // namespace llmproxy::openai
