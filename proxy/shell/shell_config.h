// The runtime settings the I/O shell needs, resolved from the configuration
// snapshot (proxy/core/config) by shell_config_from(). Kept separate from the
// config model so the shell can be driven directly by tests and the simulator,
// and so per-request code reads plain fields, not YAML-shaped structs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "proxy/core/config/routing.h"
#include "proxy/core/routing/balancer.h"
#include "proxy/core/routing/fallback_chains.h"
#include "proxy/core/routing/retry_policy.h"
#include "proxy/core/time.h"

namespace llmproxy::shell {

struct BackendTarget {
  std::string name;
  std::string url;            // as configured (fallback rules may name it)
  std::vector<std::string> models;  // served models (exact or "prefix*"); empty = all
  std::string host;           // name or IP literal (no brackets)
  std::uint16_t port = 80;
  std::string base_path;      // "" or "/prefix" without trailing slash
  std::string host_header;    // value of Host sent upstream
  std::vector<std::pair<std::string, std::string>> headers;  // added upstream
  int weight = 1;
  Duration timeout{0};             // whole attempt until the response head (and
                                   // the whole body when not streaming); 0 = off
  Duration connect_timeout{0};     // 0 = off
  Duration first_byte_timeout{0};  // request sent → first response byte; 0 = off
  Duration stream_idle_timeout{0}; // max silence between body reads; 0 = off
  std::size_t max_idle_conns = 64;
  bool forward_api_key = false;
  // Headers that carry the client's key besides Authorization and X-Api-Key
  // (auth.header_names), lower case: dropped like them unless
  // forward_api_key.
  std::vector<std::string> key_headers;
};

// How a request's backends are chosen and how failures are handled
// (BEHAVIOR §4; docs/routing.md).
struct RoutingSettings {
  routing::Strategy strategy = routing::Strategy::round_robin;
  routing::LatencyOptions latency;
  routing::RetryPolicy retry;                    // max_retries 0: one attempt
  routing::FallbackChains fallback;
  config::CircuitBreakerConfig circuit_breaker;  // enabled = false: off
  Duration request_timeout{0};  // all attempts and waits together; 0 = off
};

// Active health checks (BEHAVIOR §5).
struct HealthSettings {
  bool enabled = false;
  Duration interval = std::chrono::seconds(30);
  Duration timeout = std::chrono::seconds(5);
  std::string method = "GET";
  std::string path = "/health";
  int expected_status = 200;
  int unhealthy_threshold = 3;
  int healthy_threshold = 2;
};

struct ShellConfig {
  std::string listen_host = "0.0.0.0";
  std::uint16_t listen_port = 8080;
  Duration read_timeout = std::chrono::seconds(30);   // whole request, from its first byte
  Duration idle_timeout = std::chrono::seconds(120);  // keep-alive wait for the next request
  Duration write_timeout{0};                          // one write to a slow client; 0 = off
  std::size_t max_header_bytes = 32 << 10;
  std::size_t max_body_size = 10 << 20;
  // Process-wide: open client connections, and bytes of request bodies being
  // received (shell/admission.h). 0 = unbounded.
  std::size_t max_connections = 0;
  std::size_t buffer_memory_budget = 0;
  Duration drain_timeout = std::chrono::seconds(30);
  std::string metrics_path = "/metrics";  // routed to the metrics handler
  // Idle upstream connections older than this are not reused (servers such as
  // uvicorn close keep-alive connections after 5 s by default).
  Duration upstream_idle_max = std::chrono::seconds(4);
  std::vector<BackendTarget> backends;
  RoutingSettings routing;
  HealthSettings health;
};

}  // namespace llmproxy::shell
