// KeyStore in a storage.databases entry: one table of key rows of
// proxy/stores/sql/migrations.cpp (KeyRows), through a SqlPool (so no call
// blocks an event loop). Shared by every gateway instance on the same
// database. A failed statement is `unavailable` with the driver's message.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "proxy/stores/keys/key_store.h"
#include "proxy/stores/sql/sql_pool.h"

namespace llmproxy::stores::keys {

// The table `rows` are kept in.
std::string table_of(KeyRows rows);

class SqlKeyStore final : public KeyStore {
 public:
  SqlKeyStore(std::shared_ptr<sql::SqlPool> db, KeyRows rows) : db_(std::move(db)), table_(table_of(rows)) {}

  env::Task<Found> find(std::string hash) override;
  env::Task<Status> create(StoredKey key) override;
  env::Task<Status> update(StoredKey key) override;
  env::Task<Status> remove(std::string hash) override;
  env::Task<Page> list(std::int64_t offset, std::int64_t limit) override;
  env::Task<Status> sync(std::vector<StoredKey> keys, SyncMode mode) override;
  env::Task<Status> add_usage(std::string hash, std::int64_t tokens,
                              std::optional<std::int64_t> period_start) override;

 private:
  std::shared_ptr<sql::SqlPool> db_;
  std::string table_;
};

}  // namespace llmproxy::stores::keys

namespace llmproxy::stores::keys {

// The database of the admin API's store (admin.db_path, or the
// storage.databases entry admin.storage names) opened: a SQLite file's
// directory created when missing, the schema migrated. Null and `error`
// when it cannot be opened or migrated.
std::shared_ptr<sql::SqlPool> open_key_database(const config::DatabaseConfig& db, std::string& error);
// A store of `rows` in that database (open_key_database, then a store).
std::shared_ptr<KeyStore> open_key_store(const config::DatabaseConfig& db, KeyRows rows, std::string& error);
// The database admin.db_path means: a SQLite file, two connections (admin
// calls are rare; SQLite has one writer at a time anyway).
config::DatabaseConfig sqlite_key_database(const std::string& path);

// serve's opener: one pool per database while a store on it is in use, so
// that a reload (which builds a new gateway and opens again), or a second
// table in the same database, gets the running pool instead of a second
// pool and a second migration.
// Not thread-safe: serve builds gateways on its main thread only.
class KeyStores {
 public:
  std::shared_ptr<KeyStore> open(const config::DatabaseConfig& db, KeyRows rows, std::string& error);

 private:
  std::vector<std::pair<config::DatabaseConfig, std::weak_ptr<sql::SqlPool>>> open_;
};

}  // namespace llmproxy::stores::keys
