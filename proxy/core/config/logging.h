// The config model of one module (logging: the request log and the access log.) — see config.h for the visit()
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

// ---------------------------------------------------------------- logging
// storage: "stdout", "file" (needs file.path), "database" (the default
// database) or a storage.databases name.
struct RequestLogConfig {
  bool enabled = false;
  std::string storage = "stdout";
  std::string table = "request_logs";
  bool include_body = false;
  LogFileConfig file;
  ScriptConfig script;  // pre-filter

  bool operator==(const RequestLogConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("storage", storage);
    v("table", table);
    v("include_body", include_body);
    v("file", file);
    v("script", script);
  }
};

struct AccessLogConfig {
  bool enabled = false;
  std::string storage = "stdout";
  AccessFormat format = AccessFormat::combined;  // extension
  std::string table = "access_logs";
  LogFileConfig file;
  ScriptConfig script;

  bool operator==(const AccessLogConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("storage", storage);
    v("format", format);
    v("table", table);
    v("file", file);
    v("script", script);
  }
};

struct LoggingConfig {
  bool enabled = false;
  RequestLogConfig request;
  AccessLogConfig access;

  bool operator==(const LoggingConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("request", request);
    v("access", access);
  }
};

}  // namespace llmproxy::config
