#include "proxy/core/http/request_rules.h"

#include <gtest/gtest.h>

namespace llmproxy::http {
namespace {

TEST(Classify, KnownRoutesAndMethods) {
  auto m = classify("POST", "/v1/chat/completions", "/metrics");
  EXPECT_EQ(m.route, Route::chat_completions);
  EXPECT_TRUE(m.method_allowed);
  m = classify("GET", "/v1/chat/completions", "/metrics");
  EXPECT_FALSE(m.method_allowed);
  EXPECT_EQ(m.allow, "POST");
  EXPECT_EQ(classify("GET", "/v1/models", "/metrics").route, Route::models);
  EXPECT_EQ(classify("GET", "/v1/models/llama", "/metrics").route, Route::models);
  EXPECT_EQ(classify("POST", "/v1/audio/speech", "/metrics").route, Route::v1_passthrough);
  EXPECT_EQ(classify("GET", "/health", "/metrics").route, Route::health);
  EXPECT_EQ(classify("GET", "/ready/", "/metrics").route, Route::ready);
  EXPECT_EQ(classify("GET", "/stats", "/stats").route, Route::metrics);
  EXPECT_EQ(classify("GET", "/v1", "/metrics").route, Route::not_found);
  EXPECT_EQ(classify("GET", "/", "/metrics").route, Route::not_found);
  EXPECT_TRUE(needs_json_body(Route::embeddings));
  EXPECT_FALSE(needs_json_body(Route::models));
}

TEST(HopByHop, FixedListAndConnectionTokens) {
  EXPECT_TRUE(is_hop_by_hop("Transfer-Encoding", ""));
  EXPECT_TRUE(is_hop_by_hop("keep-alive", ""));
  EXPECT_FALSE(is_hop_by_hop("Content-Type", ""));
  EXPECT_TRUE(is_hop_by_hop("X-Drop", "close, x-drop"));
  EXPECT_FALSE(is_hop_by_hop("X-Keep", "close, x-drop"));
}

TEST(RequestId, ValidationAndGeneration) {
  EXPECT_TRUE(valid_request_id("abc-123"));
  EXPECT_FALSE(valid_request_id(""));
  EXPECT_FALSE(valid_request_id("has space"));
  EXPECT_FALSE(valid_request_id(std::string(129, 'a')));
  Rng rng(1);
  const auto a = generate_request_id(rng), b = generate_request_id(rng);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(valid_request_id(a));
}

TEST(Classify, MethodsPerRoute) {
  EXPECT_TRUE(classify("HEAD", "/health", "/metrics").method_allowed);
  const auto m = classify("POST", "/health", "/metrics");
  EXPECT_FALSE(m.method_allowed);
  EXPECT_EQ(m.allow, "GET, HEAD");
  EXPECT_FALSE(classify("post", "/v1/embeddings", "/metrics").method_allowed);  // case-sensitive
  EXPECT_TRUE(classify("DELETE", "/v1/files/abc", "/metrics").method_allowed);
  EXPECT_EQ(classify("GET", "/admin/keys", "/metrics").route, Route::admin);
  EXPECT_EQ(classify("GET", "/administrator", "/metrics").route, Route::not_found);
  EXPECT_EQ(classify("GET", "/metrics", "").route, Route::not_found);  // metrics disabled
  EXPECT_EQ(classify("GET", "/v1/chat/completions/", "/metrics").route, Route::chat_completions);
  EXPECT_EQ(classify("GET", "", "/metrics").route, Route::not_found);
}

TEST(HopByHop, CaseAndWhitespace) {
  EXPECT_TRUE(is_hop_by_hop("TE", ""));
  EXPECT_TRUE(is_hop_by_hop("Proxy-Authorization", ""));
  EXPECT_TRUE(is_hop_by_hop("x-trace", "Keep-Alive ,\tX-Trace"));
  EXPECT_FALSE(is_hop_by_hop("x-tr", "x-trace"));
  EXPECT_FALSE(is_hop_by_hop("", ", ,"));
}

TEST(ForwardedFor, AppendsPeer) {
  auto xff = [](std::string_view incoming, std::string_view peer) {
    std::string out;
    append_forwarded_for(out, incoming, peer);
    return out;
  };
  EXPECT_EQ(xff("", "10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(xff("203.0.113.7", "10.0.0.1"), "203.0.113.7, 10.0.0.1");
  EXPECT_EQ(xff(" 203.0.113.7, 198.51.100.2 ,", "2001:db8::1"), "203.0.113.7, 198.51.100.2, 2001:db8::1");
  EXPECT_EQ(xff("1.2.3.4\r\nX-Evil: 1", "10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(xff(" , ", "10.0.0.1"), "10.0.0.1");
}

TEST(RequestId, Boundaries) {
  EXPECT_TRUE(valid_request_id(std::string(128, 'z')));
  EXPECT_TRUE(valid_request_id("~!\"#"));
  EXPECT_FALSE(valid_request_id("tab\there"));
  EXPECT_FALSE(valid_request_id("caf\xc3\xa9"));
  Rng a(7), b(7);
  EXPECT_EQ(generate_request_id(a), generate_request_id(b));  // deterministic per seed
}

}  // namespace
}  // namespace llmproxy::http

namespace llmproxy::http {
namespace {

TEST(CaseInsensitive, EqualsAndPrefix) {
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_FALSE(iequals("Content-Length", "content-lengt"));
  EXPECT_TRUE(istarts_with("Text/Event-Stream; charset=utf-8", "text/event-stream"));
  EXPECT_FALSE(istarts_with("text/even", "text/event-stream"));
}

}  // namespace
}  // namespace llmproxy::http
