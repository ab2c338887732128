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

// Any window the parser can make prints as text it reads back equal
// (kept simulation cases depend on it: conformance/scenario/case_writer.cpp).
rc::Gen<Duration> gen_duration(std::int64_t max_ns) {
  // Whole seconds, milliseconds, microseconds or nanoseconds, so every unit prints.
  return rc::gen::map(rc::gen::pair(rc::gen::inRange<std::int64_t>(0, max_ns), rc::gen::inRange(0, 4)),
                      [](std::pair<std::int64_t, int> p) {
                        static constexpr std::int64_t unit[] = {1'000'000'000, 1'000'000, 1'000, 1};
                        return Duration(p.first / unit[p.second] * unit[p.second]);
                      });
}

template <class T>
std::optional<T> maybe(const rc::Gen<T>& g) {
  if (*rc::gen::arbitrary<bool>()) return *g;
  return std::nullopt;
}

FaultSpec gen_spec() {
  FaultSpec s;
  if (*rc::gen::arbitrary<bool>()) {
    s.status = *rc::gen::inRange(400, 600);
    if (*rc::gen::arbitrary<bool>()) s.retry_after_s = *rc::gen::inRange(0, 100000);
    if (*rc::gen::arbitrary<bool>()) s.code = *rc::gen::element<std::string>("x", "context_length_exceeded", "A-1.b_2");
  }
  const int abrupt = *rc::gen::inRange(0, 3);  // hang and reset_before_headers exclude each other
  s.hang = abrupt == 1;
  s.reset_before_headers = abrupt == 2;
  auto maybe_count = [] { return maybe(rc::gen::arbitrary<std::uint32_t>()); };
  s.reset_after = maybe_count();
  s.stall_after = maybe_count();
  if (s.stall_after) s.stall_for = *gen_duration(1'000'000'000'000'000);
  s.malformed_at = maybe_count();
  s.tokens = maybe_count();
  s.no_done = *rc::gen::arbitrary<bool>();
  s.slow_headers = *gen_duration(1'000'000'000'000);
  s.health = *rc::gen::element(HealthMode::unset, HealthMode::up, HealthMode::down, HealthMode::hang);
  if (*rc::gen::arbitrary<bool>()) s.probability = *rc::gen::map(rc::gen::inRange(0, 1'000'001), [](int v) {
    return static_cast<double>(v) / 1e6;
  });
  s.ttft = maybe(gen_duration(1'000'000'000'000));
  s.itl = maybe(gen_duration(1'000'000'000));
  return s;
}

RC_GTEST_PROP(FaultSpecProperty, PrintedWindowsParseBackEqual, ()) {
  FaultWindow w;
  w.spec = gen_spec();
  if (*rc::gen::arbitrary<bool>()) w.from = *gen_duration(1'000'000'000'000'000);
  if (*rc::gen::arbitrary<bool>()) w.to = w.from + Duration(1) + *gen_duration(1'000'000'000'000'000);
  const std::string text = print_fault_window(w);
  RC_PRE(!text.empty());
  FaultWindow back;
  std::string err;
  RC_ASSERT(parse_fault_window(text, back, err));
  RC_ASSERT(back == w);
  // A whole-run window is a plain spec.
  if (w.from == Duration(0) && w.to == Duration::max()) {
    FaultSpec spec;
    RC_ASSERT(parse_fault_spec(text, spec, err));
    RC_ASSERT(spec == w.spec);
  }
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
