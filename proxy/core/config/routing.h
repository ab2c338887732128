// The config model of one module (routing: load balancing, retry, fallback, circuit breaker.) — see config.h for the visit()
// vocabulary and conventions. Code that needs only this module includes
// only this header, so editing another module's config rebuilds nothing here.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/core/config/checks.h"
#include "proxy/core/config/types.h"
#include "proxy/core/time.h"
#include "proxy/core/util/url.h"
#include "proxy/core/config/common.h"

namespace llmproxy::config {

using namespace std::chrono_literals;

// ---------------------------------------------------------------- routing
struct RetryConfig {
  bool enabled = false;
  int max_retries = 3;
  Duration initial_wait = 1s;
  Duration max_wait = 10s;
  double multiplier = 2.0;
  double jitter = 0.2;  // extension: ±fraction of each wait
  std::vector<RetryOn> retry_on{RetryOn::server_error, RetryOn::too_many_requests, RetryOn::connect_failure,
                                RetryOn::timeout, RetryOn::reset};

  bool operator==(const RetryConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("max_retries", max_retries, check::in_range(0, 10));
    v("initial_wait", initial_wait);
    v("max_wait", max_wait);
    v("multiplier", multiplier, check::at_least(1.0));
    v("jitter", jitter, check::in_range(0.0, 1.0));
    v("retry_on", retry_on);
  }
};

struct FallbackRule {
  std::string primary;                // backend URL or name
  std::vector<std::string> fallback;  // in order; URLs or names
  std::vector<std::string> models;    // extension: exact names or "prefix*"; empty = all

  bool operator==(const FallbackRule&) const = default;
  template <class V>
  void visit(V& v) {
    v("primary", primary);
    v("fallback", fallback);
    v("models", models);
  }
};

struct CircuitBreakerConfig {  // extension
  bool enabled = false;
  int consecutive_failures = 5;
  double error_ratio = 0.5;
  Duration window = 10s;
  int min_requests = 20;
  Duration cool_down = 30s;
  Duration max_cool_down = 5min;

  bool operator==(const CircuitBreakerConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("consecutive_failures", consecutive_failures, check::at_least(1));
    v("error_ratio", error_ratio, check::in_range(0.0, 1.0));
    v("window", window, check::positive_duration());
    v("min_requests", min_requests, check::at_least(1));
    v("cool_down", cool_down, check::positive_duration());
    v("max_cool_down", max_cool_down, check::positive_duration());
  }
};

struct RoutingConfig {
  bool enabled = true;
  LoadBalance load_balance = LoadBalance::round_robin;
  Duration timeout = 60s;               // one attempt, whole response
  Duration connect_timeout = 5s;
  Duration first_byte_timeout{0};       // extension; 0 = off
  Duration stream_idle_timeout{0};      // extension; 0 = off
  Duration request_timeout{0};          // extension; all attempts and waits; 0 = off
  ScriptConfig script;
  RetryConfig retry;
  std::vector<FallbackRule> fallback;
  CircuitBreakerConfig circuit_breaker;

  bool operator==(const RoutingConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("load_balance", load_balance);
    v("timeout", timeout);
    v("connect_timeout", connect_timeout);
    v("first_byte_timeout", first_byte_timeout);
    v("stream_idle_timeout", stream_idle_timeout);
    v("request_timeout", request_timeout);
    v("script", script);
    v("retry", retry);
    v("fallback", fallback);
    v("circuit_breaker", circuit_breaker);
  }
};

}  // namespace llmproxy::config
