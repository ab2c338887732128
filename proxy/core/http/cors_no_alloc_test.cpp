// The per-request calls of CorsPolicy allocate nothing once the caller's
// output string has capacity: judging and appending only read the
// precomputed policy. Allocations are counted by
// proxy/core/testing/allocation_counter.
#include <gtest/gtest.h>

#include <string>

#include "proxy/core/config/server.h"
#include "proxy/core/http/cors.h"
#include "proxy/core/testing/allocation_counter.h"


namespace llmproxy::http {
namespace {

TEST(CorsNoAllocation, CounterWorks) {
  const long before = llmproxy::testing::allocations();
  std::string big(1000, 'x');
  EXPECT_GT(llmproxy::testing::allocations() - before, 0);
}

TEST(CorsNoAllocation, JudgeAndAppend) {
  for (bool credentials : {false, true}) {
    config::CorsConfig c;
    c.enabled = true;
    c.allow_credentials = credentials;
    c.allowed_origins = {"https://a.example", "https://*.b.example", "null"};
    c.allowed_headers = {"*"};
    c.allowed_methods = {"GET", "POST", "*"};
    const CorsPolicy p(c);
    std::string out;
    out.reserve(4096);
    const long before = llmproxy::testing::allocations();
    for (const char* origin : {"https://a.example", "https://x.b.example", "https://evil.example", "null", ""}) {
      (void)p.judge("OPTIONS", origin, "POST", "authorization, content-type");
      (void)p.judge("POST", origin, "", "");
      out.clear();
      p.append_preflight_headers(origin, "PATCH", "authorization, content-type, x-custom", out);
      p.append_response_headers(origin, out);
    }
    EXPECT_EQ(llmproxy::testing::allocations() - before, 0) << "credentials=" << credentials;
  }
}

}  // namespace
}  // namespace llmproxy::http
