// Keys from the admin key store (the builtin provider) and a static key
// with a quota in the simulator, the gateway built through the composition
// root from a config, with 1–2 workers per instance and 1–2 instances
// sharing one key store and one store of static keys' usage (as instances
// share a database). A random workload of clients with an open key, a
// quota'd key, a disabled key, an unknown one and the static quota'd key,
// plain and streamed. Judged from outside the gateway:
//   - a refused key never reaches a backend and gets its status and code;
//   - what the stores count for each key (used_quota; the static key's
//     from its config's used_quota) equals that plus the tokens the
//     clients were told they used (every response reports its usage);
//   - the quota line: a quota'd request is let in while the usage of the
//     requests that ended before it can be under the quota, and refused
//     (429 quota_exceeded) once what ended before it reaches the quota:
//     under auth.quota_check exact (drawn with cached) whatever instance
//     and worker served it; under cached, when another worker may have
//     served it, only what ended more than cache_ttl before (docs/auth.md,
//     "How far past its quota a key can go").
// A failure prints RapidCheck's one-line reproduce command; it is not kept
// as a scenario file, which cannot carry the store's keys yet.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <algorithm>
#include <map>

#include "conformance/harness/composition.h"
#include "conformance/harness/gateway_sim.h"
#include "conformance/harness/uniform_gen.h"
#include "proxy/core/auth/key_hash.h"
#include "proxy/core/openai/error_catalogue.h"
#include "proxy/server/gateway.h"
#include "proxy/stores/keys/key_store.h"

namespace llmproxy::harness {
namespace {

using namespace std::chrono_literals;
using openai::ErrorId;
using stores::keys::StoredKey;

constexpr Duration kCacheTtl = 500ms;

std::string config_yaml(int workers, bool exact, std::int64_t static_quota, std::int64_t static_seed) {
  return "server: {listen: \"0.0.0.0:8080\", workers: " + std::to_string(workers) +
         "}\n"
         "admin: {enabled: true, token: t, db_path: keys.db}\n"
         "auth:\n"
         "  enabled: true\n"
         "  cache_ttl: 500ms\n"
         "  quota_check: " + (exact ? "exact" : "cached") + "\n"
         "  pipeline:\n"
         "    - {name: managed, type: builtin}\n"
         "    - {name: fixed, type: static, static: {keys: [{key: sk-static, total_quota: " +
         std::to_string(static_quota) + ", used_quota: " + std::to_string(static_seed) + "}]}}\n"
         "backends:\n"
         "  - {name: a, url: \"http://backend-a:8000\"}\n"
         "  - {name: b, url: \"http://backend-b:8000\"}\n";
}

const std::vector<std::string> kKeys = {"sk-open", "sk-quota", "sk-disabled", "sk-unknown", "sk-static"};

StoredKey row(const std::string& key, int status, std::int64_t quota) {
  StoredKey k;
  k.hash = auth::to_hex(auth::hash_key(key));
  k.prefix = auth::key_prefix(key);
  k.name = key;
  k.status = status;
  k.total_quota = quota;
  k.created_at = k.updated_at = 1767225600;  // the simulated wall clock's start
  return k;
}

// Runs a memory store's call to completion (it never waits).
template <class T>
T now(env::Task<T> task) {
  boost::asio::io_context io;
  T out{};
  boost::asio::co_spawn(io, [&]() -> env::Task<void> { out = co_await std::move(task); }, boost::asio::detached);
  io.run();
  return out;
}

// total_tokens the response reported (plain JSON, or the stream's usage
// event); -1 when it reported none.
std::int64_t reported_tokens(const std::string& body, bool stream) {
  namespace json = boost::json;
  std::vector<std::string_view> docs;
  if (!stream) {
    docs.push_back(body);
  } else {
    std::string_view rest(body);
    for (std::size_t at; (at = rest.find("data: ")) != std::string_view::npos;) {
      rest.remove_prefix(at + 6);
      docs.push_back(rest.substr(0, rest.find('\n')));
    }
  }
  std::int64_t total = -1;
  for (const auto doc : docs) {
    boost::system::error_code ec;
    const json::value v = json::parse(doc, ec);
    if (ec || !v.is_object()) continue;
    if (const auto* u = v.as_object().if_contains("usage"); u && u->is_object())
      total = u->as_object().at("total_tokens").to_number<std::int64_t>();
  }
  return total;
}

RC_GTEST_PROP(BuiltinAuthSim, StoreCountsWhatClientsUsedAndQuotasHold, ()) {
  const int workers = *uniform<int>(1, 3);  // [1, 3)
  const int gateways = *uniform<int>(1, 3);
  const std::int64_t quota = *uniform<int>(1, 121);
  const bool exact = *coin();
  const std::int64_t static_quota = *uniform<int>(1, 121);
  const std::int64_t static_seed = *uniform<int>(0, static_cast<int>(static_quota) + 1);
  const std::string yaml = config_yaml(workers, exact, static_quota, static_seed);
  const auto gateway = simulated_gateway(yaml, "builtin_auth_sim.yaml");
  auto store = gateway->admin_key_store();
  std::vector<StoredKey> rows = {row("sk-open", 0, 0), row("sk-quota", 0, quota), row("sk-disabled", 1, 0)};
  RC_ASSERT(now(store->sync(rows, stores::keys::SyncMode::full)).ok());

  Scenario sc;
  sc.seed = *rc::gen::arbitrary<std::uint64_t>();
  use_gateway(sc, gateway);
  sc.config_yaml = yaml;
  sc.gateways = gateways;
  const int n = *uniform<int>(1, 31);
  std::vector<std::string> keys;
  for (int i = 0; i < n; ++i) {
    ClientRequest q;
    keys.push_back(*uniform_element(std::span<const std::string>(kKeys)));
    q.at = std::chrono::milliseconds(*uniform<int>(0, 3001));
    q.stream = *coin();
    q.ask_usage = q.stream;  // so the client sees what it used
    q.prompt_words = *uniform<int>(1, 21);
    q.max_tokens = static_cast<std::uint32_t>(*uniform<int>(1, 13));
    q.headers = "Authorization: Bearer " + keys.back() + "\r\n";
    sc.requests.push_back(q);
  }
  RC_TAG("workers " + std::to_string(workers) + " x gateways " + std::to_string(gateways));
  RC_TAG(exact ? "quota_check exact" : "quota_check cached");
  const auto quota_requests = std::count(keys.begin(), keys.end(), "sk-quota");
  const SimOutcome out = run_gateway_sim(sc);
  RC_ASSERT(out.all_clients_done);

  std::map<std::string, std::int64_t> used;
  for (int i = 0; i < n; ++i) {
    const auto& c = out.clients[static_cast<std::size_t>(i)];
    const auto& key = keys[static_cast<std::size_t>(i)];
    RC_LOG() << "request " << i << " " << key << " at " << to_seconds(c.start - out.started) << "s–"
             << to_seconds(c.end - out.started) << "s → " << c.response.status << " "
             << error_code_in(c.response.body) << "\n";
    if (key == "sk-unknown" || key == "sk-disabled") {
      const ErrorId want = key == "sk-unknown" ? ErrorId::invalid_api_key : ErrorId::key_disabled;
      RC_ASSERT(!reached_upstream(out, static_cast<std::size_t>(i)));
      RC_ASSERT(c.response.status == openai::error_info(want).http_status);
      RC_ASSERT(error_code_in(c.response.body) == openai::error_info(want).code);
      continue;
    }
    if (c.response.status == 429) {
      RC_ASSERT((key == "sk-quota" || key == "sk-static"));
      RC_ASSERT(error_code_in(c.response.body) == "quota_exceeded");
      RC_ASSERT(!reached_upstream(out, static_cast<std::size_t>(i)));
      continue;
    }
    RC_ASSERT(c.response.status == 200);
    const std::int64_t tokens = reported_tokens(c.response.body, sc.requests[static_cast<std::size_t>(i)].stream);
    RC_ASSERT(tokens > 0);
    used[key] += tokens;
  }
  RC_TAG(quota_requests == 0 ? "no quota'd request"
                             : used["sk-quota"] >= quota ? "quota crossed" : "quota not reached");
  RC_TAG(used["sk-static"] + static_seed >= static_quota ? "static quota crossed" : "static quota not reached");
  for (const auto& key : {"sk-open", "sk-quota"}) {
    const auto found = now(store->find(auth::to_hex(auth::hash_key(key))));
    RC_ASSERT(found.key.has_value());
    RC_ASSERT(found.key->used_quota == used[key]);
  }
  // The static key's row appears with its first tokens, holding the seed.
  const auto counted = now(gateway->static_usage_store()->find(auth::to_hex(auth::hash_key("sk-static"))));
  if (used["sk-static"] == 0) {
    RC_ASSERT(!counted.key.has_value());
  } else {
    RC_ASSERT(counted.key.has_value());
    RC_ASSERT(counted.key->used_quota == static_seed + used["sk-static"]);
  }

  // The quota line, from the clients' clocks. Every link has the same
  // latency and clients read at full speed, so a request i charged (at
  // its end in the gateway) before j's check ended on its client before j
  // did; and i is surely counted by whichever worker checks j when i
  // ended before j started under quota_check exact (j's check reads the
  // store, which has i's usage: the memory store takes it before i's last
  // bytes reach the client) or on a gateway of one worker (it charged i
  // itself), or else more than cache_ttl before j started (that worker's
  // record was fetched after i's usage was written, or it charged i itself).
  // The same line for the static key, its count starting at the seed.
  const bool sees_all = exact || (workers == 1 && gateways == 1);
  const std::pair<std::string, std::int64_t> lines[] = {{"sk-quota", 0}, {"sk-static", static_seed}};
  for (const auto& [quota_key, seed] : lines) {
    const std::int64_t total = quota_key == "sk-quota" ? quota : static_quota;
    for (int j = 0; j < n; ++j) {
      if (keys[static_cast<std::size_t>(j)] != quota_key) continue;
      const auto& cj = out.clients[static_cast<std::size_t>(j)];
      std::int64_t surely_seen = seed, maybe_seen = seed;
      for (int i = 0; i < n; ++i) {
        const auto& ci = out.clients[static_cast<std::size_t>(i)];
        if (i == j || keys[static_cast<std::size_t>(i)] != quota_key || ci.response.status != 200) continue;
        const std::int64_t t = reported_tokens(ci.response.body, sc.requests[static_cast<std::size_t>(i)].stream);
        if (ci.end < cj.end) maybe_seen += t;
        if (ci.end + (sees_all ? Duration{0} : kCacheTtl + 10ms) < cj.start) surely_seen += t;
      }
      if (maybe_seen < total) RC_ASSERT(cj.response.status == 200);
      if (surely_seen >= total) RC_ASSERT(cj.response.status == 429);
    }
  }
}

}  // namespace
}  // namespace llmproxy::harness
