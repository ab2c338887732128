// The config model of one module (scripts and hooks.) — see config.h for the visit()
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

// ---------------------------------------------------------------- scripts, hooks
struct ScriptsConfig {
  bool enabled = false;
  ScriptConfig routing;
  ScriptConfig request_transform;
  ScriptConfig response_transform;
  ScriptConfig error_handler;

  bool operator==(const ScriptsConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("routing", routing);
    v("request_transform", request_transform);
    v("response_transform", response_transform);
    v("error_handler", error_handler);
  }
};

struct HooksConfig {
  bool enabled = false;
  ScriptConfig on_request;
  ScriptConfig on_auth;
  ScriptConfig on_route;
  ScriptConfig on_response;
  ScriptConfig on_error;
  ScriptConfig on_complete;

  bool operator==(const HooksConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("on_request", on_request);
    v("on_auth", on_auth);
    v("on_route", on_route);
    v("on_response", on_response);
    v("on_error", on_error);
    v("on_complete", on_complete);
  }
};

}  // namespace llmproxy::config
