// The config model of one module (storage: databases and caches.) — see config.h for the visit()
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
    // Each driver's own fields: set on the other driver they would do
    // nothing, so they are refused (and printed only for their driver).
    constexpr auto redis = CacheDriver::redis;
    constexpr auto memory = CacheDriver::memory;
    v.only_for("addr", "driver", driver, redis, addr, check::host_port);
    v.only_for("password", "driver", driver, redis, password);
    v.only_for("db", "driver", driver, redis, db, check::in_range(0, 1024));
    v.only_for("pool_size", "driver", driver, redis, pool_size, check::at_least(1));
    v.only_for("min_idle_conns", "driver", driver, redis, min_idle_conns, check::at_least(0));
    v.only_for("dial_timeout", "driver", driver, redis, dial_timeout);
    v.only_for("read_timeout", "driver", driver, redis, read_timeout);
    v.only_for("write_timeout", "driver", driver, redis, write_timeout);
    v.only_for("max_size", "driver", driver, memory, max_size, check::at_least<std::int64_t>(1));
    v.only_for("ttl", "driver", driver, memory, ttl, check::positive_duration());
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

}  // namespace llmproxy::config
