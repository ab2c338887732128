#include "proxy/core/openai/usage.h"

#include <algorithm>

#include "proxy/core/openai/usage_estimate.h"

namespace llmproxy::openai {
namespace {

bool is_empty_array(const json::Value& v) {
  return v.kind == json::Kind::array && json::skip_ws(v.raw, 1) == v.raw.size() - 1;
}

std::int64_t count_or_zero(const json::Value& v) {
  return std::max<std::int64_t>(0, json::as_int64(v).value_or(0));
}

}  // namespace

Usage usage_from_object(const json::Value& usage_object) {
  Usage u;
  if (usage_object.kind != json::Kind::object) return u;
  u.present = true;
  bool has_total = false;
  json::ObjectCursor cursor(usage_object.raw, 0, json::kMaxDepth, json::Utf8::lax);
  json::Member m;
  while (cursor.next(m) == json::ObjectCursor::Step::member) {
    if (json::string_equals(m.key_raw, "prompt_tokens")) {
      u.prompt_tokens = count_or_zero(m.value);
    } else if (json::string_equals(m.key_raw, "completion_tokens")) {
      u.completion_tokens = count_or_zero(m.value);
    } else if (json::string_equals(m.key_raw, "total_tokens")) {
      u.total_tokens = count_or_zero(m.value);
      has_total = json::as_int64(m.value).has_value();
    }
  }
  if (!has_total) u.total_tokens = u.prompt_tokens + u.completion_tokens;
  return u;
}

ChunkInfo inspect_chunk(std::string_view data) {
  ChunkInfo info;
  bool saw_choices = false;
  bool all_choices_empty = true;
  json::Value usage;  // the last `usage` member (null kind if none)
  const std::size_t first = json::skip_ws(data, 0);
  if (first >= data.size() || data[first] != '{') {
    info.valid_json = json::parse(data, json::Utf8::lax).has_value();
    return info;
  }
  info.valid_json = json::for_each_member(data, [&](const json::Member& m) {
    if (json::string_equals(m.key_raw, "choices")) {
      saw_choices = true;
      all_choices_empty = all_choices_empty && is_empty_array(m.value);
      info.carries_output = info.carries_output || choices_carry_output(m.value);
    } else if (json::string_equals(m.key_raw, "usage")) {
      usage = m.value;
    }
  }, json::Utf8::lax);
  if (!info.valid_json) {
    info.carries_output = false;
    return info;
  }
  info.usage = usage_from_object(usage);
  info.usage_only = saw_choices && all_choices_empty && info.usage.present;
  return info;
}

Usage extract_usage_from_body(std::string_view body) {
  json::Value usage;
  const bool ok = json::for_each_member(body, [&](const json::Member& m) {
    if (json::string_equals(m.key_raw, "usage")) usage = m.value;
  }, json::Utf8::lax);
  return ok ? usage_from_object(usage) : Usage{};
}

}  // namespace llmproxy::openai
