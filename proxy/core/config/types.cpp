#include <algorithm>
#include <cctype>

#include "proxy/core/config/config.h"
#include "proxy/core/config/diagnostic.h"
#include "proxy/core/config/types.h"

namespace llmproxy::config {

bool is_sensitive_header(std::string_view name) {
  std::string n(name);
  for (auto& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return n == "authorization" || n == "proxy-authorization" || n == "cookie" ||
         n.find("key") != std::string::npos || n.find("token") != std::string::npos ||
         n.find("secret") != std::string::npos || n.find("password") != std::string::npos;
}

std::string format_diagnostic(const Diagnostic& d) {
  return d.file + ":" + std::to_string(d.line) + ":" + std::to_string(d.column) + ": " + d.message;
}

const DatabaseConfig* resolve_database(const Config& c, std::string_view name) {
  const auto& dbs = c.storage.databases;
  for (const auto& db : dbs)
    if (db.name == name) return &db;
  if (name == "database" && !dbs.empty()) return &dbs.front();
  return nullptr;
}

const CacheConfig* resolve_cache(const Config& c, std::string_view name) {
  const auto& caches = c.storage.caches;
  for (const auto& cache : caches)
    if (cache.name == name) return &cache;
  if (name == "cache" && !caches.empty()) return &caches.front();
  return nullptr;
}

}  // namespace llmproxy::config
