#include "proxy/stores/sql/migrations.h"

#include <algorithm>

namespace llmproxy::stores::sql {
namespace {

// The columns of a key row (StoredKey, proxy/stores/keys/key_store.h) in
// each dialect, for `table`: the admin key store's keys and the usage of
// static keys have the same shape, so one store class serves both.
std::string key_table_sqlite(const std::string& table) {
  return "CREATE TABLE IF NOT EXISTS " + table + R"( (
      key_hash TEXT PRIMARY KEY, key_prefix TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
      user_id TEXT NOT NULL DEFAULT '', status INTEGER NOT NULL DEFAULT 0,
      starts_at INTEGER, expires_at INTEGER, total_quota INTEGER NOT NULL DEFAULT 0,
      used_quota INTEGER NOT NULL DEFAULT 0, quota_reset_period TEXT NOT NULL DEFAULT 'never',
      quota_reset_at INTEGER, allowed_ips TEXT NOT NULL DEFAULT '', denied_ips TEXT NOT NULL DEFAULT '',
      created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL))";
}
std::string key_table_postgres(const std::string& table) {
  return "CREATE TABLE IF NOT EXISTS " + table + R"( (
      key_hash VARCHAR(64) PRIMARY KEY, key_prefix VARCHAR(16) NOT NULL, name TEXT NOT NULL DEFAULT '',
      user_id VARCHAR(255) NOT NULL DEFAULT '', status INTEGER NOT NULL DEFAULT 0,
      starts_at BIGINT, expires_at BIGINT, total_quota BIGINT NOT NULL DEFAULT 0,
      used_quota BIGINT NOT NULL DEFAULT 0, quota_reset_period VARCHAR(16) NOT NULL DEFAULT 'never',
      quota_reset_at BIGINT, allowed_ips TEXT NOT NULL DEFAULT '', denied_ips TEXT NOT NULL DEFAULT '',
      created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL))";
}
// MySQL: TEXT columns take no DEFAULT (the store always writes them).
std::string key_table_mysql(const std::string& table, const std::string& extra) {
  return "CREATE TABLE IF NOT EXISTS " + table + R"( (
      key_hash VARCHAR(64) PRIMARY KEY, key_prefix VARCHAR(16) NOT NULL, name TEXT NOT NULL,
      user_id VARCHAR(255) NOT NULL DEFAULT '', status INTEGER NOT NULL DEFAULT 0,
      starts_at BIGINT, expires_at BIGINT, total_quota BIGINT NOT NULL DEFAULT 0,
      used_quota BIGINT NOT NULL DEFAULT 0, quota_reset_period VARCHAR(16) NOT NULL DEFAULT 'never',
      quota_reset_at BIGINT, allowed_ips TEXT NOT NULL, denied_ips TEXT NOT NULL,
      created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)" + extra + ") CHARACTER SET utf8mb4";
}

const std::vector<Migration>& all() {
  static const std::vector<Migration> migrations{
      // Version 1: API keys (issue #13). The key itself is never stored: its
      // SHA-256 (hex) is the primary key and a short prefix identifies it to
      // people. Times are unix seconds (NULL = none); ip lists are
      // comma-separated.
      {1,
       "api keys",
       {key_table_sqlite("llmproxy_api_keys"),
        "CREATE INDEX IF NOT EXISTS llmproxy_api_keys_user ON llmproxy_api_keys (user_id)"},
       {key_table_postgres("llmproxy_api_keys"),
        "CREATE INDEX IF NOT EXISTS llmproxy_api_keys_user ON llmproxy_api_keys (user_id)"},
       {key_table_mysql("llmproxy_api_keys", ",\n      INDEX llmproxy_api_keys_user (user_id)")}},
      // Version 2: the usage of static keys with a quota (auth static
      // providers, api_keys), counted where the admin keys are. A row
      // appears when the key first uses tokens; what the config says
      // (status, quota, IP lists) is read from the config, not from here.
      {2,
       "static key usage",
       {key_table_sqlite("llmproxy_static_key_usage")},
       {key_table_postgres("llmproxy_static_key_usage")},
       {key_table_mysql("llmproxy_static_key_usage", "")}},
  };
  return migrations;
}

std::vector<Statement> statements(const Migration& m, Dialect d) {
  const auto& list = d == Dialect::sqlite ? m.sqlite : d == Dialect::postgres ? m.postgres : m.mysql;
  std::vector<Statement> out;
  for (const auto& sql : list) out.push_back(Statement{sql, {}});
  return out;
}

std::string record_version_sql(Dialect d) {
  switch (d) {
    case Dialect::sqlite: return "INSERT OR IGNORE INTO llmproxy_schema_migrations (version, what) VALUES (?, ?)";
    case Dialect::postgres:
      return "INSERT INTO llmproxy_schema_migrations (version, what) VALUES (?, ?) ON CONFLICT DO NOTHING";
    case Dialect::mysql: return "INSERT IGNORE INTO llmproxy_schema_migrations (version, what) VALUES (?, ?)";
  }
  return {};
}

}  // namespace

std::span<const Migration> gateway_migrations() { return all(); }

int migrate(SqlPool& db, std::span<const Migration> migrations, std::string& error) {
  Result r = db.run_blocking({Statement{"CREATE TABLE IF NOT EXISTS llmproxy_schema_migrations "
                                        "(version INTEGER PRIMARY KEY, what VARCHAR(255) NOT NULL)",
                                        {}}});
  if (!r.ok()) return error = "creating llmproxy_schema_migrations: " + r.error, -1;
  r = db.run_blocking({Statement{"SELECT version FROM llmproxy_schema_migrations", {}}});
  if (!r.ok()) return error = "reading llmproxy_schema_migrations: " + r.error, -1;
  std::vector<std::int64_t> applied;
  for (const auto& row : r.rows) applied.push_back(as_int(row.at(0)));
  const int newest_known = migrations.empty() ? 0 : migrations.back().version;
  for (std::int64_t v : applied)
    if (v > newest_known)
      return error = "the database " + db.name() + " has schema version " + std::to_string(v) +
                     ", newer than this build knows (" + std::to_string(newest_known) +
                     "): run a newer llmproxy against it",
             -1;
  int current = 0;
  for (const Migration& m : migrations) {
    if (std::find(applied.begin(), applied.end(), m.version) == applied.end()) {
      auto batch = statements(m, db.dialect());
      batch.push_back(Statement{record_version_sql(db.dialect()), {std::int64_t{m.version}, m.what}});
      // One transaction where DDL is transactional (SQLite, PostgreSQL).
      r = db.run_blocking(std::move(batch), db.dialect() != Dialect::mysql);
      if (!r.ok())
        return error = "migration " + std::to_string(m.version) + " (" + m.what + ") on " + db.name() + ": " +
                       r.error,
               -1;
    }
    current = m.version;
  }
  return current;
}

}  // namespace llmproxy::stores::sql
