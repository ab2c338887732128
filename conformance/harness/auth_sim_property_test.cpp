// Auth in the simulator (issue #13, first slice): the gateway built through
// the composition root from a config with static keys of every kind (the
// wiring `serve` uses), a random workload of clients presenting no key,
// unknown keys and each kind of key through each header spelling, on
// protected, skipped and dot-segment paths, with a key that expires and one
// that becomes valid during the run. Judged from outside the gateway:
//   - a request whose key should be refused never reaches a backend (its
//     X-Request-Id is in no upstream byte), and its client gets the exact
//     status and error code;
//   - an allowed request reaches a backend;
//   - no client key is in any upstream byte (none is forwarded).
// A failing case is kept as a scenario file (keep_failure.h) and prints its
// replay command.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <optional>

#include "conformance/harness/composition.h"
#include "conformance/harness/gateway_sim.h"
#include "conformance/harness/keep_failure.h"
#include "conformance/harness/quiet_logs.h"
#include "conformance/harness/uniform_gen.h"
#include "proxy/core/openai/error_catalogue.h"

namespace llmproxy::harness {
namespace {

using namespace std::chrono_literals;
using openai::ErrorId;

// The simulated wall clock starts at 2026-01-01T00:00:00Z (unix 1767225600);
// k-expires-mid expires and k-starts-mid starts 2 s into virtual time.
constexpr std::string_view kConfig = R"(
server:
  listen: "0.0.0.0:8080"
auth:
  enabled: true
  header_names: [Authorization, X-API-Key]
  skip_paths: [/v1/models]
  pipeline:
    - name: off
      type: static
      enabled: false
      static: {keys: [{key: k-in-off-provider}]}
    - name: team
      type: static
      static:
        keys:
          - {key: k-good, name: good, user_id: u1}
          - {key: k-good-num, status: 0}
          - {key: k-disabled, status: disabled}
          - {key: k-disabled-num, status: 1}
          - {key: k-expired-status, status: expired}
          - {key: k-expired-num, status: 3}
          - {key: k-expired, expires_at: "2025-06-01T00:00:00Z"}
          - {key: k-expires-mid, expires_at: 1767225602}
          - {key: k-future, starts_at: "2030-01-01T00:00:00Z"}
          - {key: k-starts-mid, starts_at: "2026-01-01T00:00:02Z"}
          - {key: k-ip-denied, denied_ips: [10.0.0.0/8]}
          - {key: k-ip-not-allowed, allowed_ips: [192.168.0.0/16, "2001:db8::/32"]}
          - {key: k-ip-ok, allowed_ips: [10.0.0.0/8, "::1"]}
          - {key: k-ip-deny-wins, allowed_ips: [10.0.0.0/8], denied_ips: [10.0.0.0/9]}
          - {key: k-quota, status: quota_exceeded}
api_keys: [k-top]
backends:
  - {name: a, url: "http://backend-a:8000"}
  - {name: b, url: "http://backend-b:8000"}
)";

constexpr Duration kSwitch = 2s;  // when k-expires-mid expires and k-starts-mid starts

// Every key a client may present (and two that are nobody's).
const std::vector<std::string> kKeys = {
    "k-good",        "k-good-num",       "k-disabled", "k-disabled-num", "k-expired-status",
    "k-expired-num", "k-expired",        "k-expires-mid", "k-future",    "k-starts-mid",
    "k-ip-denied",   "k-ip-not-allowed", "k-ip-ok",    "k-ip-deny-wins", "k-quota",
    "k-top",         "k-unknown",        "k-in-off-provider"};

// How a client presents its key; the last three carry none.
enum class Spelling { bearer, bearer_lower, x_api_key, x_api_key_lower, none, basic, no_scheme, two_tokens };
const std::vector<Spelling> kSpellings = {Spelling::bearer,    Spelling::bearer_lower, Spelling::x_api_key,
                                          Spelling::x_api_key_lower, Spelling::none, Spelling::basic,
                                          Spelling::no_scheme, Spelling::two_tokens};

std::string header_for(Spelling s, const std::string& key) {
  switch (s) {
    case Spelling::bearer: return "Authorization: Bearer " + key + "\r\n";
    case Spelling::bearer_lower: return "authorization: bearer  " + key + "\r\n";
    case Spelling::x_api_key: return "X-API-Key: " + key + "\r\n";
    case Spelling::x_api_key_lower: return "x-api-key: " + key + "\r\n";
    case Spelling::none: return "";
    case Spelling::basic: return "Authorization: Basic " + key + "\r\n";
    case Spelling::no_scheme: return "Authorization: " + key + "\r\n";
    case Spelling::two_tokens: return "Authorization: Bearer " + key + " extra\r\n";
  }
  return "";
}
bool carries_key(Spelling s) { return s <= Spelling::x_api_key_lower; }

// The refusal a key gets at `since_start` into the run (nullopt: allowed).
// Clients sit in 10.0.0.0/9 (the simulator numbers hosts 10.0.x.y).
std::optional<ErrorId> expected_refusal(const std::string& key, Duration since_start) {
  static const std::map<std::string, std::optional<ErrorId>> fixed = {
      {"k-good", std::nullopt},
      {"k-good-num", std::nullopt},
      {"k-top", std::nullopt},
      {"k-ip-ok", std::nullopt},
      {"k-disabled", ErrorId::key_disabled},
      {"k-disabled-num", ErrorId::key_disabled},
      {"k-expired-status", ErrorId::key_expired},
      {"k-expired-num", ErrorId::key_expired},
      {"k-expired", ErrorId::key_expired},
      {"k-future", ErrorId::key_not_yet_valid},
      {"k-ip-denied", ErrorId::ip_not_allowed},
      {"k-ip-not-allowed", ErrorId::ip_not_allowed},
      {"k-ip-deny-wins", ErrorId::ip_not_allowed},
      {"k-quota", ErrorId::quota_exceeded},
      {"k-unknown", ErrorId::invalid_api_key},
      {"k-in-off-provider", ErrorId::invalid_api_key},
  };
  if (key == "k-expires-mid") return since_start < kSwitch ? std::nullopt : std::optional(ErrorId::key_expired);
  if (key == "k-starts-mid")
    return since_start < kSwitch ? std::optional(ErrorId::key_not_yet_valid) : std::nullopt;
  return fixed.at(key);
}

struct Drawn {
  std::string key;
  Spelling spelling = Spelling::bearer;
  int path = 0;  // 0 chat, 1 /v1/models (skipped), 2 a dot-segment path under the skipped one
};

std::shared_ptr<const server::Gateway> gateway() {
  static const auto g = simulated_gateway(kConfig, "auth_sim.yaml");
  return g;
}

RC_GTEST_PROP(AuthSim, RefusedKeysNeverReachABackendAndGetTheirCode, ()) {
  Scenario sc;
  sc.seed = *rc::gen::arbitrary<std::uint64_t>();
  use_gateway(sc, gateway());
  sc.config_yaml = std::string(kConfig);
  const int n = *uniform<int>(1, 30);
  std::vector<Drawn> drawn;
  for (int i = 0; i < n; ++i) {
    Drawn d;
    d.key = *uniform_element(std::span<const std::string>(kKeys));
    d.spelling = *uniform_element(std::span<const Spelling>(kSpellings));
    d.path = *uniform<int>(0, 5) == 0 ? *uniform<int>(1, 3) : 0;
    ClientRequest q;
    // Away from the 2 s switch by more than the network's few round trips.
    q.at = std::chrono::milliseconds(*uniform<int>(0, 40)) * 100 + 10ms;
    q.stream = *coin();
    q.headers = header_for(d.spelling, d.key);
    if (d.path == 1) {
      q.method = "GET";
      q.path = "/v1/models";
    } else if (d.path == 2) {
      q.method = "GET";  // a POST under /v1/models is a 405 before auth runs
      q.path = "/v1/models/../chat/completions";
    }
    RC_TAG(carries_key(d.spelling) ? d.key : "no key");
    sc.requests.push_back(q);
    drawn.push_back(d);
  }
  const KeepIfFails keep(sc, "AuthSim-RefusedKeysNeverReachABackend-failure");
  const SimOutcome out = run_gateway_sim(sc);
  RC_ASSERT(out.all_clients_done);

  for (std::size_t i = 0; i < drawn.size(); ++i) {
    const Drawn& d = drawn[i];
    const auto& resp = out.clients[i].response;
    std::optional<ErrorId> want;
    if (d.path != 1)
      want = carries_key(d.spelling) ? expected_refusal(d.key, sc.requests[i].at) : ErrorId::invalid_api_key;
    RC_LOG() << "request " << i << " key " << d.key << " spelling " << static_cast<int>(d.spelling) << " path "
             << d.path << " → " << resp.status << " " << error_code_in(resp.body) << "\n";
    if (want) {
      RC_ASSERT(!reached_upstream(out, i));
      RC_ASSERT(resp.status == openai::error_info(*want).http_status);
      RC_ASSERT(error_code_in(resp.body) == openai::error_info(*want).code);
    } else {
      RC_ASSERT(reached_upstream(out, i));
      if (d.path == 1) RC_ASSERT(resp.status == 200);
    }
  }
  for (const auto& c : out.upstream)
    for (const auto& key : kKeys) RC_ASSERT(c.written.find(key) == std::string::npos);
}

// With auth on, per-key rate limits count on the authenticated key: two
// keys presented through a header only auth reads (the raw-header fallback
// sees neither) each get their own limit, and a path auth skips counts as
// anonymous whatever key header it carries.
TEST(AuthSim, PerKeyLimitsCountOnTheAuthenticatedKey) {
  const auto g = simulated_gateway(R"(
auth:
  enabled: true
  header_names: [X-Team-Key]
  skip_paths: [/v1/models]
api_keys: [k-a, k-b]
rate_limit:
  enabled: true
  per_key: {requests_per_minute: 1, burst_size: 1}
backends:
  - {name: a, url: "http://backend-a:8000"}
)");
  Scenario sc;
  use_gateway(sc, g);
  const std::vector<std::pair<std::string, std::string>> sends = {
      {"/v1/chat/completions", "X-Team-Key: k-a\r\n"},
      {"/v1/chat/completions", "X-Team-Key: k-b\r\n"},
      {"/v1/chat/completions", "X-Team-Key: k-a\r\n"},
      {"/v1/models", "X-Team-Key: k-a\r\nAuthorization: Bearer k-b\r\n"},
      {"/v1/models", "X-Team-Key: k-b\r\n"},
  };
  for (std::size_t i = 0; i < sends.size(); ++i) {
    ClientRequest q;
    q.at = std::chrono::milliseconds(100 * static_cast<int>(i));
    q.path = sends[i].first;
    if (q.path == "/v1/models") q.method = "GET";
    q.headers = sends[i].second;
    sc.requests.push_back(q);
  }
  const SimOutcome out = run_gateway_sim(sc);
  ASSERT_TRUE(out.all_clients_done);
  const std::vector<int> want = {200, 200, 429, 200, 429};
  for (std::size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(out.clients[i].response.status, want[i]) << "request " << i << ": " << out.clients[i].response.body;
}

}  // namespace
}  // namespace llmproxy::harness
