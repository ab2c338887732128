// Properties of the fake backend's pure core.
#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "fake_backends/fault_spec.h"
#include "fake_backends/openai_response.h"

namespace llmproxy::fake {
namespace {
namespace json = boost::json;

// Any text either parses or is rejected with a message; never crashes.
RC_GTEST_PROP(FaultSpecProperty, ParseIsTotal, (const std::string& text)) {
  FaultWindow w;
  std::string err;
  if (!parse_fault_window(text, w, err)) RC_ASSERT(!err.empty());
}

// Specs assembled from valid items always parse, whatever the order.
RC_GTEST_PROP(FaultSpecProperty, ValidItemsParse, ()) {
  const std::vector<std::string> pool{"status=503", "reset_after=2", "stall_after=1,for=3ms",
                                      "malformed_at=4", "no_done", "slow_headers=1ms",
                                      "health=down", "p=0.5", "ttft=2ms", "tokens=9"};
  const auto picks = *rc::gen::unique<std::vector<std::size_t>>(rc::gen::inRange<std::size_t>(0, pool.size()));
  RC_PRE(!picks.empty());
  std::string text;
  for (std::size_t i : picks) {
    if (!text.empty()) text += ',';
    text += pool[i];
  }
  FaultSpec f;
  std::string err;
  RC_ASSERT(parse_fault_spec(text, f, err));
  RC_ASSERT(!f.empty() || text == "p=0.5");
}

// A chat stream reassembles to the non-stream text; every event is JSON;
// with include_usage every choice event has usage:null and one usage event
// with empty choices closes the stream.
RC_GTEST_PROP(StreamProperty, EventsReassemble, (std::uint64_t hash, bool include_usage)) {
  const auto n = *rc::gen::inRange<std::uint32_t>(0, 40);
  ChunkFormatter f(Endpoint::chat, "chatcmpl-x", 7, "model", include_usage);
  std::string sse;
  f.append_role(sse);
  std::string tok;
  for (std::uint32_t i = 0; i < n; ++i) {
    tok.clear();
    append_token_text(tok, hash, i);
    f.append_token(sse, tok);
  }
  f.append_finish(sse, "stop");
  if (include_usage) f.append_usage(sse, Usage{3, n});
  ChunkFormatter::append_done(sse);

  std::string content;
  std::size_t usage_events = 0;
  std::string_view rest = sse;
  bool done = false;
  while (!rest.empty()) {
    RC_ASSERT(rest.substr(0, 6) == "data: ");
    const auto end = rest.find("\n\n");
    RC_ASSERT(end != std::string_view::npos);
    const auto payload = rest.substr(6, end - 6);
    rest.remove_prefix(end + 2);
    if (payload == "[DONE]") {
      RC_ASSERT(rest.empty());
      done = true;
      break;
    }
    const auto v = json::parse(json::string_view(payload.data(), payload.size()));
    const auto& choices = v.at("choices").as_array();
    if (choices.empty()) {
      ++usage_events;
      RC_ASSERT(v.at("usage").at("completion_tokens").to_number<std::uint32_t>() == n);
      continue;
    }
    RC_ASSERT(usage_events == 0u);
    RC_ASSERT(v.as_object().contains("usage") == include_usage);
    if (const auto* c = choices.at(0).at("delta").as_object().if_contains("content"))
      content += c->as_string().c_str();
  }
  RC_ASSERT(done);
  RC_ASSERT(usage_events == (include_usage ? 1u : 0u));
  RC_ASSERT(content == completion_text(hash, n));
}

}  // namespace
}  // namespace llmproxy::fake
