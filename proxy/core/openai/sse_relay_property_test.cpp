// The SSE relay filter on random vLLM-like streams split at random points:
// pass-through is exact and immediate, strip mode removes exactly the
// usage-only events, holds nothing it could already decide, and the
// observations ([DONE], usage, event count) do not depend on the split.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "proxy/core/openai/json_test_gen.h"
#include "proxy/core/openai/sse_relay.h"

namespace llmproxy::openai {
namespace {

using json::testgen::pick;

struct Block {
  std::string bytes;
  bool usage_only = false;
  bool event = false;  // has data, so it dispatches an event
  bool done = false;
  Usage usage;         // present if the payload carries a usage object
  std::size_t release = 0;  // offset in bytes after which strip mode must not hold it
};

struct Stream {
  std::string bytes;
  std::vector<Block> blocks;
  std::vector<std::size_t> starts;
};

std::string content_text() {
  return pick({"Hello", " world", "", "\\n", "\\\"quoted\\\"", "\xc3\xa9", "\\u00e9", "data: x",
               "[DONE]", ":", "\\r\\n"});
}

// Payload members, joined later with "," (and maybe split across data lines).
std::vector<std::string> chunk_members(bool content, bool usage) {
  std::vector<std::string> m = {R"("id":"chatcmpl-7f3a")", R"("object":"chat.completion.chunk")",
                                R"("created":1718000000)", R"("model":"llama-3-8b")"};
  if (content) {
    m.push_back(R"("choices":[{"index":0,"delta":{"content":")" + content_text() +
                R"("},"logprobs":null,"finish_reason":null}])");
  } else {
    m.push_back(pick({R"("choices":[])", R"("choices": [ ])", "\"choices\":[\t]"}));
  }
  if (usage) {
    const int p = *rc::gen::inRange(0, 5000);
    const int c = *rc::gen::inRange(0, 5000);
    m.push_back(R"("usage":{"prompt_tokens":)" + std::to_string(p) + R"(,"completion_tokens":)" +
                std::to_string(c) + R"(,"total_tokens":)" + std::to_string(p + c) + "}");
  } else if (*rc::gen::arbitrary<bool>()) {
    m.push_back(R"("usage":null)");
  }
  if (*rc::gen::arbitrary<bool>()) std::rotate(m.begin(), m.end() - 1, m.end());
  return m;
}

Usage usage_of(const std::vector<std::string>& members) {
  for (const auto& m : members)
    if (m.rfind(R"("usage":{)", 0) == 0) return extract_usage_from_body("{" + m + "}");
  return {};
}

Block data_block(const std::vector<std::string>& prefix_lines, std::string payload_lines_joined,
                 std::string_view eol) {
  Block b;
  for (const auto& l : prefix_lines) b.bytes += l + std::string(eol);
  b.bytes += payload_lines_joined;
  b.bytes += std::string(eol) + std::string(eol);
  b.event = true;
  return b;
}

Block random_block(std::string_view eol) {
  const std::string e(eol);
  const std::string field = pick({"data: ", "data:", "data: "});
  std::vector<std::string> prefix;
  if (*rc::gen::inRange(0, 6) == 0) prefix.push_back(pick({": note", "event: message", "id: 42", "retry: 1000", "foo: bar"}));
  switch (*rc::gen::inRange(0, 8)) {
    case 0: case 1: case 2: case 3: case 4: {
      const bool content = *rc::gen::inRange(0, 4) != 0;
      const bool usage = !content || *rc::gen::inRange(0, 4) == 0;
      const auto members = chunk_members(content, usage);
      // Payload on one or more data lines, split between members.
      std::string lines = field + "{";
      for (std::size_t i = 0; i < members.size(); ++i) {
        if (i) lines += (*rc::gen::inRange(0, 5) == 0) ? "," + e + field : ",";
        lines += members[i];
      }
      lines += "}";
      Block b = data_block(prefix, lines, eol);
      b.usage = usage_of(members);
      b.usage_only = !content && usage;
      const std::size_t choices = b.bytes.find(R"("choices":[{)");
      b.release = content ? choices + 12 : b.bytes.size();
      return b;
    }
    case 5: {
      Block b = data_block(prefix, field + "[DONE]", eol);
      b.done = true;
      b.release = b.bytes.size();
      return b;
    }
    case 6: {
      Block b;
      b.bytes = ": " + pick({"ping", "keep-alive", ""}) + e + e;
      b.release = b.bytes.size();
      return b;
    }
    default: {
      Block b = data_block(prefix, field + pick({"[1,2]", "42", "\"text\""}), eol);
      b.release = b.bytes.size();
      return b;
    }
  }
}

Stream random_stream() {
  Stream s;
  const int n = *rc::gen::inRange(0, 12);
  std::string last_eol = "\n";
  for (int i = 0; i < n; ++i) {
    std::string eol = pick({"\n", "\n", "\r\n", "\r"});
    Block b;
    if (i > 0 && *rc::gen::inRange(0, 8) == 0) {
      b.bytes = last_eol;  // a stray blank line, same style so \r + \n never merge
      b.release = b.bytes.size();
      eol = last_eol;
    } else {
      b = random_block(eol);
    }
    last_eol = eol;
    s.starts.push_back(s.bytes.size());
    s.bytes += b.bytes;
    s.blocks.push_back(std::move(b));
  }
  return s;
}

std::vector<std::size_t> random_cuts(std::size_t size) {
  std::vector<std::size_t> cuts;
  if (*rc::gen::inRange(0, 5) == 0) {
    for (std::size_t i = 1; i < size; ++i) cuts.push_back(i);
  } else {
    const int k = *rc::gen::inRange(0, 8);
    for (int i = 0; i < k; ++i) cuts.push_back(*rc::gen::inRange<std::size_t>(0, size + 1));
    std::sort(cuts.begin(), cuts.end());
  }
  cuts.push_back(size);
  return cuts;
}

struct Expect {
  std::string stripped;
  Usage usage;
  bool done = false;
  std::uint64_t events = 0, usage_only = 0;
};

Expect expect(const Stream& s) {
  Expect e;
  for (const auto& b : s.blocks) {
    if (!b.usage_only) e.stripped += b.bytes;
    if (b.usage.present) e.usage = b.usage;
    e.done = e.done || b.done;
    e.events += b.event;
    e.usage_only += b.usage_only;
  }
  return e;
}

RC_GTEST_PROP(SseRelayProperty, PassThroughIsExactAndImmediate, ()) {
  const Stream s = random_stream();
  RC_LOG() << "stream: " << ::testing::PrintToString(s.bytes) << "\n";
  const Expect e = expect(s);
  SseRelayFilter f(false);
  StringSink sink;
  std::size_t prev = 0;
  for (std::size_t cut : random_cuts(s.bytes.size())) {
    f.feed(std::string_view(s.bytes).substr(prev, cut - prev), sink);
    RC_LOG() << "cut " << cut << "\n";
    prev = cut;
    RC_ASSERT(sink.out == s.bytes.substr(0, cut));
    RC_ASSERT(f.held_bytes() == 0u);
  }
  f.finish(sink);
  RC_ASSERT(sink.out == s.bytes);
  RC_ASSERT(f.usage() == e.usage);
  RC_ASSERT(f.saw_done() == e.done);
  RC_ASSERT(f.events() == e.events);
  RC_ASSERT(!f.malformed());
  RC_ASSERT(!f.ended_mid_event());
}

RC_GTEST_PROP(SseRelayProperty, StripRemovesExactlyUsageOnlyEvents, ()) {
  const Stream s = random_stream();
  RC_LOG() << "stream: " << ::testing::PrintToString(s.bytes) << "\n";
  const Expect e = expect(s);
  SseRelayFilter f(true);
  StringSink sink;
  std::size_t prev = 0;
  for (std::size_t cut : random_cuts(s.bytes.size())) {
    f.feed(std::string_view(s.bytes).substr(prev, cut - prev), sink);
    RC_LOG() << "cut " << cut << "\n";
    prev = cut;
    RC_ASSERT(e.stripped.compare(0, sink.out.size(), sink.out) == 0);  // a prefix, in order
    // Nothing decidable is held: at a block boundary, or past a content
    // chunk's `"choices":[{`, the filter holds no bytes.
    const auto it = std::upper_bound(s.starts.begin(), s.starts.end(), cut);
    if (it != s.starts.begin()) {
      const std::size_t b = static_cast<std::size_t>(it - s.starts.begin()) - 1;
      const std::size_t offset = cut - s.starts[b];
      if (offset == 0 || offset >= s.blocks[b].release) RC_ASSERT(f.held_bytes() == 0u);
    }
  }
  f.finish(sink);
  RC_ASSERT(sink.out == e.stripped);
  RC_ASSERT(f.stripped_events() == e.usage_only);
  RC_ASSERT(f.usage() == e.usage);
  RC_ASSERT(f.saw_done() == e.done);
  RC_ASSERT(f.events() == e.events);
  RC_ASSERT(!f.malformed());
}

RC_GTEST_PROP(SseRelayProperty, TruncatedStreamEndsMidEvent, ()) {
  const Stream s = random_stream();
  RC_LOG() << "stream: " << ::testing::PrintToString(s.bytes) << "\n";
  RC_PRE(!s.blocks.empty());
  const std::size_t b = *rc::gen::inRange<std::size_t>(0, s.blocks.size());
  RC_PRE(s.blocks[b].event);
  // Cut inside the data of event b (after "data" began, before its blank line).
  const std::size_t first_data = s.blocks[b].bytes.find("data");
  const std::size_t end = s.blocks[b].bytes.size() - 1 - (s.blocks[b].bytes.ends_with("\r\n\r\n") ? 2 : 0);
  RC_PRE(first_data + 1 < end);
  const std::size_t cut = s.starts[b] + *rc::gen::inRange(first_data + 1, end);
  for (bool strip : {false, true}) {
    SseRelayFilter f(strip);
    StringSink sink;
    f.feed(std::string_view(s.bytes).substr(0, cut), sink);
    f.finish(sink);
    RC_ASSERT(f.ended_mid_event());
    RC_ASSERT(sink.out.size() <= cut);
  }
}

}  // namespace
}  // namespace llmproxy::openai
