// Exact answers of CorsPolicy (proxy/core/http/cors.h) for the cases a
// browser produces, and for the hostile values one never produces.
#include "proxy/core/http/cors.h"

#include <gtest/gtest.h>

#include <string>

#include "proxy/core/config/server.h"

namespace llmproxy::http {
namespace {

constexpr std::string_view kExposeGateway =
    "x-request-id, retry-after, x-ratelimit-limit-requests, x-ratelimit-remaining-requests, "
    "x-ratelimit-reset-requests, x-ratelimit-limit-tokens, x-ratelimit-remaining-tokens, "
    "x-ratelimit-reset-tokens";

config::CorsConfig enabled_config() {
  config::CorsConfig c;
  c.enabled = true;
  return c;
}

config::CorsConfig listed(std::vector<std::string> origins, bool credentials = false) {
  auto c = enabled_config();
  c.allowed_origins = std::move(origins);
  c.allow_credentials = credentials;
  return c;
}

std::string preflight(const CorsPolicy& p, std::string_view origin, std::string_view method,
                      std::string_view headers = "") {
  std::string out;
  p.append_preflight_headers(origin, method, headers, out);
  return out;
}

std::string response(const CorsPolicy& p, std::string_view origin) {
  std::string out;
  p.append_response_headers(origin, out);
  return out;
}

TEST(Cors, DisabledJudgesNothingAndAddsNothing) {
  const CorsPolicy p(config::CorsConfig{});
  EXPECT_FALSE(p.enabled());
  EXPECT_EQ(p.judge("OPTIONS", "https://a.example", "POST", ""), CorsKind::not_cors);
  EXPECT_EQ(p.judge("GET", "https://a.example", "", ""), CorsKind::not_cors);
  EXPECT_EQ(preflight(p, "https://a.example", "POST"), "");
  EXPECT_EQ(response(p, "https://a.example"), "");
}

TEST(Cors, NoOriginIsNotCors) {
  const CorsPolicy p(enabled_config());
  EXPECT_EQ(p.judge("GET", "", "", ""), CorsKind::not_cors);
  EXPECT_EQ(p.judge("OPTIONS", "", "POST", "content-type"), CorsKind::not_cors);
}

TEST(Cors, PreflightNeedsOptionsAndRequestMethod) {
  const CorsPolicy p(enabled_config());
  EXPECT_EQ(p.judge("OPTIONS", "https://a.example", "POST", ""), CorsKind::preflight_allowed);
  // OPTIONS without Access-Control-Request-Method is an actual OPTIONS request.
  EXPECT_EQ(p.judge("OPTIONS", "https://a.example", "", ""), CorsKind::simple_allowed);
  // Methods are case-sensitive: "options" is not OPTIONS.
  EXPECT_EQ(p.judge("options", "https://a.example", "POST", ""), CorsKind::simple_allowed);
  EXPECT_EQ(p.judge("POST", "https://a.example", "POST", ""), CorsKind::simple_allowed);
}

TEST(Cors, DefaultConfigPreflightAnswer) {
  const CorsPolicy p(enabled_config());
  EXPECT_EQ(preflight(p, "https://a.example", "POST", "authorization,content-type"),
            "Access-Control-Allow-Origin: *\r\n"
            "Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"
            "Access-Control-Allow-Headers: Authorization, Content-Type, X-API-Key, Accept, Accept-Language, "
            "Content-Language\r\n"
            "Access-Control-Max-Age: 86400\r\n");
}

TEST(Cors, DefaultConfigActualResponseIsStarOnEveryResponse) {
  const CorsPolicy p(enabled_config());
  const std::string expected = "Access-Control-Allow-Origin: *\r\nAccess-Control-Expose-Headers: " +
                               std::string(kExposeGateway) + "\r\n";
  EXPECT_EQ(response(p, "https://a.example"), expected);
  // Same answer without Origin: no Vary needed, a cache can serve either.
  EXPECT_EQ(response(p, ""), expected);
  // "*" without credentials allows any Origin value, since none is echoed.
  EXPECT_EQ(p.judge("GET", "null", "", ""), CorsKind::simple_allowed);
  EXPECT_EQ(p.judge("GET", "garbage\r\nX: y", "", ""), CorsKind::simple_allowed);
  EXPECT_EQ(response(p, "garbage\r\nX: y"), expected);
}

TEST(Cors, ExactOriginsEchoAndVary) {
  const CorsPolicy p(listed({"https://app.example.com", "http://localhost:3000"}));
  EXPECT_EQ(p.judge("GET", "https://app.example.com", "", ""), CorsKind::simple_allowed);
  EXPECT_EQ(p.judge("GET", "HTTPS://APP.Example.COM", "", ""), CorsKind::simple_allowed);
  EXPECT_EQ(p.judge("GET", "http://localhost:3000", "", ""), CorsKind::simple_allowed);
  EXPECT_EQ(p.judge("GET", "http://app.example.com", "", ""), CorsKind::simple_refused);  // scheme
  EXPECT_EQ(p.judge("GET", "https://app.example.com:443", "", ""), CorsKind::simple_refused);  // port
  EXPECT_EQ(p.judge("GET", "http://localhost", "", ""), CorsKind::simple_refused);
  EXPECT_EQ(p.judge("GET", "https://evil.app.example.com", "", ""), CorsKind::simple_refused);
  EXPECT_EQ(p.judge("GET", "https://app.example.com.evil", "", ""), CorsKind::simple_refused);
  EXPECT_EQ(p.judge("GET", "https://app.example.com/", "", ""), CorsKind::simple_refused);  // not an origin
  EXPECT_EQ(p.judge("GET", "null", "", ""), CorsKind::simple_refused);

  // The request's own spelling is echoed: a browser compares byte for byte.
  EXPECT_EQ(response(p, "HTTPS://APP.Example.COM"),
            "Access-Control-Allow-Origin: HTTPS://APP.Example.COM\r\n"
            "Access-Control-Expose-Headers: " +
                std::string(kExposeGateway) + "\r\nVary: Origin\r\n");
  // Refused or absent: only Vary, so caches key on Origin.
  EXPECT_EQ(response(p, "https://evil.example"), "Vary: Origin\r\n");
  EXPECT_EQ(response(p, ""), "Vary: Origin\r\n");
}

TEST(Cors, PreflightWithListedOrigin) {
  auto c = listed({"https://app.example.com"});
  c.max_age = 600;
  const CorsPolicy p(c);
  EXPECT_EQ(preflight(p, "https://app.example.com", "POST", "content-type, x-api-key"),
            "Access-Control-Allow-Origin: https://app.example.com\r\n"
            "Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"
            "Access-Control-Allow-Headers: Authorization, Content-Type, X-API-Key, Accept, Accept-Language, "
            "Content-Language\r\n"
            "Access-Control-Max-Age: 600\r\n"
            "Vary: Origin\r\n");
  EXPECT_EQ(p.judge("OPTIONS", "https://other.example", "POST", ""), CorsKind::preflight_refused);
  EXPECT_EQ(preflight(p, "https://other.example", "POST"), "");
}

TEST(Cors, TrailingSlashOnEntryIsIgnored) {
  const CorsPolicy p(listed({"https://app.example.com/"}));
  EXPECT_EQ(p.judge("GET", "https://app.example.com", "", ""), CorsKind::simple_allowed);
}

TEST(Cors, WildcardSubdomains) {
  const CorsPolicy p(listed({"https://*.example.com", "http://*.dev.test:8080"}));
  EXPECT_EQ(p.judge("GET", "https://a.example.com", "", ""), CorsKind::simple_allowed);
  EXPECT_EQ(p.judge("GET", "https://a.b.EXAMPLE.com", "", ""), CorsKind::simple_allowed);
  EXPECT_EQ(p.judge("GET", "https://example.com", "", ""), CorsKind::simple_refused);
  EXPECT_EQ(p.judge("GET", "https://.example.com", "", ""), CorsKind::simple_refused);
  EXPECT_EQ(p.judge("GET", "https://a..example.com", "", ""), CorsKind::simple_refused);
  EXPECT_EQ(p.judge("GET", "https://aexample.com", "", ""), CorsKind::simple_refused);
  EXPECT_EQ(p.judge("GET", "http://a.example.com", "", ""), CorsKind::simple_refused);
  EXPECT_EQ(p.judge("GET", "https://a.example.com:8443", "", ""), CorsKind::simple_refused);
  EXPECT_EQ(p.judge("GET", "https://a.example.com.evil.org", "", ""), CorsKind::simple_refused);
  EXPECT_EQ(p.judge("GET", "http://x.dev.test:8080", "", ""), CorsKind::simple_allowed);
  EXPECT_EQ(p.judge("GET", "http://x.dev.test", "", ""), CorsKind::simple_refused);
  EXPECT_EQ(response(p, "https://a.example.com"),
            "Access-Control-Allow-Origin: https://a.example.com\r\nAccess-Control-Expose-Headers: " +
                std::string(kExposeGateway) + "\r\nVary: Origin\r\n");
}

TEST(Cors, NullOriginOnlyWhenListed) {
  const CorsPolicy listed_null(listed({"null"}));
  EXPECT_EQ(listed_null.judge("GET", "null", "", ""), CorsKind::simple_allowed);
  EXPECT_EQ(listed_null.judge("GET", "NULL", "", ""), CorsKind::simple_refused);
  EXPECT_EQ(response(listed_null, "null"),
            "Access-Control-Allow-Origin: null\r\nAccess-Control-Expose-Headers: " + std::string(kExposeGateway) +
                "\r\nVary: Origin\r\n");
  // "*" with credentials echoes origins, but not "null".
  const CorsPolicy star_credentials(listed({"*"}, true));
  EXPECT_EQ(star_credentials.judge("GET", "null", "", ""), CorsKind::simple_refused);
  EXPECT_EQ(star_credentials.judge("GET", "https://any.example", "", ""), CorsKind::simple_allowed);
}

TEST(Cors, CredentialsNeverStar) {
  auto c = listed({"*"}, true);
  c.allowed_methods = {"*"};
  c.allowed_headers = {"*"};
  c.expose_headers = {"*", "x-custom"};
  const CorsPolicy p(c);
  EXPECT_EQ(preflight(p, "https://a.example", "PATCH", "authorization,x-foo"),
            "Access-Control-Allow-Origin: https://a.example\r\n"
            "Access-Control-Allow-Credentials: true\r\n"
            "Access-Control-Allow-Methods: PATCH\r\n"
            "Access-Control-Allow-Headers: authorization, x-foo\r\n"
            "Access-Control-Max-Age: 86400\r\n"
            "Vary: Origin\r\n");
  EXPECT_EQ(response(p, "https://a.example"),
            "Access-Control-Allow-Origin: https://a.example\r\n"
            "Access-Control-Allow-Credentials: true\r\n"
            "Access-Control-Expose-Headers: " +
                std::string(kExposeGateway) + ", x-custom\r\nVary: Origin\r\n");
  // A malformed origin cannot be echoed, so it is refused.
  EXPECT_EQ(p.judge("GET", "https://a.example\r\nSet-Cookie: x=1", "", ""), CorsKind::simple_refused);
  EXPECT_EQ(response(p, "https://a.example\r\nSet-Cookie: x=1"), "Vary: Origin\r\n");
}

TEST(Cors, StarMethodsAndHeadersWithoutCredentials) {
  auto c = enabled_config();
  c.allowed_methods = {"*"};
  c.allowed_headers = {"*"};
  c.expose_headers = {"*"};
  const CorsPolicy p(c);
  // Allow-Headers echoes even without credentials: `*` would not cover Authorization.
  EXPECT_EQ(preflight(p, "https://a.example", "DELETE", " Authorization ,X-Foo,, "),
            "Access-Control-Allow-Origin: *\r\n"
            "Access-Control-Allow-Methods: *\r\n"
            "Access-Control-Allow-Headers: Authorization, X-Foo\r\n"
            "Access-Control-Max-Age: 86400\r\n");
  // No requested headers: no Allow-Headers line.
  EXPECT_EQ(preflight(p, "https://a.example", "GET", ""),
            "Access-Control-Allow-Origin: *\r\n"
            "Access-Control-Allow-Methods: *\r\n"
            "Access-Control-Max-Age: 86400\r\n");
  EXPECT_EQ(response(p, "https://a.example"),
            "Access-Control-Allow-Origin: *\r\nAccess-Control-Expose-Headers: *\r\n");
}

TEST(Cors, MethodRules) {
  auto c = enabled_config();
  c.allowed_methods = {"GET", "POST", "PATCH"};
  const CorsPolicy p(c);
  EXPECT_EQ(p.judge("OPTIONS", "https://a.example", "PATCH", ""), CorsKind::preflight_allowed);
  EXPECT_EQ(p.judge("OPTIONS", "https://a.example", "patch", ""), CorsKind::preflight_refused);
  EXPECT_EQ(p.judge("OPTIONS", "https://a.example", "DELETE", ""), CorsKind::preflight_refused);
  EXPECT_EQ(p.judge("OPTIONS", "https://a.example", "PUT", ""), CorsKind::preflight_refused);
  EXPECT_EQ(p.judge("OPTIONS", "https://a.example", "GET\r\n", ""), CorsKind::preflight_refused);
  // Actual requests are judged by origin only.
  EXPECT_EQ(p.judge("DELETE", "https://a.example", "", ""), CorsKind::simple_allowed);
}

TEST(Cors, HeaderRules) {
  auto c = enabled_config();
  c.allowed_headers = {"Authorization", "X-Api-Key", "authorization"};  // duplicates collapse
  const CorsPolicy p(c);
  const auto j = [&](std::string_view h) { return p.judge("OPTIONS", "https://a.example", "POST", h); };
  EXPECT_EQ(j(""), CorsKind::preflight_allowed);
  EXPECT_EQ(j("authorization"), CorsKind::preflight_allowed);
  EXPECT_EQ(j("AUTHORIZATION,x-api-key"), CorsKind::preflight_allowed);
  // Safelisted names are always allowed (a browser lists content-type for JSON).
  EXPECT_EQ(j("content-type,accept,accept-language,content-language"), CorsKind::preflight_allowed);
  EXPECT_EQ(j("authorization,x-other"), CorsKind::preflight_refused);
  EXPECT_EQ(j("authorization x-api-key"), CorsKind::preflight_refused);  // not a token
  EXPECT_EQ(j("authorization,\r\nx"), CorsKind::preflight_refused);
  EXPECT_EQ(j(",,authorization , ,"), CorsKind::preflight_allowed);
  EXPECT_EQ(preflight(p, "https://a.example", "POST", "authorization"),
            "Access-Control-Allow-Origin: *\r\n"
            "Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"
            "Access-Control-Allow-Headers: Authorization, X-Api-Key, Accept, Accept-Language, Content-Language, "
            "Content-Type\r\n"
            "Access-Control-Max-Age: 86400\r\n");
}

TEST(Cors, StarHeadersRefuseNonTokens) {
  auto c = enabled_config();
  c.allowed_headers = {"*"};
  const CorsPolicy p(c);
  EXPECT_EQ(p.judge("OPTIONS", "https://a.example", "POST", "x-a,x b"), CorsKind::preflight_refused);
  EXPECT_EQ(p.judge("OPTIONS", "https://a.example", "POST", "x-a\r\nSet-Cookie: a=b"), CorsKind::preflight_refused);
  EXPECT_EQ(preflight(p, "https://a.example", "POST", "x-a\r\nSet-Cookie: a=b"), "");
}

TEST(Cors, EmptyListsRefuseEverything) {
  auto c = listed({});
  c.allowed_methods = {};
  const CorsPolicy p(c);
  EXPECT_EQ(p.judge("GET", "https://a.example", "", ""), CorsKind::simple_refused);
  EXPECT_EQ(p.judge("OPTIONS", "https://a.example", "GET", ""), CorsKind::preflight_refused);
  EXPECT_EQ(response(p, "https://a.example"), "Vary: Origin\r\n");
}

TEST(Cors, ExposeHeadersDeduplicated) {
  auto c = listed({"https://a.example"});
  c.expose_headers = {"X-Request-Id", "openai-processing-ms", "OpenAI-Processing-Ms"};
  const CorsPolicy p(c);
  EXPECT_EQ(response(p, "https://a.example"),
            "Access-Control-Allow-Origin: https://a.example\r\nAccess-Control-Expose-Headers: " +
                std::string(kExposeGateway) + ", openai-processing-ms\r\nVary: Origin\r\n");
}

TEST(Cors, WellFormedOrigins) {
  const CorsPolicy p(listed({"*"}, true));  // echoes every well-formed origin
  for (const char* ok : {"https://a.example", "http://localhost:8080", "http://127.0.0.1:1", "http://[::1]:3000",
                         "http://[fe80::1]", "chrome-extension://abcdef", "https://xn--bcher-kva.example",
                         "http://a:65535"}) {
    EXPECT_EQ(p.judge("GET", ok, "", ""), CorsKind::simple_allowed) << ok;
  }
  using namespace std::string_view_literals;
  for (const std::string_view bad :
       {"a.example"sv, "https://"sv, "://a"sv, "1http://a"sv, "https://a/"sv, "https://a:"sv, "https://a:65536"sv,
        "https://a:123456"sv, "https://u@a"sv, "https://a?x"sv, "https://a b"sv, "https://a,https://b"sv,
        "https://[::1"sv, "https://[zz]"sv, "https://a\r\n"sv, "https://a\0b"sv, "NULL"sv, " null"sv}) {
    EXPECT_EQ(p.judge("GET", bad, "", ""), CorsKind::simple_refused) << bad;
  }
}

TEST(Cors, OriginEntryProblems) {
  for (const char* ok : {"*", "null", "https://a.example", "https://a.example/", "https://*.a.example",
                         "http://*.a.example:8080", "http://[::1]:3000"})
    EXPECT_EQ(origin_entry_problem(ok), "") << ok;
  EXPECT_NE(origin_entry_problem("https://a.example/path"), "");
  EXPECT_NE(origin_entry_problem("a.example"), "");
  EXPECT_NE(origin_entry_problem("https://a.*.example"), "");
  EXPECT_NE(origin_entry_problem("https://*example.com"), "");
  EXPECT_NE(origin_entry_problem("https://*"), "");
  // Such entries match nothing.
  const CorsPolicy p(listed({"https://a.*.example", "a.example", "https://*"}));
  EXPECT_EQ(p.judge("GET", "https://a.b.example", "", ""), CorsKind::simple_refused);
  EXPECT_EQ(p.judge("GET", "https://x", "", ""), CorsKind::simple_refused);
}

TEST(Cors, BackendCorsHeadersAreRecognised) {
  EXPECT_TRUE(is_cors_response_header("Access-Control-Allow-Origin"));
  EXPECT_TRUE(is_cors_response_header("access-control-expose-headers"));
  EXPECT_FALSE(is_cors_response_header("Vary"));
  EXPECT_FALSE(is_cors_response_header("access-control"));
}

TEST(Cors, AppendsToExistingText) {
  const CorsPolicy p(listed({"https://a.example"}));
  std::string out = "HTTP/1.1 204 No Content\r\n";
  p.append_preflight_headers("https://a.example", "GET", "", out);
  EXPECT_EQ(out.rfind("HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: https://a.example\r\n", 0), 0u);
}

}  // namespace
}  // namespace llmproxy::http
