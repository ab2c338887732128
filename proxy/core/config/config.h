// The typed configuration model: one struct per module of the config
// documents (shared/spec/config-reference.yaml, llmproxy-config.zh.md) plus
// our documented extension keys. Member initialisers are the defaults
// (docs/configuration.md lists them). Each struct's visit() lists its fields
// once; the reader, the printer and the test generator all walk it, so a field
// cannot be read but not printed or vice versa.
//
// visit() vocabulary (V is the visitor):
//   v(Key, member, checks...)        a field; checks validate a read value
//   v.input_only(Key, member)        accepted on input only (folded elsewhere by
//                                    the loader), never printed
//   v.only_if(Key, type, wanted, member)
//                                    a type-specific block (e.g. `consul:` of a
//                                    discovery source): read always, rejected
//                                    when present and type is set but is not
//                                    `wanted`, printed only when type == wanted
// A loaded Config is shared as std::shared_ptr<const Config> and never changes.
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

namespace llmproxy::config {

using namespace std::chrono_literals;

// ---------------------------------------------------------------- enums
#define LLMPROXY_ENUM_TABLE(E, ...)                                            \
  inline constexpr EnumEntry<E> k##E##Names[] = {__VA_ARGS__};                 \
  constexpr std::span<const EnumEntry<E>> enum_entries(E) { return k##E##Names; }

enum class LogLevel { debug, info, warn, error };
LLMPROXY_ENUM_TABLE(LogLevel, {"debug", LogLevel::debug}, {"info", LogLevel::info}, {"warn", LogLevel::warn},
                    {"error", LogLevel::error}, {"warning", LogLevel::warn})

enum class LogFormat { json, text };
LLMPROXY_ENUM_TABLE(LogFormat, {"json", LogFormat::json}, {"text", LogFormat::text})

enum class LogOutput { to_stdout, to_stderr, to_file };
LLMPROXY_ENUM_TABLE(LogOutput, {"stdout", LogOutput::to_stdout}, {"stderr", LogOutput::to_stderr},
                    {"file", LogOutput::to_file})

enum class Rotate { daily, hourly, size };
LLMPROXY_ENUM_TABLE(Rotate, {"daily", Rotate::daily}, {"hourly", Rotate::hourly}, {"size", Rotate::size})

enum class ClientAuth { none, request, require };
LLMPROXY_ENUM_TABLE(ClientAuth, {"none", ClientAuth::none}, {"request", ClientAuth::request},
                    {"require", ClientAuth::require})

enum class DbDriver { sqlite, postgres, mysql };
LLMPROXY_ENUM_TABLE(DbDriver, {"sqlite", DbDriver::sqlite}, {"postgres", DbDriver::postgres},
                    {"mysql", DbDriver::mysql}, {"postgresql", DbDriver::postgres}, {"mariadb", DbDriver::mysql},
                    {"sqlite3", DbDriver::sqlite})

enum class CacheDriver { memory, redis };
LLMPROXY_ENUM_TABLE(CacheDriver, {"memory", CacheDriver::memory}, {"redis", CacheDriver::redis})

enum class DiscoveryMode { merge, first };
LLMPROXY_ENUM_TABLE(DiscoveryMode, {"merge", DiscoveryMode::merge}, {"first", DiscoveryMode::first})

// `unset` (printed "") lets the loader report a missing `type:` by name.
enum class SourceType { unset, static_list, database, consul, kubernetes, etcd, http };
LLMPROXY_ENUM_TABLE(SourceType, {"", SourceType::unset}, {"static", SourceType::static_list},
                    {"database", SourceType::database}, {"consul", SourceType::consul},
                    {"kubernetes", SourceType::kubernetes}, {"etcd", SourceType::etcd}, {"http", SourceType::http},
                    {"k8s", SourceType::kubernetes})

enum class AuthMode { first_match, all };
LLMPROXY_ENUM_TABLE(AuthMode, {"first_match", AuthMode::first_match}, {"all", AuthMode::all})

enum class ProviderType { unset, builtin, redis, database, webhook, lua, static_keys };
LLMPROXY_ENUM_TABLE(ProviderType, {"", ProviderType::unset}, {"builtin", ProviderType::builtin},
                    {"redis", ProviderType::redis}, {"database", ProviderType::database},
                    {"webhook", ProviderType::webhook}, {"lua", ProviderType::lua},
                    {"static", ProviderType::static_keys})

enum class QuotaPeriod { never, daily, weekly, monthly };
LLMPROXY_ENUM_TABLE(QuotaPeriod, {"never", QuotaPeriod::never}, {"daily", QuotaPeriod::daily},
                    {"weekly", QuotaPeriod::weekly}, {"monthly", QuotaPeriod::monthly})

enum class LoadBalance { round_robin, weighted, least_conn, random, latency_based };
LLMPROXY_ENUM_TABLE(LoadBalance, {"round_robin", LoadBalance::round_robin}, {"weighted", LoadBalance::weighted},
                    {"least_conn", LoadBalance::least_conn}, {"random", LoadBalance::random},
                    {"latency_based", LoadBalance::latency_based},
                    {"least_connections", LoadBalance::least_conn})

enum class RetryOn { server_error, too_many_requests, connect_failure, timeout, reset };
LLMPROXY_ENUM_TABLE(RetryOn, {"5xx", RetryOn::server_error}, {"429", RetryOn::too_many_requests},
                    {"connect_failure", RetryOn::connect_failure}, {"timeout", RetryOn::timeout},
                    {"reset", RetryOn::reset})

enum class FailMode { open, closed };
LLMPROXY_ENUM_TABLE(FailMode, {"open", FailMode::open}, {"closed", FailMode::closed})

enum class AccessFormat { combined, json };
LLMPROXY_ENUM_TABLE(AccessFormat, {"combined", AccessFormat::combined}, {"json", AccessFormat::json})

enum class ReporterType { unset, webhook, database };
LLMPROXY_ENUM_TABLE(ReporterType, {"", ReporterType::unset}, {"webhook", ReporterType::webhook},
                    {"database", ReporterType::database})

#undef LLMPROXY_ENUM_TABLE

// ---------------------------------------------------------------- shared blocks

// The generic `script:` block (and hooks.*, scripts.*, the lua provider).
struct ScriptConfig {
  bool enabled = false;
  std::string path;      // resolved against the config file's folder
  std::string code;      // inline Lua; alias `script`; exclusive with path
  Duration timeout = 1s; // instruction budget equivalent (BEHAVIOR §11)
  int max_memory = 10;   // MB

  bool operator==(const ScriptConfig&) const = default;
  static ScriptConfig enabled_by_default() {
    ScriptConfig s;
    s.enabled = true;
    return s;
  }
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("path", path);
    v(Key{"code", "script"}, code);
    v("timeout", timeout, check::positive_duration());
    v("max_memory", max_memory, check::in_range(1, 4096));
  }
};

// A log file with rotation (log.file, logging.request.file, logging.access.file).
struct LogFileConfig {
  std::string path;
  Rotate rotate = Rotate::daily;
  int max_size = 100;  // MB, when rotate = size
  int max_age = 7;     // days to keep
  bool compress = false;

  bool operator==(const LogFileConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("path", path);
    v("rotate", rotate);
    v("max_size", max_size, check::at_least(1));
    v("max_age", max_age, check::at_least(0));
    v("compress", compress);
  }
};

// ---------------------------------------------------------------- server
struct CorsConfig {
  bool enabled = false;
  std::vector<std::string> allowed_origins{"*"};
  std::vector<std::string> allowed_methods{"GET", "POST", "OPTIONS"};
  std::vector<std::string> allowed_headers{"Authorization", "Content-Type", "X-API-Key"};
  std::vector<std::string> expose_headers;
  bool allow_credentials = false;
  std::int64_t max_age = 86400;  // seconds

  bool operator==(const CorsConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("allowed_origins", allowed_origins, check::header_value_list);
    v("allowed_methods", allowed_methods, check::method_token_list);
    v("allowed_headers", allowed_headers, check::header_name_list);
    v("expose_headers", expose_headers, check::header_name_list);
    v("allow_credentials", allow_credentials);
    v("max_age", max_age, check::at_least<std::int64_t>(0));
  }
};

struct TlsConfig {
  bool enabled = false;
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;
  ClientAuth client_auth = ClientAuth::none;

  bool operator==(const TlsConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("cert_file", cert_file);
    v("key_file", key_file);
    v("client_ca_file", client_ca_file);
    v("client_auth", client_auth);
  }
};

struct ServerConfig {
  std::string listen = ":8000";  // alias: top-level `listen`
  Duration read_timeout = 30s;
  Duration write_timeout = 60s;  // not applied to streaming responses
  Duration idle_timeout = 120s;
  // Deviates from the reference's 1 MiB: headers are capped in the tens of
  // KB, as nginx does (4 × 8k), so slow clients holding unfinished heads
  // cannot grow memory by a megabyte each (docs/configuration.md).
  ByteSize max_header_bytes{32768};
  ByteSize max_body_size{10485760};
  // Extensions: open client connections (0 = unbounded), and bytes buffered
  // for clients over all connections — request bodies and stream events
  // being assembled (0 = unbounded). Past them: 503.
  int max_connections = 10000;
  ByteSize buffer_memory_budget{1073741824};
  int workers = 0;               // extension: 0 = one per core
  Duration drain_timeout = 30s;  // extension
  CorsConfig cors;
  TlsConfig tls;

  bool operator==(const ServerConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("listen", listen, check::listen_address);
    v("read_timeout", read_timeout);
    v("write_timeout", write_timeout);
    v("idle_timeout", idle_timeout);
    v("max_header_bytes", max_header_bytes);
    v("max_body_size", max_body_size);
    v("max_connections", max_connections, check::in_range(0, 10000000));
    v("buffer_memory_budget", buffer_memory_budget);
    v("workers", workers, check::in_range(0, 1024));
    v("drain_timeout", drain_timeout);
    v("cors", cors);
    v("tls", tls);
  }
};

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

// ---------------------------------------------------------------- storage
struct DatabaseConfig {
  std::string name;
  DbDriver driver = DbDriver::sqlite;
  std::string host;
  int port = 0;  // 0 = the driver's default port
  std::string user;
  Secret password;
  std::string database;
  Secret dsn;        // wins over the fields above
  std::string path;  // sqlite file
  int max_open_conns = 10;
  int max_idle_conns = 2;
  Duration conn_max_lifetime = 1h;
  Duration conn_max_idle_time = 10min;

  bool operator==(const DatabaseConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("name", name);
    v("driver", driver);
    v("host", host);
    v("port", port, check::in_range(0, 65535));
    v("user", user);
    v("password", password);
    v("database", database);
    v("dsn", dsn);
    v("path", path);
    v("max_open_conns", max_open_conns, check::at_least(1));
    v("max_idle_conns", max_idle_conns, check::at_least(0));
    v("conn_max_lifetime", conn_max_lifetime);
    v("conn_max_idle_time", conn_max_idle_time);
  }
};

struct CacheConfig {
  std::string name;
  CacheDriver driver = CacheDriver::memory;
  std::string addr = "localhost:6379";  // redis
  Secret password;
  int db = 0;
  int pool_size = 10;
  int min_idle_conns = 0;
  Duration dial_timeout = 5s;
  Duration read_timeout = 3s;
  Duration write_timeout = 3s;
  std::int64_t max_size = 10000;  // memory: max entries
  Duration ttl = 5min;            // memory: default expiry

  bool operator==(const CacheConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("name", name);
    v("driver", driver);
    v("addr", addr, check::host_port);
    v("password", password);
    v("db", db, check::in_range(0, 1024));
    v("pool_size", pool_size, check::at_least(1));
    v("min_idle_conns", min_idle_conns, check::at_least(0));
    v("dial_timeout", dial_timeout);
    v("read_timeout", read_timeout);
    v("write_timeout", write_timeout);
    v("max_size", max_size, check::at_least<std::int64_t>(1));
    v("ttl", ttl);
  }
};

struct StorageConfig {
  std::vector<DatabaseConfig> databases;
  std::vector<CacheConfig> caches;
  // Shorthands from the config document's outline (`storage.database`,
  // `storage.cache`): one store each, named "database" / "cache" unless named
  // otherwise. The loader appends them to the lists above, so they
  // are always empty in a loaded Config and are never printed.
  std::vector<DatabaseConfig> database_shorthand;
  std::vector<CacheConfig> cache_shorthand;

  bool operator==(const StorageConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("databases", databases);
    v("caches", caches);
    v.input_only("database", database_shorthand);
    v.input_only("cache", cache_shorthand);
  }
};

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

// ---------------------------------------------------------------- admin
struct AdminConfig {
  bool enabled = false;
  Secret token;        // required when enabled
  std::string listen;  // "" = mounted under /admin/ on the main listener
  std::string db_path = "./data/keys.db";

  bool operator==(const AdminConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("token", token);
    v("listen", listen, check::listen_address);
    v("db_path", db_path);
  }
};

// ---------------------------------------------------------------- auth
// A key of the static provider, or of top-level api_keys (where a plain string
// is also accepted and means {key: <string>}).
struct StaticKey {
  Secret key;
  std::string name;
  std::string user_id;
  std::string status = "enabled";
  std::int64_t total_quota = 0;  // tokens; 0 = unlimited
  std::int64_t used_quota = 0;
  QuotaPeriod quota_reset_period = QuotaPeriod::never;
  std::vector<std::string> allowed_ips;  // IPs or CIDRs; empty = any
  std::vector<std::string> denied_ips;
  std::string expires_at;  // RFC 3339 or unix seconds; "" (or null) = never

  bool operator==(const StaticKey&) const = default;
  template <class V>
  void visit(V& v) {
    v("key", key);
    v("name", name);
    v("user_id", user_id);
    v("status", status);
    v("total_quota", total_quota, check::at_least<std::int64_t>(0));
    v("used_quota", used_quota, check::at_least<std::int64_t>(0));
    v("quota_reset_period", quota_reset_period);
    v("allowed_ips", allowed_ips, check::cidr_list);
    v("denied_ips", denied_ips, check::cidr_list);
    v("expires_at", expires_at, check::timestamp);
  }
};

struct RedisProvider {
  std::string storage = "cache";  // a storage.caches name; "cache" = default
  std::string key_pattern = "llmproxy:key:{api_key}";

  bool operator==(const RedisProvider&) const = default;
  template <class V>
  void visit(V& v) {
    v("storage", storage);
    v("key_pattern", key_pattern);
  }
};

struct DatabaseProvider {
  std::string storage = "database";
  std::string table = "api_keys";
  std::string key_column = "key";
  std::vector<std::string> fields;

  bool operator==(const DatabaseProvider&) const = default;
  template <class V>
  void visit(V& v) {
    v("storage", storage);
    v("table", table);
    v("key_column", key_column);
    v("fields", fields);
  }
};

struct WebhookProvider {
  std::string url;
  std::string method = "POST";
  Duration timeout = 5s;
  HeaderMap headers;

  bool operator==(const WebhookProvider&) const = default;
  template <class V>
  void visit(V& v) {
    v("url", url, check::url);
    v("method", method, check::http_method);
    v("timeout", timeout, check::positive_duration());
    v("headers", headers);
  }
};

struct StaticProvider {
  std::vector<StaticKey> keys;
  bool operator==(const StaticProvider&) const = default;
  template <class V>
  void visit(V& v) {
    v("keys", keys);
  }
};

struct AuthProvider {
  std::string name;
  ProviderType type = ProviderType::unset;
  bool enabled = true;
  RedisProvider redis;
  DatabaseProvider database;
  WebhookProvider webhook;
  ScriptConfig lua = ScriptConfig::enabled_by_default();  // the provider's own `enabled` governs it
  StaticProvider static_keys;
  ScriptConfig script;  // post-processor

  bool operator==(const AuthProvider&) const = default;
  template <class V>
  void visit(V& v) {
    v("name", name);
    v("type", type);
    v("enabled", enabled);
    v.only_if("redis", type, ProviderType::redis, redis);
    v.only_if("database", type, ProviderType::database, database);
    v.only_if("webhook", type, ProviderType::webhook, webhook);
    v.only_if("lua", type, ProviderType::lua, lua);
    v.only_if("static", type, ProviderType::static_keys, static_keys);
    v("script", script);
  }
};

struct AuthConfig {
  bool enabled = false;
  AuthMode mode = AuthMode::first_match;
  std::vector<std::string> skip_paths{"/health", "/ready", "/metrics"};
  std::vector<std::string> header_names{"Authorization", "X-API-Key"};
  Duration cache_ttl = 10s;  // extension
  std::vector<AuthProvider> pipeline;

  bool operator==(const AuthConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("mode", mode);
    v("skip_paths", skip_paths);
    v("header_names", header_names, check::header_name_list);
    v("cache_ttl", cache_ttl);
    v("pipeline", pipeline);
  }
};

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

// ---------------------------------------------------------------- root
struct Config {
  ServerConfig server;
  LogConfig log;
  StorageConfig storage;
  std::vector<BackendConfig> backends;
  DiscoveryConfig discovery;
  AdminConfig admin;
  AuthConfig auth;
  std::vector<StaticKey> api_keys;
  LoggingConfig logging;
  RateLimitConfig rate_limit;
  RoutingConfig routing;
  HealthCheckConfig health_check;
  MetricsConfig metrics;
  UsageConfig usage;
  ScriptsConfig scripts;
  HooksConfig hooks;

  bool operator==(const Config&) const = default;
  // Top-level `listen` (alias of server.listen) is handled by the loader.
  template <class V>
  void visit(V& v) {
    v("server", server);
    v("log", log);
    v("storage", storage);
    v("backends", backends);
    v("discovery", discovery);
    v("admin", admin);
    v("auth", auth);
    v("api_keys", api_keys);
    v("logging", logging);
    v("rate_limit", rate_limit);
    v("routing", routing);
    v("health_check", health_check);
    v("metrics", metrics);
    v("usage", usage);
    v("scripts", scripts);
    v("hooks", hooks);
  }
};

using ConfigPtr = std::shared_ptr<const Config>;

// The storage a module's `storage:` names, after applying the default rule:
// "database" → the database named "database" if any, else the first one;
// likewise "cache" for caches. nullptr when nothing matches.
const DatabaseConfig* resolve_database(const Config& c, std::string_view name);
const CacheConfig* resolve_cache(const Config& c, std::string_view name);

}  // namespace llmproxy::config
