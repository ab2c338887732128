// ns/op of the auth module's work for one request. What every request with
// auth on pays: AuthFilter::judge (the filter's whole decision, without the
// coroutine frame the pipeline wraps it in): the key headers looked up in
// the parsed request, the client address parsed, one SHA-256, one hash-table
// probe per provider, the decision (status, window, IP rules). The parts
// alone for comparison: the SHA-256, and Authenticator::check over tables
// of 1, 1,000 and 100,000 keys (a probe is O(1); larger tables miss caches),
// and a builtin-provider key answered from the worker's cache.
#include <benchmark/benchmark.h>

#include <string>

#include "proxy/core/auth/authenticator.h"
#include "proxy/core/auth/key_cache.h"
#include "proxy/core/auth/key_hash.h"
#include "proxy/modules/auth/auth_filter.h"
#include "proxy/shell/exchange.h"

namespace {

using namespace llmproxy;

constexpr std::string_view kKey = "sk-proj-0123456789abcdef0123456789abcdef0123456789ab";

config::Config config_with_keys(std::size_t n, bool ip_rules) {
  config::Config c;
  c.auth.enabled = true;
  config::AuthProvider p;
  p.name = "static";
  p.type = config::ProviderType::static_keys;
  for (std::size_t i = 0; i < n; ++i) {
    config::StaticKey k;
    k.key.value = i == n / 2 ? std::string(kKey) : "sk-other-" + std::to_string(i) + "-0123456789abcdef";
    k.name = "key " + std::to_string(i);
    k.expires_at = "2099-01-01T00:00:00Z";
    if (ip_rules) {
      k.allowed_ips = {"10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32"};
      k.denied_ips = {"10.9.0.0/16"};
    }
    p.static_keys.keys.push_back(std::move(k));
  }
  c.auth.pipeline.push_back(std::move(p));
  return c;
}

const WallTime kNow{std::chrono::seconds(1'767'225'600)};

void BM_Sha256(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(auth::hash_key(kKey));
}
BENCHMARK(BM_Sha256);

void BM_AuthenticatorCheck(benchmark::State& state) {
  const auto a = *auth::Authenticator::from(config_with_keys(static_cast<std::size_t>(state.range(0)), false)).value;
  const auto ip = util::parse_ip("10.1.2.3").value;
  for (auto _ : state) {
    const auto r = a.check(kKey, ip, kNow);
    if (!r.decision.allowed()) state.SkipWithError("refused");
    benchmark::DoNotOptimize(r.caller);
  }
}
BENCHMARK(BM_AuthenticatorCheck)->Arg(1)->Arg(1000)->Arg(100000);

// The filter on a typical request: a few headers before the key, the key
// in Authorization, IP rules on the key.
void BM_AuthFilterJudge(benchmark::State& state) {
  const auto a = std::make_shared<const auth::Authenticator>(
      *auth::Authenticator::from(config_with_keys(static_cast<std::size_t>(state.range(0)), true)).value);
  modules::auth::AuthFilter filter(a);
  shell::ClientRequest req;
  req.method(boost::beast::http::verb::post);
  req.target("/v1/chat/completions");
  req.set(boost::beast::http::field::host, "gateway.example");
  req.set(boost::beast::http::field::user_agent, "OpenAI/Python 1.40.0");
  req.set(boost::beast::http::field::content_type, "application/json");
  req.set(boost::beast::http::field::accept, "application/json");
  req.set(boost::beast::http::field::authorization, "Bearer " + std::string(kKey));
  shell::Exchange ex;
  Rng rng(1);
  ex.begin(req, TimePoint{}, kNow, rng);
  const std::string client_ip = "10.1.2.3";
  ex.client_ip = client_ip;
  for (auto _ : state) {
    ex.caller = {};
    const auto v = filter.judge(ex);
    if (!v.proceeds()) state.SkipWithError("refused");
    benchmark::DoNotOptimize(ex.caller.id.data());
  }
}
BENCHMARK(BM_AuthFilterJudge)->Arg(1)->Arg(1000);

// A builtin-provider key answered from the worker's cache (what every
// request after the first pays within cache_ttl): SHA-256, the cache probe
// among N cached keys, holding the record for the request, the decision
// with the quota and this worker's pending usage.
void BM_BuiltinCacheHit(benchmark::State& state) {
  auth::KeyCache cache(std::chrono::hours(1), auth::KeyCache::kDefaultCapacity);
  const auto n = static_cast<int>(state.range(0));
  for (int i = 0; i < n; ++i) {
    auto r = std::make_shared<auth::KeyRecord>();
    const std::string key = i == n / 2 ? std::string(kKey) : "sk-other-" + std::to_string(i);
    r->hash = auth::hash_key(key);
    r->quota.total = 1'000'000;
    r->quota.used = 1000;
    r->quota.period = config::QuotaPeriod::monthly;
    r->quota.counted_since = kNow;
    const auth::KeyHash hash = r->hash;
    cache.put(hash, std::move(r), TimePoint{});
  }
  const auto ip = util::parse_ip("10.1.2.3").value;
  for (auto _ : state) {
    const auto hash = auth::hash_key(kKey);
    const auto hit = cache.find(hash, TimePoint{});
    std::shared_ptr<const auth::KeyRecord> held = *hit.record;
    const auto d = auth::decide(*held, ip, kNow, 500);
    if (!d.allowed()) state.SkipWithError("refused");
    benchmark::DoNotOptimize(held);
  }
}
BENCHMARK(BM_BuiltinCacheHit)->Arg(1)->Arg(10000);

}  // namespace

BENCHMARK_MAIN();
