// The config model of one module (backends.) — see config.h for the visit()
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

// ---------------------------------------------------------------- backends
struct BackendConfig {
  std::string name;  // defaults to the URL in logs and metrics
  std::string url;   // required
  int weight = 1;
  Duration timeout{0};          // 0 = routing.timeout
  Duration connect_timeout{0};  // 0 = routing.connect_timeout
  int max_idle_conns = 100;
  HeaderMap headers;
  bool forward_api_key = false;       // extension
  Duration first_byte_timeout{0};     // extension; 0 = routing's
  Duration stream_idle_timeout{0};    // extension; 0 = routing's
  std::vector<std::string> models;    // extension: served model names

  // Derived by the loader from `url` (not a key).
  util::Url parsed_url;

  bool operator==(const BackendConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("name", name);
    v("url", url, check::url);
    v("weight", weight, check::in_range(1, 1000000));
    v("timeout", timeout);
    v("connect_timeout", connect_timeout);
    v("max_idle_conns", max_idle_conns, check::at_least(0));
    v("headers", headers);
    v("forward_api_key", forward_api_key);
    v("first_byte_timeout", first_byte_timeout);
    v("stream_idle_timeout", stream_idle_timeout);
    v("models", models);
  }
};

}  // namespace llmproxy::config
