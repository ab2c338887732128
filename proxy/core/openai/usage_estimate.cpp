#include "proxy/core/openai/usage_estimate.h"

#include <algorithm>
#include <limits>

namespace llmproxy::openai {
namespace {

// Validated JSON strings keep their quotes: "" is the only empty one.
bool non_empty_string(const json::Value& v) { return v.kind == json::Kind::string && v.raw.size() > 2; }

bool non_empty_array(const json::Value& v) {
  return v.kind == json::Kind::array && json::skip_ws(v.raw, 1) < v.raw.size() - 1;
}

bool delta_carries_output(const json::Value& delta) {
  if (delta.kind != json::Kind::object) return false;
  bool out = false;
  json::ObjectCursor cursor(delta.raw, 0, json::kMaxDepth, json::Utf8::lax);
  json::Member m;
  while (!out && cursor.next(m) == json::ObjectCursor::Step::member) {
    if (json::string_equals(m.key_raw, "content") ||
        json::string_equals(m.key_raw, "reasoning_content") ||
        json::string_equals(m.key_raw, "reasoning"))
      out = non_empty_string(m.value);
    else if (json::string_equals(m.key_raw, "tool_calls"))
      out = non_empty_array(m.value);
  }
  return out;
}

bool choice_carries_output(const json::Value& choice) {
  if (choice.kind != json::Kind::object) return false;
  bool out = false;
  json::ObjectCursor cursor(choice.raw, 0, json::kMaxDepth, json::Utf8::lax);
  json::Member m;
  while (!out && cursor.next(m) == json::ObjectCursor::Step::member) {
    if (json::string_equals(m.key_raw, "delta"))
      out = delta_carries_output(m.value);
    else if (json::string_equals(m.key_raw, "text"))
      out = non_empty_string(m.value);
  }
  return out;
}

json::Kind kind_at(char c) {
  switch (c) {
    case '{': return json::Kind::object;
    case '[': return json::Kind::array;
    case '"': return json::Kind::string;
    case 't': case 'f': return json::Kind::boolean;
    case 'n': return json::Kind::null;
    default: return json::Kind::number;
  }
}

}  // namespace

bool choices_carry_output(const json::Value& choices) {
  if (choices.kind != json::Kind::array) return false;
  const std::string_view raw = choices.raw;
  std::size_t pos = json::skip_ws(raw, 1);
  // The array was validated: every element scans, then ',' or ']' follows.
  while (pos < raw.size() && raw[pos] != ']') {
    const json::ScanResult r = json::scan_value(raw, pos, json::kMaxDepth, json::Utf8::lax);
    if (r.status != json::ScanStatus::ok) return false;
    const json::Value element{raw.substr(pos, r.end - pos), kind_at(raw[pos])};
    if (choice_carries_output(element)) return true;
    pos = json::skip_ws(raw, r.end);
    if (pos < raw.size() && raw[pos] == ',') pos = json::skip_ws(raw, pos + 1);
  }
  return false;
}

Usage estimate_stream_usage(std::uint64_t output_events, std::int64_t prompt_tokens_estimate) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / 2);
  Usage u;
  u.present = true;
  u.completion_tokens = static_cast<std::int64_t>(std::min(output_events, kMax));
  u.prompt_tokens = std::clamp<std::int64_t>(prompt_tokens_estimate, 0, static_cast<std::int64_t>(kMax));
  u.total_tokens = u.prompt_tokens + u.completion_tokens;
  return u;
}

}  // namespace llmproxy::openai
