#include "proxy/stores/keys/sql_key_store.h"

namespace llmproxy::stores::keys {
namespace {

using sql::Dialect;
using sql::Statement;
using sql::Value;

constexpr const char* kColumns =
    "key_hash, key_prefix, name, user_id, status, starts_at, expires_at, total_quota, used_quota, "
    "quota_reset_period, quota_reset_at, allowed_ips, denied_ips, created_at, updated_at";
constexpr const char* kPlaceholders = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?";
// The columns a sync replaces in a key that exists: not the key_hash, not
// what the key has accrued (used_quota, and quota_reset_at: when that count
// began) and not when it was first made.
constexpr const char* kReplaced[] = {"key_prefix", "name",        "user_id",            "status",
                                     "starts_at",  "expires_at",  "total_quota",        "quota_reset_period",
                                     "allowed_ips", "denied_ips", "updated_at"};

Value opt(const std::optional<std::int64_t>& v) { return v ? Value{*v} : Value{}; }

std::vector<Value> row_values(const StoredKey& k) {
  return {k.hash, k.prefix, k.name, k.user_id, std::int64_t{k.status}, opt(k.starts_at), opt(k.expires_at),
          k.total_quota, k.used_quota, k.quota_reset_period, opt(k.quota_reset_at), k.allowed_ips, k.denied_ips,
          k.created_at, k.updated_at};
}

std::optional<std::int64_t> opt_int(const Value& v) {
  if (sql::is_null(v)) return std::nullopt;
  return sql::as_int(v);
}

StoredKey from_row(const std::vector<Value>& r) {
  StoredKey k;
  k.hash = sql::as_text(r.at(0));
  k.prefix = sql::as_text(r.at(1));
  k.name = sql::as_text(r.at(2));
  k.user_id = sql::as_text(r.at(3));
  k.status = static_cast<int>(sql::as_int(r.at(4)));
  k.starts_at = opt_int(r.at(5));
  k.expires_at = opt_int(r.at(6));
  k.total_quota = sql::as_int(r.at(7));
  k.used_quota = sql::as_int(r.at(8));
  k.quota_reset_period = sql::as_text(r.at(9));
  k.quota_reset_at = opt_int(r.at(10));
  k.allowed_ips = sql::as_text(r.at(11));
  k.denied_ips = sql::as_text(r.at(12));
  k.created_at = sql::as_int(r.at(13));
  k.updated_at = sql::as_int(r.at(14));
  return k;
}

// INSERT that does nothing on an existing key_hash (affected = 0 then).
std::string insert_if_absent(Dialect d, const std::string& table) {
  const std::string values = std::string(" (") + kColumns + ") VALUES (" + kPlaceholders + ")";
  switch (d) {
    case Dialect::sqlite: return "INSERT OR IGNORE INTO " + table + values;
    case Dialect::postgres: return "INSERT INTO " + table + values + " ON CONFLICT (key_hash) DO NOTHING";
    case Dialect::mysql: return "INSERT IGNORE INTO " + table + values;
  }
  return {};
}

// INSERT that replaces every column of an existing key_hash.
std::string upsert(Dialect d, const std::string& table) {
  std::string sql = "INSERT INTO " + table + " (" + kColumns + ") VALUES (" + kPlaceholders + ")";
  sql += d == Dialect::mysql ? " ON DUPLICATE KEY UPDATE " : " ON CONFLICT (key_hash) DO UPDATE SET ";
  bool first = true;
  for (const char* c : kReplaced) {
    if (!first) sql += ", ";
    first = false;
    sql += c;
    sql += d == Dialect::mysql ? std::string(" = VALUES(") + c + ")" : std::string(" = excluded.") + c;
  }
  return sql;
}

Status failed(const sql::Result& r) { return Status{Outcome::unavailable, r.error}; }

}  // namespace

env::Task<Found> SqlKeyStore::find(std::string hash) {
  Statement st{std::string("SELECT ") + kColumns + " FROM " + table_ + " WHERE key_hash = ?", {std::move(hash)}};
  const sql::Result r = co_await db_->run(std::move(st));
  if (!r.ok()) co_return Found{failed(r), std::nullopt};
  if (r.rows.empty()) co_return Found{Status{Outcome::not_found, {}}, std::nullopt};
  co_return Found{Status{}, from_row(r.rows.front())};
}

env::Task<Status> SqlKeyStore::create(StoredKey key) {
  Statement st{insert_if_absent(db_->dialect(), table_), row_values(key)};
  const sql::Result r = co_await db_->run(std::move(st));
  if (!r.ok()) co_return failed(r);
  if (r.affected == 0) co_return Status{Outcome::duplicate, {}};
  co_return Status{};
}

env::Task<Status> SqlKeyStore::update(StoredKey key) {
  Statement st{
      "UPDATE " + table_ + " SET key_prefix = ?, name = ?, user_id = ?, status = ?, starts_at = ?, "
      "expires_at = ?, total_quota = ?, quota_reset_period = ?, allowed_ips = ?, "
      "denied_ips = ?, updated_at = ? WHERE key_hash = ?",
      {key.prefix, key.name, key.user_id, std::int64_t{key.status}, opt(key.starts_at), opt(key.expires_at),
       key.total_quota, key.quota_reset_period, key.allowed_ips, key.denied_ips,
       key.updated_at, key.hash}};
  const sql::Result r = co_await db_->run(std::move(st));
  if (!r.ok()) co_return failed(r);
  // MySQL counts rows changed, not matched: an update that changes nothing
  // reports 0. Tell "no such key" from "no change" by looking.
  if (r.affected == 0) {
    const Found f = co_await find(key.hash);
    if (!f.status.ok()) co_return f.status;
  }
  co_return Status{};
}

env::Task<Status> SqlKeyStore::remove(std::string hash) {
  Statement st{"DELETE FROM " + table_ + " WHERE key_hash = ?", {std::move(hash)}};
  const sql::Result r = co_await db_->run(std::move(st));
  if (!r.ok()) co_return failed(r);
  if (r.affected == 0) co_return Status{Outcome::not_found, {}};
  co_return Status{};
}

env::Task<Page> SqlKeyStore::list(std::int64_t offset, std::int64_t limit) {
  Statement count{"SELECT COUNT(*) FROM " + table_, {}};
  Statement rows{std::string("SELECT ") + kColumns +
                     " FROM " + table_ + " ORDER BY created_at, key_hash LIMIT ? OFFSET ?",
                 {std::max<std::int64_t>(limit, 0), std::max<std::int64_t>(offset, 0)}};
  Page page;
  const sql::Result c = co_await db_->run(std::move(count));
  if (!c.ok()) {
    page.status = failed(c);
    co_return page;
  }
  page.total = sql::as_int(c.rows.at(0).at(0));
  const sql::Result r = co_await db_->run(std::move(rows));
  if (!r.ok()) {
    page.status = failed(r);
    co_return page;
  }
  for (const auto& row : r.rows) page.keys.push_back(from_row(row));
  co_return page;
}

env::Task<Status> SqlKeyStore::sync(std::vector<StoredKey> keys, SyncMode mode) {
  if (keys.size() > kMaxSyncKeys)
    co_return Status{Outcome::unavailable, "a sync takes at most " + std::to_string(kMaxSyncKeys) + " keys"};
  std::vector<Statement> batch;
  batch.reserve(keys.size() + 1);
  const std::string sql = upsert(db_->dialect(), table_);
  for (const auto& k : keys) batch.push_back(Statement{sql, row_values(k)});
  if (mode == SyncMode::full) {
    // Every key not in the set goes; the ones that stay keep their usage.
    Statement drop{"DELETE FROM " + table_, {}};
    if (!keys.empty()) {
      drop.sql += " WHERE key_hash NOT IN (";
      for (std::size_t i = 0; i < keys.size(); ++i) {
        drop.sql += i ? ", ?" : "?";
        drop.params.emplace_back(keys[i].hash);
      }
      drop.sql += ")";
    }
    batch.push_back(std::move(drop));
  }
  const sql::Result r = co_await db_->run(std::move(batch), true);
  if (!r.ok()) co_return failed(r);
  co_return Status{};
}

env::Task<Status> SqlKeyStore::add_usage(std::string hash, std::int64_t tokens,
                                         std::optional<std::int64_t> period_start) {
  // Both CASEs read the row as it was (PostgreSQL and SQLite by the
  // standard; MySQL assigns left to right, and the first assignment leaves
  // quota_reset_at, which both test, untouched).
  Statement st;
  if (period_start) {
    st.sql = "UPDATE " + table_ +
             " SET used_quota = CASE WHEN COALESCE(quota_reset_at, created_at) < ? THEN ? ELSE used_quota + ? END, "
             "quota_reset_at = CASE WHEN COALESCE(quota_reset_at, created_at) < ? THEN ? ELSE quota_reset_at END "
             "WHERE key_hash = ?";
    st.params = {*period_start, tokens, tokens, *period_start, *period_start, std::move(hash)};
  } else {
    st.sql = "UPDATE " + table_ + " SET used_quota = used_quota + ? WHERE key_hash = ?";
    st.params = {tokens, std::move(hash)};
  }
  const sql::Result r = co_await db_->run(std::move(st));
  if (!r.ok()) co_return failed(r);
  if (r.affected == 0 && tokens != 0) co_return Status{Outcome::not_found, {}};
  co_return Status{};
}

}  // namespace llmproxy::stores::keys

#include <filesystem>

#include "proxy/stores/sql/migrations.h"

namespace llmproxy::stores::keys {

config::DatabaseConfig sqlite_key_database(const std::string& path) {
  config::DatabaseConfig db;
  db.name = "admin";
  db.driver = config::DbDriver::sqlite;
  db.path = path;
  db.max_open_conns = 2;
  return db;
}

std::string table_of(KeyRows rows) {
  return rows == KeyRows::admin_keys ? "llmproxy_api_keys" : "llmproxy_static_key_usage";
}

std::shared_ptr<sql::SqlPool> open_key_database(const config::DatabaseConfig& db, std::string& error) {
  if (db.driver == config::DbDriver::sqlite) {
    const std::filesystem::path file(db.path);
    if (file.has_parent_path()) {
      std::error_code ec;
      std::filesystem::create_directories(file.parent_path(), ec);
      if (ec) {
        error = "cannot create " + file.parent_path().string() + ": " + ec.message();
        return nullptr;
      }
    }
  }
  std::shared_ptr<sql::SqlPool> pool = sql::SqlPool::open(db, error);
  if (!pool) return nullptr;
  if (sql::migrate(*pool, sql::gateway_migrations(), error) < 0) return nullptr;
  return pool;
}

std::shared_ptr<KeyStore> open_key_store(const config::DatabaseConfig& db, KeyRows rows, std::string& error) {
  auto pool = open_key_database(db, error);
  if (!pool) return nullptr;
  return std::make_shared<SqlKeyStore>(std::move(pool), rows);
}

std::shared_ptr<KeyStore> KeyStores::open(const config::DatabaseConfig& db, KeyRows rows, std::string& error) {
  std::shared_ptr<sql::SqlPool> pool;
  for (auto it = open_.begin(); it != open_.end();) {
    auto running = it->second.lock();
    if (!running) {
      it = open_.erase(it);
      continue;
    }
    if (it->first == db) pool = std::move(running);
    ++it;
  }
  if (!pool) {
    pool = open_key_database(db, error);
    if (!pool) return nullptr;
    open_.emplace_back(db, pool);
  }
  return std::make_shared<SqlKeyStore>(std::move(pool), rows);
}

}  // namespace llmproxy::stores::keys
