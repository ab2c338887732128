// The config model of one module (admin: the admin API.) — see config.h for the visit()
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

// ---------------------------------------------------------------- admin
struct AdminConfig {
  bool enabled = false;
  Secret token;        // required when enabled
  std::string listen;  // "" = mounted under /admin/ on the main listener
  std::string db_path = "./data/keys.db";
  // extension: the storage.databases entry (sqlite, postgres, mysql) that
  // holds the key store instead of the SQLite file db_path, so instances on
  // several machines share one set of keys and one usage count.
  std::string storage;

  bool operator==(const AdminConfig&) const = default;
  template <class V>
  void visit(V& v) {
    v("enabled", enabled);
    v("token", token);
    v("listen", listen, check::listen_address);
    v("db_path", db_path);
    v("storage", storage);
  }
};

}  // namespace llmproxy::config
