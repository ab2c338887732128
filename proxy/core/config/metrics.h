// The config model of one module (metrics.) — see config.h for the visit()
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

// ---------------------------------------------------------------- metrics
struct MetricsConfig {
  bool enabled = false;
  std::string path = "/metrics";
  std::vector<std::string> custom_labels;
  std::vector<double> latency_buckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

  bool operator==(const MetricsConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("path", path, check::url_path);
    v("custom_labels", custom_labels);
    v("latency_buckets", latency_buckets, check::ascending_positive);
  }
};

}  // namespace llmproxy::config
