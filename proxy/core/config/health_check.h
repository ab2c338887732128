// The config model of one module (health_check.) — see config.h for the visit()
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

// ---------------------------------------------------------------- health_check
struct HealthCheckConfig {
  bool enabled = false;
  Duration interval = 30s;
  Duration timeout = 5s;
  std::string method = "GET";
  std::string path = "/health";
  int expected_status = 200;
  int unhealthy_threshold = 3;
  int healthy_threshold = 2;
  ScriptConfig script;

  bool operator==(const HealthCheckConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("interval", interval, check::positive_duration());
    v("timeout", timeout, check::positive_duration());
    v("method", method, check::http_method);
    v("path", path, check::url_path);
    v("expected_status", expected_status, check::in_range(100, 599));
    v("unhealthy_threshold", unhealthy_threshold, check::at_least(1));
    v("healthy_threshold", healthy_threshold, check::at_least(1));
    v("script", script);
  }
};

}  // namespace llmproxy::config
