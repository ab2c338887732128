// Properties of CorsPolicy over random configs and requests, realistic and
// hostile: the invariants of cors_invariants.h (never `*` with credentials;
// an echoed origin always comes with Vary: Origin; refused ⇒ no Allow-Origin;
// every output line a well-formed header line, so CR/LF/NUL in a request
// value can never be echoed), plus the exact judgement of origins.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "proxy/core/config/server.h"
#include "proxy/core/http/cors.h"
#include "proxy/core/http/cors_invariants.h"

namespace llmproxy::http {
namespace {

template <class T>
rc::Gen<std::vector<T>> subset_of(std::vector<T> pool) {
  return rc::gen::exec([pool] {
    std::vector<T> out;
    for (const auto& e : pool)
      if (*rc::gen::inRange(0, 3) == 0) out.push_back(e);
    return out;
  });
}

// Hostile characters spliced into otherwise plausible values.
rc::Gen<std::string> hostile(std::vector<std::string> plausible) {
  return rc::gen::oneOf(
      rc::gen::elementOf(plausible), rc::gen::arbitrary<std::string>(),
      rc::gen::exec([plausible] {
        std::string s = *rc::gen::elementOf(plausible);
        const std::string bad = *rc::gen::elementOf(std::vector<std::string>{
            "\r\n", "\n", "\r", std::string(1, '\0'), " ", ",", "\x7f", "\xff", "\r\nSet-Cookie: a=b", "\t"});
        const auto at = *rc::gen::inRange<std::size_t>(0, s.size() + 1);
        s.insert(at, bad);
        return s;
      }));
}

const std::vector<std::string> kOrigins = {
    "https://a.example", "https://A.EXAMPLE", "https://x.b.example", "https://b.example", "http://localhost:3000",
    "http://localhost", "null", "https://a.example:8443", "http://[::1]:8080", "https://x.y.b.example"};

rc::Gen<config::CorsConfig> configs() {
  return rc::gen::exec([] {
    config::CorsConfig c;
    c.enabled = *rc::gen::inRange(0, 8) != 0;
    c.allowed_origins = *subset_of<std::string>({"*", "null", "https://a.example", "https://*.b.example",
                                                 "http://localhost:3000", "https://a.example:8443/",
                                                 "not an origin", "http://[::1]:8080"});
    c.allowed_methods = *subset_of<std::string>({"GET", "POST", "PATCH", "OPTIONS", "*"});
    c.allowed_headers = *subset_of<std::string>({"Authorization", "X-Api-Key", "x-b", "*", "Content-Type"});
    c.expose_headers = *subset_of<std::string>({"*", "X-Custom", "x-request-id"});
    c.allow_credentials = *rc::gen::arbitrary<bool>();
    c.max_age = *rc::gen::inRange<std::int64_t>(0, 1'000'000);
    return c;
  });
}

struct Request {
  std::string method, origin, acr_method, acr_headers;
};

rc::Gen<Request> requests() {
  return rc::gen::exec([] {
    Request r;
    r.method = *hostile({"OPTIONS", "OPTIONS", "GET", "POST", "options", "DELETE"});
    r.origin = *rc::gen::oneOf(rc::gen::just(std::string()), hostile(kOrigins));
    r.acr_method = *rc::gen::oneOf(rc::gen::just(std::string()), hostile({"POST", "GET", "PATCH", "patch", "PUT"}));
    r.acr_headers = *rc::gen::oneOf(rc::gen::just(std::string()),
                                    hostile({"authorization", "content-type,x-api-key", "x-b, Authorization",
                                             "x-unknown", "accept,,accept-language"}));
    return r;
  });
}

// Many requests per config, so that rarer combinations (a config with "*"
// headers meeting a hostile header list on an allowed origin) come up often.
RC_GTEST_PROP(CorsProperty, InvariantsHold, ()) {
  const auto cfg = *configs();
  const CorsPolicy p(cfg);
  const auto batch = *rc::gen::container<std::vector<Request>>(64, requests());
  for (const auto& r : batch) {
    RC_ASSERT(testing::cors_violation(cfg, p, r.method, r.origin, r.acr_method, r.acr_headers) == "");
    // The same as a preflight, so preflights are judged as often.
    RC_ASSERT(testing::cors_violation(cfg, p, "OPTIONS", r.origin, r.acr_method, r.acr_headers) == "");
  }
}

// An allowed origin is one the config lists (exactly, by pattern, "*", or
// "null"), judged independently here on the generated pool.
RC_GTEST_PROP(CorsProperty, OriginJudgementMatchesTheList, ()) {
  auto cfg = *configs();
  cfg.enabled = true;
  const CorsPolicy p(cfg);
  const auto origin = *rc::gen::elementOf(kOrigins);
  auto listed = [&](const char* e) {
    return std::find(cfg.allowed_origins.begin(), cfg.allowed_origins.end(), e) != cfg.allowed_origins.end();
  };
  bool expected = false;
  if (listed("*") && !cfg.allow_credentials) expected = true;
  else if (origin == "null") expected = listed("null");
  else if (listed("*")) expected = true;
  else if ((origin == "https://a.example" || origin == "https://A.EXAMPLE") && listed("https://a.example"))
    expected = true;
  else if ((origin == "https://x.b.example" || origin == "https://x.y.b.example") && listed("https://*.b.example"))
    expected = true;
  else if (origin == "http://localhost:3000" && listed("http://localhost:3000")) expected = true;
  else if (origin == "https://a.example:8443" && listed("https://a.example:8443/")) expected = true;
  else if (origin == "http://[::1]:8080" && listed("http://[::1]:8080")) expected = true;
  RC_ASSERT(p.judge("GET", origin, "", "") == (expected ? CorsKind::simple_allowed : CorsKind::simple_refused));
}

}  // namespace
}  // namespace llmproxy::http
