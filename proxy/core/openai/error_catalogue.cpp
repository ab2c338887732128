#include "proxy/core/openai/error_catalogue.h"

#include <array>

#include "proxy/core/openai/json_write.h"

namespace llmproxy::openai {
namespace {

using E = ErrorId;

// Indexed by ErrorId; the static_assert below and the unit test check that
// each row sits at its own enumerator's index.
constexpr std::array<ErrorInfo, kErrorIdCount> kCatalogue = {{
    {E::invalid_request_json, "invalid_request_json", 400, "invalid_request_error", "invalid_json",
     "invalid_request_json", "We could not parse the JSON body of your request."},
    {E::invalid_request, "invalid_request", 400, "invalid_request_error", "invalid_request",
     "invalid_request", "The request is invalid."},
    // OpenAI answers a wrong key with this type (the SDKs map by status:
    // 401 is AuthenticationError, 403 PermissionDeniedError).
    {E::invalid_api_key, "invalid_api_key", 401, "invalid_request_error", "invalid_api_key",
     "invalid_api_key", "Missing or invalid API key."},
    {E::key_disabled, "key_disabled", 403, "permission_error", "key_disabled", "key_disabled",
     "This API key is disabled."},
    {E::key_expired, "key_expired", 403, "permission_error", "key_expired", "key_expired",
     "This API key has expired."},
    {E::key_not_yet_valid, "key_not_yet_valid", 403, "permission_error", "key_not_yet_valid",
     "key_not_yet_valid", "This API key is not valid yet."},
    {E::ip_not_allowed, "ip_not_allowed", 403, "permission_error", "ip_not_allowed",
     "ip_not_allowed", "This API key may not be used from your IP address."},
    {E::cors_preflight_refused, "cors_preflight_refused", 403, "permission_error", "cors_preflight_refused",
     "cors_preflight_refused", "This cross-origin request is not allowed by the server's CORS settings."},
    {E::not_found, "not_found", 404, "not_found_error", "not_found", "not_found",
     "Unknown request URL."},
    {E::method_not_allowed, "method_not_allowed", 405, "invalid_request_error",
     "method_not_allowed", "method_not_allowed", "Method not allowed for this URL."},
    {E::request_timeout, "request_timeout", 408, "invalid_request_error", "request_timeout",
     "request_timeout", "The request was not received in time."},
    {E::request_too_large, "request_too_large", 413, "invalid_request_error",
     "request_too_large", "request_too_large", "The request body is too large."},
    {E::header_too_large, "header_too_large", 431, "invalid_request_error", "header_too_large",
     "header_too_large", "The request headers are too large."},
    {E::not_implemented, "not_implemented", 501, "invalid_request_error", "not_implemented",
     "not_implemented", "The request uses a transfer coding this server does not support."},
    {E::quota_exceeded, "quota_exceeded", 429, "insufficient_quota", "quota_exceeded",
     "quota_exceeded", "You exceeded your current quota."},
    {E::rate_limit_exceeded, "rate_limit_exceeded", 429, "rate_limit_error",
     "rate_limit_exceeded", "rate_limit_exceeded", "Rate limit exceeded. Retry later."},
    {E::no_backend_available, "no_backend_available", 503, "server_error",
     "no_backend_available", "no_backend_available", "No backend is available to serve this request."},
    {E::draining, "draining", 503, "server_error", "server_shutting_down", "draining",
     "The server is shutting down."},
    {E::overloaded, "overloaded", 503, "server_error", "server_overloaded", "overloaded",
     "The server's memory budget for buffered requests and streams is used up. Retry later."},
    {E::auth_unavailable, "auth_unavailable", 503, "server_error", "auth_unavailable", "auth_unavailable",
     "Your API key could not be checked right now. Retry later."},
    {E::upstream_connect_failed, "upstream_connect_failed", 502, "server_error",
     "upstream_connect_failed", "upstream_connect_failed", "Could not connect to the upstream server."},
    {E::upstream_timeout, "upstream_timeout", 504, "server_error", "upstream_timeout",
     "upstream_timeout", "The upstream server did not respond in time."},
    {E::upstream_reset, "upstream_reset", 502, "server_error", "upstream_reset", "upstream_reset",
     "The upstream server closed the connection."},
    {E::upstream_protocol_error, "upstream_protocol_error", 502, "server_error",
     "upstream_bad_response", "upstream_protocol_error", "The upstream server sent an invalid response."},
    {E::stream_interrupted, "stream_interrupted", 502, "server_error", "stream_interrupted",
     "stream_interrupted", "The response stream was interrupted."},
    {E::internal_error, "internal_error", 500, "server_error", "internal_error", "internal_error",
     "Internal server error."},
}};

constexpr bool catalogue_is_indexed() {
  for (std::size_t i = 0; i < kCatalogue.size(); ++i)
    if (static_cast<std::size_t>(kCatalogue[i].id) != i) return false;
  return true;
}
static_assert(catalogue_is_indexed(), "kCatalogue rows must follow ErrorId order");

}  // namespace

const ErrorInfo& error_info(ErrorId id) {
  const auto i = static_cast<std::size_t>(id);
  return kCatalogue[i < kCatalogue.size() ? i : static_cast<std::size_t>(ErrorId::internal_error)];
}

void append_error_body(std::string& out, ErrorId id, std::string_view message,
                       std::string_view param) {
  const ErrorInfo& info = error_info(id);
  out.append(R"({"error":{"message":)");
  json::append_string(out, message.empty() ? info.default_message : message);
  out.append(R"(,"type":)");
  json::append_string(out, info.type);
  out.append(R"(,"param":)");
  if (param.empty()) {
    out.append("null");
  } else {
    json::append_string(out, param);
  }
  out.append(R"(,"code":)");
  json::append_string(out, info.code);
  out.append("}}");
}

void append_sse_error_event(std::string& out, ErrorId id, std::string_view message) {
  out.append("data: ");
  append_error_body(out, id, message);
  out.append("\n\n");
}

}  // namespace llmproxy::openai
