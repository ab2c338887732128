// The config model of one module (log: the system log.) — see config.h for the visit()
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

// ---------------------------------------------------------------- log (system log)
struct LogConfig {
  LogLevel level = LogLevel::info;
  LogFormat format = LogFormat::json;
  LogOutput output = LogOutput::to_stdout;
  LogFileConfig file;

  bool operator==(const LogConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("level", level);
    v("format", format);
    v("output", output);
    v("file", file);
  }
};

}  // namespace llmproxy::config
