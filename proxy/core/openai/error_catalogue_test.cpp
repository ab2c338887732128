#include "proxy/core/openai/error_catalogue.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "proxy/core/openai/json_scan.h"

namespace llmproxy::openai {
namespace {

ErrorId id_at(std::size_t i) { return static_cast<ErrorId>(i); }

TEST(ErrorCatalogue, EveryEntryIsComplete) {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < kErrorIdCount; ++i) {
    const ErrorInfo& e = error_info(id_at(i));
    EXPECT_EQ(e.id, id_at(i));
    EXPECT_FALSE(e.name.empty());
    EXPECT_FALSE(e.type.empty()) << e.name;
    EXPECT_FALSE(e.code.empty()) << e.name;
    EXPECT_FALSE(e.metric_label.empty()) << e.name;
    EXPECT_FALSE(e.default_message.empty()) << e.name;
    EXPECT_GE(e.http_status, 400) << e.name;
    EXPECT_LT(e.http_status, 600) << e.name;
    EXPECT_TRUE(names.insert(e.name).second) << "duplicate " << e.name;
  }
}

TEST(ErrorCatalogue, ContractCodesAndStatuses) {
  struct Row { ErrorId id; int status; std::string_view type, code; };
  for (const Row& r : {
           Row{ErrorId::invalid_request_json, 400, "invalid_request_error", "invalid_json"},
           Row{ErrorId::invalid_api_key, 401, "invalid_request_error", "invalid_api_key"},
           Row{ErrorId::key_disabled, 403, "permission_error", "key_disabled"},
           Row{ErrorId::key_expired, 403, "permission_error", "key_expired"},
           Row{ErrorId::key_not_yet_valid, 403, "permission_error", "key_not_yet_valid"},
           Row{ErrorId::ip_not_allowed, 403, "permission_error", "ip_not_allowed"},
           Row{ErrorId::cors_preflight_refused, 403, "permission_error", "cors_preflight_refused"},
           Row{ErrorId::not_found, 404, "not_found_error", "not_found"},
           Row{ErrorId::method_not_allowed, 405, "invalid_request_error", "method_not_allowed"},
           Row{ErrorId::request_timeout, 408, "invalid_request_error", "request_timeout"},
           Row{ErrorId::request_too_large, 413, "invalid_request_error", "request_too_large"},
           Row{ErrorId::header_too_large, 431, "invalid_request_error", "header_too_large"},
           Row{ErrorId::quota_exceeded, 429, "insufficient_quota", "quota_exceeded"},
           Row{ErrorId::rate_limit_exceeded, 429, "rate_limit_error", "rate_limit_exceeded"},
           Row{ErrorId::no_backend_available, 503, "server_error", "no_backend_available"},
           Row{ErrorId::draining, 503, "server_error", "server_shutting_down"},
           Row{ErrorId::not_implemented, 501, "invalid_request_error", "not_implemented"},
           Row{ErrorId::overloaded, 503, "server_error", "server_overloaded"},
           Row{ErrorId::auth_unavailable, 503, "server_error", "auth_unavailable"},
           Row{ErrorId::upstream_connect_failed, 502, "server_error", "upstream_connect_failed"},
           Row{ErrorId::upstream_timeout, 504, "server_error", "upstream_timeout"},
           Row{ErrorId::upstream_reset, 502, "server_error", "upstream_reset"},
           Row{ErrorId::upstream_protocol_error, 502, "server_error", "upstream_bad_response"},
           Row{ErrorId::internal_error, 500, "server_error", "internal_error"},
       }) {
    const ErrorInfo& e = error_info(r.id);
    EXPECT_EQ(e.http_status, r.status) << e.name;
    EXPECT_EQ(e.type, r.type) << e.name;
    EXPECT_EQ(e.code, r.code) << e.name;
  }
}

TEST(ErrorCatalogue, BodyShape) {
  std::string out;
  append_error_body(out, ErrorId::rate_limit_exceeded);
  EXPECT_EQ(out,
            R"({"error":{"message":"Rate limit exceeded. Retry later.","type":"rate_limit_error",)"
            R"("param":null,"code":"rate_limit_exceeded"}})");
  out.clear();
  append_error_body(out, ErrorId::invalid_request, "bad \"model\"\n\x01\xff", "model");
  EXPECT_EQ(out,
            R"({"error":{"message":"bad \"model\"\n\u0001\ufffd","type":"invalid_request_error",)"
            R"("param":"model","code":"invalid_request"}})");
}

TEST(ErrorCatalogue, BodiesAreValidJsonForAnyMessage) {
  std::string message;
  for (int c = 0; c < 256; ++c) message.push_back(static_cast<char>(c));
  message += "\xe2\x82\xac\xf0\x9f\x98\x80\xe2\x82";  // valid 3/4-byte, then a cut sequence
  for (std::size_t i = 0; i < kErrorIdCount; ++i) {
    std::string out;
    append_error_body(out, id_at(i), message);
    EXPECT_TRUE(json::validate(out)) << out;
  }
}

TEST(ErrorCatalogue, SseErrorEvent) {
  std::string out;
  append_sse_error_event(out, ErrorId::stream_interrupted, "upstream reset");
  EXPECT_EQ(out.substr(0, 6), "data: ");
  EXPECT_EQ(out.substr(out.size() - 2), "\n\n");
  const auto body = json::parse(std::string_view(out).substr(6, out.size() - 8));
  ASSERT_TRUE(body);
  const auto error = json::find_member(*body, "error");
  ASSERT_TRUE(error);
  EXPECT_EQ(json::find_member(*error, "code")->raw, "\"stream_interrupted\"");
  EXPECT_EQ(json::find_member(*error, "message")->raw, "\"upstream reset\"");
}

}  // namespace
}  // namespace llmproxy::openai
