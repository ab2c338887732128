// The config model of one module (discovery: dynamic backend sources.) — see config.h for the visit()
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

// ---------------------------------------------------------------- discovery
struct DiscoveryFields {
  std::string name = "name";
  std::string url = "url";
  std::string weight = "weight";
  std::string status = "status";

  bool operator==(const DiscoveryFields&) const = default;
  template <class V>
  void visit(V& v) {
    v("name", name);
    v("url", url);
    v("weight", weight);
    v("status", status);
  }
};

struct DatabaseSource {
  std::string storage = "database";  // a storage.databases name; "database" = default
  std::string table = "services";
  DiscoveryFields fields;

  bool operator==(const DatabaseSource&) const = default;
  template <class V>
  void visit(V& v) {
    v("storage", storage);
    v("table", table);
    v("fields", fields);
  }
};

struct StaticSource {
  std::vector<BackendConfig> backends;
  bool operator==(const StaticSource&) const = default;
  template <class V>
  void visit(V& v) {
    v("backends", backends);
  }
};

struct ConsulSource {
  std::string addr = "http://127.0.0.1:8500";
  std::string service;
  std::string tag;
  Duration interval{0};  // 0 = discovery.interval

  bool operator==(const ConsulSource&) const = default;
  template <class V>
  void visit(V& v) {
    v("addr", addr, check::url);
    v("service", service);
    v("tag", tag);
    v("interval", interval);
  }
};

struct KubernetesSource {
  std::string namespace_ = "default";
  std::string service;
  int port = 0;  // 0 = the Endpoints' first port
  std::string label_selector;

  bool operator==(const KubernetesSource&) const = default;
  template <class V>
  void visit(V& v) {
    v("namespace", namespace_);
    v("service", service);
    v("port", port, check::in_range(0, 65535));
    v("label_selector", label_selector);
  }
};

struct EtcdSource {
  std::vector<std::string> endpoints;
  std::string prefix = "/services/llm";
  std::string username;
  Secret password;

  bool operator==(const EtcdSource&) const = default;
  template <class V>
  void visit(V& v) {
    v("endpoints", endpoints, check::url_list);
    v("prefix", prefix);
    v("username", username);
    v("password", password);
  }
};

struct HttpSource {
  std::string url;
  std::string method = "GET";
  Duration interval{0};  // 0 = discovery.interval
  Duration timeout = 5s;
  HeaderMap headers;

  bool operator==(const HttpSource&) const = default;
  template <class V>
  void visit(V& v) {
    v("url", url, check::url);
    v("method", method, check::http_method);
    v("interval", interval);
    v("timeout", timeout, check::positive_duration());
    v("headers", headers);
  }
};

struct DiscoverySource {
  std::string name;
  SourceType type = SourceType::unset;
  bool enabled = true;
  DatabaseSource database;
  StaticSource static_list;
  ConsulSource consul;
  KubernetesSource kubernetes;
  EtcdSource etcd;
  HttpSource http;
  ScriptConfig script;  // post-filter

  bool operator==(const DiscoverySource&) const = default;
  template <class V>
  void visit(V& v) {
    v("name", name);
    v("type", type);
    v("enabled", enabled);
    v.only_if("database", type, SourceType::database, database);
    v.only_if("static", type, SourceType::static_list, static_list);
    v.only_if("consul", type, SourceType::consul, consul);
    v.only_if("kubernetes", type, SourceType::kubernetes, kubernetes);
    v.only_if("etcd", type, SourceType::etcd, etcd);
    v.only_if("http", type, SourceType::http, http);
    v("script", script);
  }
};

struct DiscoveryConfig {
  bool enabled = false;
  DiscoveryMode mode = DiscoveryMode::merge;
  Duration interval = 30s;
  std::vector<DiscoverySource> sources;

  bool operator==(const DiscoveryConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("mode", mode);
    v("interval", interval, check::positive_duration());
    v("sources", sources);
  }
};

}  // namespace llmproxy::config
