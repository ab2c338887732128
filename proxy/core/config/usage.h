// The config model of one module (usage: usage reporters.) — see config.h for the visit()
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

// ---------------------------------------------------------------- usage
struct WebhookReporter {
  std::string url;
  std::string method = "POST";
  Duration timeout = 5s;
  int retry = 3;
  HeaderMap headers;

  bool operator==(const WebhookReporter&) const = default;
  template <class V>
  void visit(V& v) {
    v("url", url, check::url);
    v("method", method, check::http_method);
    v("timeout", timeout, check::positive_duration());
    v("retry", retry, check::in_range(0, 100));
    v("headers", headers);
  }
};

struct DatabaseReporter {
  std::string storage = "database";
  std::string table = "usage_records";

  bool operator==(const DatabaseReporter&) const = default;
  template <class V>
  void visit(V& v) {
    v("storage", storage);
    v("table", table);
  }
};

struct UsageReporter {
  std::string name;
  ReporterType type = ReporterType::unset;
  bool enabled = true;
  WebhookReporter webhook;
  DatabaseReporter database;
  ScriptConfig script;

  bool operator==(const UsageReporter&) const = default;
  template <class V>
  void visit(V& v) {
    v("name", name);
    v("type", type);
    v("enabled", enabled);
    v.only_if("webhook", type, ReporterType::webhook, webhook);
    v.only_if("database", type, ReporterType::database, database);
    v("script", script);
  }
};

struct UsageConfig {
  bool enabled = false;
  std::vector<UsageReporter> reporters;

  bool operator==(const UsageConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("reporters", reporters);
  }
};

}  // namespace llmproxy::config
