// storage: databases and caches, and the references other modules make to
// them by name.
#include "proxy/core/config/cache_pools.h"
#include "proxy/core/config/validate.h"
#include "proxy/core/util/did_you_mean.h"

namespace llmproxy::config::detail {
namespace {

std::string suggestion(std::string_view name, const std::vector<std::string_view>& candidates) {
  auto s = util::did_you_mean(name, candidates);
  return s ? " (did you mean '" + *s + "'?)" : "";
}

// storage.database / storage.cache shorthands join the lists (appended, so
// positions of the listed entries, and their diagnostics, stay put).
void fold_storage_shorthands(Config& c) {
  auto& st = c.storage;
  for (auto& db : st.database_shorthand) {
    if (db.name.empty()) db.name = "database";
    st.databases.push_back(std::move(db));
  }
  st.database_shorthand.clear();
  for (auto& cache : st.cache_shorthand) {
    if (cache.name.empty()) cache.name = "cache";
    st.caches.push_back(std::move(cache));
  }
  st.cache_shorthand.clear();
}

}  // namespace

void check_database_ref(const Config& c, const std::string& path, const std::string& name, Context& ctx) {
  if (resolve_database(c, name) != nullptr) return;
  std::vector<std::string_view> names;
  for (const auto& db : c.storage.databases) names.push_back(db.name);
  if (name == "database") {
    ctx.error(path, "\"database\" means the default database, but storage.databases is empty");
  } else if (resolve_cache(c, name) != nullptr && name != "cache") {
    ctx.error(path, "'" + name + "' is a cache; a database from storage.databases is needed here");
  } else {
    ctx.error(path, "no database named '" + name + "' in storage.databases" + suggestion(name, names));
  }
}

void check_cache_ref(const Config& c, const std::string& path, const std::string& name, Context& ctx,
                     bool need_redis) {
  const CacheConfig* cache = resolve_cache(c, name);
  if (cache == nullptr) {
    std::vector<std::string_view> names;
    for (const auto& ca : c.storage.caches) names.push_back(ca.name);
    if (name == "cache") ctx.error(path, "\"cache\" means the default cache, but storage.caches is empty");
    else if (resolve_database(c, name) != nullptr && name != "database")
      ctx.error(path, "'" + name + "' is a database; a cache from storage.caches is needed here");
    else ctx.error(path, "no cache named '" + name + "' in storage.caches" + suggestion(name, names));
    return;
  }
  if (need_redis && cache->driver != CacheDriver::redis)
    ctx.error(path, "cache '" + cache->name + "' is a memory cache; a redis cache is needed here");
}

void validate_storage(Config& c, Context& ctx) {
  fold_storage_shorthands(c);
  check_unique_names(c.storage.databases, "storage.databases", ctx, true);
  check_unique_names(c.storage.caches, "storage.caches", ctx, true);
  for (std::size_t i = 0; i < c.storage.databases.size(); ++i) {
    const auto& db = c.storage.databases[i];
    const std::string p = idx("storage.databases", i);
    if (!db.dsn.empty() || ctx.failed(p + ".driver")) continue;
    if (db.driver == DbDriver::sqlite && db.path.empty())
      ctx.error(p, "sqlite needs `path` (or `dsn`)", true);
    if (db.driver != DbDriver::sqlite && db.host.empty())
      ctx.error(p, std::string(enum_name(db.driver)) + " needs `host` (or `dsn`)", true);
  }
  // Without server.workers the count is the serving machine's cores: serve
  // judges it there (cache_pools.h).
  if (c.server.workers > 0) {
    if (auto problem = cache_pool_problem(c, static_cast<unsigned>(c.server.workers)))
      ctx.error(idx("storage.caches", problem->cache) + "." + problem->field, problem->message);
  }
}

}  // namespace llmproxy::config::detail
