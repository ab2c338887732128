// The one catalogue of errors the gateway itself produces (BEHAVIOR §2): every
// rejection, timeout and upstream failure the gateway reports uses an ErrorId
// from here, so the HTTP status, the OpenAI `type`/`code` a client sees, and
// the metric label an operator graphs can never drift apart.
//
// `type` follows OpenAI: invalid_request_error (4xx caused by the request;
// also OpenAI's own 401 invalid_api_key), permission_error (403),
// not_found_error (404),
// insufficient_quota (quota), rate_limit_error (429 rate limit) and
// server_error (5xx: the gateway or the upstream failed). `code` is the
// stable machine-readable name clients match on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace llmproxy::openai {

enum class ErrorId : std::uint8_t {
  invalid_request_json,     // 400 body on a JSON endpoint is not a JSON object
  invalid_request,          // 400 request is malformed in another way
  invalid_api_key,          // 401 key missing or unknown
  key_disabled,             // 403 the key's status is disabled
  key_expired,              // 403 past expires_at, or status expired
  key_not_yet_valid,        // 403 before the key's starts_at
  ip_not_allowed,           // 403 client IP denied for this key
  cors_preflight_refused,   // 403 a CORS preflight's origin, method or headers are not allowed (http/cors.h)
  not_found,                // 404 no such route
  method_not_allowed,       // 405 known path, wrong method (send Allow)
  request_timeout,          // 408 client too slow sending the request (read_timeout)
  request_too_large,        // 413 body above server.max_body_size
  header_too_large,         // 431 headers above server.max_header_bytes
  not_implemented,          // 501 a transfer coding the gateway does not forward
  quota_exceeded,           // 429 the key's token quota is used up
  rate_limit_exceeded,      // 429 a rate limit rejected the request (send Retry-After)
  no_backend_available,     // 503 nothing healthy/routable for this request
  draining,                 // 503 shutting down, not accepting new work
  overloaded,               // 503 the memory budget for buffered request bodies is used up
  auth_unavailable,         // 503 a key store an auth provider reads failed; the key could not be judged
  upstream_connect_failed,  // 502
  upstream_timeout,         // 504 connect/first-byte/attempt timeout
  upstream_reset,           // 502 upstream closed or reset the connection
  upstream_protocol_error,  // 502 upstream answered with something unparseable
  stream_interrupted,       // SSE error event: the stream broke after it started
  internal_error,           // 500 a bug or an unexpected failure in the gateway
};

inline constexpr std::size_t kErrorIdCount = static_cast<std::size_t>(ErrorId::internal_error) + 1;

struct ErrorInfo {
  ErrorId id;
  std::string_view name;          // stable identifier, equal to the enumerator name
  int http_status;
  std::string_view type;          // OpenAI error.type
  std::string_view code;          // OpenAI error.code
  std::string_view metric_label;  // low-cardinality label for error counters
  std::string_view default_message;
};

const ErrorInfo& error_info(ErrorId id);

// Appends {"error":{"message":…,"type":…,"param":…,"code":…}}. An empty message
// uses the default; an empty param is written as null. Any bytes are escaped
// into valid JSON.
void append_error_body(std::string& out, ErrorId id, std::string_view message = {},
                       std::string_view param = {});

// Appends one SSE event carrying the same error object: `data: {"error":…}\n\n`.
void append_sse_error_event(std::string& out, ErrorId id, std::string_view message = {});

}  // namespace llmproxy::openai
