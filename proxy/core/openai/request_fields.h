// The few fields of an OpenAI request body the gateway acts on (routing by
// model, streaming, usage accounting, token budgets), read in one pass without
// building a DOM. All views point into the body (or into the scratch string
// for a model name written with escapes), so they live as long as those do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/core/openai/error_catalogue.h"

namespace llmproxy::openai {

struct RequestFields {
  // Set when the body cannot be served: invalid_request_json if it is not a
  // JSON object, invalid_request (with error_param) if a field we read has the
  // wrong type. The other fields are unspecified then.
  std::optional<ErrorId> error;
  std::string_view error_param;

  std::optional<std::string_view> model;
  bool stream = false;
  // stream_options.include_usage: nullopt when absent (or null).
  std::optional<bool> include_usage;
  std::optional<std::int64_t> max_tokens;
  std::optional<std::int64_t> max_completion_tokens;
  // Rough prompt size: bytes of the raw `messages` (chat), `prompt`
  // (completions) or `input` (embeddings) value; 0 if none.
  std::size_t prompt_bytes = 0;

  // Raw slices used by inject_include_usage (empty data() when absent).
  std::string_view root_raw;            // the whole top-level object
  std::string_view stream_options_raw;  // value of the last "stream_options"
  std::string_view include_usage_raw;   // value of its last "include_usage"
};

// Reads the fields above. `scratch` holds a decoded model name if the name
// contains escapes (rare); reuse it across requests to avoid allocation.
RequestFields read_request_fields(std::string_view body, std::string& scratch);

// Makes a streaming request ask for usage, so the gateway always learns the
// token counts (BEHAVIOR §3). Returns true and writes the new body to `out`
// when it changed something; the caller must then construct the SSE relay
// with strip_usage_chunk = true, because the client did not ask for the usage
// chunk. Returns false (out untouched) when nothing is to be done: not a
// streaming request, include_usage already true, or a body the backend should
// reject itself (not an object, stream_options/include_usage of a wrong type).
//
//   stream_options absent or null  -> "stream_options":{"include_usage":true}
//   stream_options without the key -> "include_usage":true added to it
//   include_usage false or null    -> replaced by true. The client said no, so
//                                     the chunk is stripped again: the client
//                                     sees what it asked for, the gateway
//                                     still bills exactly.
// Every other byte of the body is kept; no duplicate key is introduced.
bool inject_include_usage(std::string_view body, const RequestFields& fields, std::string& out);
bool inject_include_usage(std::string_view body, std::string& out);

}  // namespace llmproxy::openai
