// The config model of one module (rate_limit.) — see config.h for the visit()
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

// ---------------------------------------------------------------- rate_limit
// A limit of 0 is "no limit".
struct GlobalLimit {
  bool enabled = true;
  double requests_per_second = 0;
  double requests_per_minute = 0;
  std::int64_t burst_size = 0;  // 0 = one second's worth (at least 1)

  bool operator==(const GlobalLimit&) const = default;
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("requests_per_second", requests_per_second, check::at_least(0.0));
    v("requests_per_minute", requests_per_minute, check::at_least(0.0));
    v("burst_size", burst_size, check::at_least<std::int64_t>(0));
  }
};

struct PerKeyLimit {
  bool enabled = true;
  double requests_per_second = 0;
  double requests_per_minute = 0;
  std::int64_t tokens_per_minute = 0;
  std::int64_t max_concurrent = 0;
  std::int64_t burst_size = 0;

  bool operator==(const PerKeyLimit&) const = default;
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("requests_per_second", requests_per_second, check::at_least(0.0));
    v("requests_per_minute", requests_per_minute, check::at_least(0.0));
    v("tokens_per_minute", tokens_per_minute, check::at_least<std::int64_t>(0));
    v("max_concurrent", max_concurrent, check::at_least<std::int64_t>(0));
    v("burst_size", burst_size, check::at_least<std::int64_t>(0));
  }
};

struct RateLimitConfig {
  bool enabled = false;
  // "memory", "cache" (default cache), "redis" (cache named by `redis`, else
  // the default cache), or a storage.caches name.
  std::string storage = "memory";
  std::string redis;
  FailMode fail_mode = FailMode::open;  // extension
  ScriptConfig script;
  GlobalLimit global;
  PerKeyLimit per_key;

  bool operator==(const RateLimitConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("storage", storage);
    v("redis", redis);
    v("fail_mode", fail_mode);
    v("script", script);
    v("global", global);
    v("per_key", per_key);
  }
};

}  // namespace llmproxy::config
