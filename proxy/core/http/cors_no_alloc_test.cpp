// The per-request calls of CorsPolicy allocate nothing once the caller's
// output string has capacity: judging and appending only read the
// precomputed policy. Global operator new is replaced in this test binary
// to count calls.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "proxy/core/http/cors.h"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace llmproxy::http {
namespace {

TEST(CorsNoAllocation, CounterWorks) {
  const long before = g_allocations.load();
  std::string big(1000, 'x');
  EXPECT_GT(g_allocations.load() - before, 0);
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
    const long before = g_allocations.load();
    for (const char* origin : {"https://a.example", "https://x.b.example", "https://evil.example", "null", ""}) {
      (void)p.judge("OPTIONS", origin, "POST", "authorization, content-type");
      (void)p.judge("POST", origin, "", "");
      out.clear();
      p.append_preflight_headers(origin, "PATCH", "authorization, content-type, x-custom", out);
      p.append_response_headers(origin, out);
    }
    EXPECT_EQ(g_allocations.load() - before, 0) << "credentials=" << credentials;
  }
}

}  // namespace
}  // namespace llmproxy::http
