// What the fake backend understands of an OpenAI request: the route, and the
// few body fields that shape the answer. Pure (no I/O), written independently
// of proxy/core/openai so the fake can serve as an oracle for the proxy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llmproxy::fake {

enum class Endpoint : std::uint8_t {
  chat,         // POST /v1/chat/completions
  completions,  // POST /v1/completions
  embeddings,   // POST /v1/embeddings
  models,       // GET  /v1/models
  health,       // GET  /health, /v1/health
  unknown,      // anything else (404)
};
inline constexpr std::size_t kEndpointCount = 6;

std::string_view endpoint_name(Endpoint e);

// Maps a request target ("/v1/chat/completions?x=1") to its endpoint; the
// query string is ignored.
Endpoint classify_target(std::string_view target);

// The HTTP method an endpoint answers; other methods get 405.
bool method_allowed(Endpoint e, std::string_view method);
std::string_view allowed_method(Endpoint e);

// An error in OpenAI's shape: {"error":{"message","type","param","code"}}.
// Empty param/code serialise as null.
struct ApiError {
  int status = 400;
  std::string type;
  std::string code;
  std::string param;
  std::string message;
};

// The fields of a chat/completions/embeddings body that the fake uses.
struct InferenceRequest {
  std::string model;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  // max_completion_tokens (chat) or else max_tokens; nullopt = no limit.
  std::optional<std::uint32_t> max_tokens;
  // Number of whitespace-separated words over every prompt text: chat message
  // contents (strings and text parts), the completion prompt(s), or the
  // embedding input(s); a pre-tokenised input (array of integers) counts one
  // per integer.
  std::uint32_t prompt_tokens = 0;
  // FNV-1a over the same texts, in order; seeds the generated tokens, so the
  // same prompt always yields the same answer on every fake backend.
  std::uint64_t content_hash = 0;
  // Embeddings: number of inputs (one vector each).
  std::uint32_t input_count = 0;
};

// Parses and validates the JSON body of an inference endpoint. Returns false
// and fills `error` (a 400 in OpenAI's wording) when the body is not JSON or
// a field has the wrong type.
bool parse_inference_request(Endpoint e, std::string_view body, InferenceRequest& out,
                             ApiError& error);

// Counts whitespace-separated words (spaces, tabs, newlines, CR, FF, VT).
std::uint32_t count_words(std::string_view text);

}  // namespace llmproxy::fake
