// Token usage as reported by an OpenAI-compatible upstream: the `usage` object
// of a non-streaming response, or of the final SSE chunk of a stream.
#pragma once

#include <cstdint>
#include <string_view>

#include "proxy/core/openai/json_scan.h"

namespace llmproxy::openai {

struct Usage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
  bool present = false;  // a `usage` object was found

  friend bool operator==(const Usage&, const Usage&) = default;
};

// Upstream bodies are scanned with json::Utf8::lax: bytes >= 0x80 inside
// strings are not judged (see json_scan.h), everything else is strict.

// Reads a `usage` object. Missing or non-integer counts read as 0, negative
// ones are clamped to 0 (bills must not go backwards), and a missing
// total_tokens is prompt + completion.
Usage usage_from_object(const json::Value& usage_object);

// From a whole non-streaming response body (a JSON object with `usage`).
// present == false when the body is not a valid JSON object or `usage` is
// absent or not an object (e.g. null).
Usage extract_usage_from_body(std::string_view body);

// From one SSE event's data payload (one chat.completion.chunk object).
inline Usage extract_usage_from_event(std::string_view data) { return extract_usage_from_body(data); }

// What the SSE relay needs to know about one event payload, in one pass.
struct ChunkInfo {
  bool valid_json = false;
  // A usage-only chunk: a JSON object whose `choices` member(s) are all `[]`
  // (at least one) and whose `usage` is an object. This is the extra chunk an
  // upstream sends for stream_options.include_usage.
  bool usage_only = false;
  // The chunk carried generated output (choices_carry_output(), see
  // usage_estimate.h): what the estimate for a stream without usage counts.
  bool carries_output = false;
  Usage usage;
};
ChunkInfo inspect_chunk(std::string_view data);

}  // namespace llmproxy::openai
