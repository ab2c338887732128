// The fake backend's answers in OpenAI's documented wire format: JSON bodies
// for non-streaming responses and SSE events for streaming ones. Pure; the
// server frames them (HTTP head, chunked encoding).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "fake_backends/openai_request.h"

namespace llmproxy::fake {

struct Usage {
  std::uint32_t prompt_tokens = 0;
  std::uint32_t completion_tokens = 0;
  std::uint32_t total() const { return prompt_tokens + completion_tokens; }
};

// Token `index` (0-based) of the answer to a prompt with this content hash:
// " tok<N>", N in [0, 1000). Plain ASCII, so it needs no JSON escaping.
void append_token_text(std::string& out, std::uint64_t content_hash, std::uint32_t index);

// The whole answer: tokens 0..count-1 concatenated.
std::string completion_text(std::uint64_t content_hash, std::uint32_t count);

// `s` as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);

// {"error":{"message":…,"type":…,"param":…,"code":…}}
std::string error_body(const ApiError& e);

// The usual OpenAI error for an HTTP status the fault injector returns.
ApiError error_for_status(int status, std::string_view code);

// Non-streaming bodies. `id` is the response id ("chatcmpl-…", "cmpl-…").
std::string chat_completion_body(std::string_view id, std::int64_t created, std::string_view model,
                                 std::string_view text, std::string_view finish_reason,
                                 const Usage& usage);
std::string text_completion_body(std::string_view id, std::int64_t created, std::string_view model,
                                 std::string_view text, std::string_view finish_reason,
                                 const Usage& usage);
// One deterministic vector of `dim` floats per input, seeded by the hash.
std::string embeddings_body(std::string_view model, std::uint64_t content_hash, std::uint32_t inputs,
                            std::uint32_t dim, std::uint32_t prompt_tokens);
std::string models_body(std::span<const std::string> models, std::int64_t created);

// Formats the SSE events of one streaming answer. The constant parts of every
// event are rendered once per request, so each token costs one append.
class ChunkFormatter {
 public:
  // `e` is Endpoint::chat ("chat.completion.chunk") or Endpoint::completions
  // ("text_completion"). With include_usage every event carries
  // "usage":null and the stream ends with a usage event whose choices is [].
  ChunkFormatter(Endpoint e, std::string_view id, std::int64_t created, std::string_view model,
                 bool include_usage);

  // Chat only (no-op for completions): delta {"role":"assistant","content":""}.
  void append_role(std::string& out) const;
  // One token; `malformed` emits the event with its JSON cut in half.
  void append_token(std::string& out, std::string_view text, bool malformed = false) const;
  // The last choice event: empty delta (or text "") with the finish reason.
  void append_finish(std::string& out, std::string_view finish_reason) const;
  // {"choices":[],"usage":{…}} (only meaningful with include_usage).
  void append_usage(std::string& out, const Usage& usage) const;
  static void append_done(std::string& out) { out += "data: [DONE]\n\n"; }

 private:
  void append_event(std::string& out, std::string_view choice_body, std::string_view finish,
                    bool malformed) const;

  Endpoint endpoint_;
  std::string head_;  // {"id":…,"object":…,"created":…,"model":…,"choices":[
  bool include_usage_;
};

}  // namespace llmproxy::fake
