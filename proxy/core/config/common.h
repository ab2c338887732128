// The config model of one module (Enumerations and blocks shared by several modules (scripts, log files).) — see config.h for the visit()
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

// extension: how a store provider's key with a quota (total_quota > 0)
// is checked (docs/auth.md#quotas). exact: its record is read from the
// store on every request, so every instance sees the others' usage at
// once; cached: within auth.cache_ttl the worker's cached record and its
// own charges decide.
enum class QuotaCheck { exact, cached };
LLMPROXY_ENUM_TABLE(QuotaCheck, {"exact", QuotaCheck::exact}, {"cached", QuotaCheck::cached})

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

}  // namespace llmproxy::config
