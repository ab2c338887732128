// KeyStore in a storage.databases entry: the llmproxy_api_keys table of
// proxy/stores/sql/migrations.cpp, through a SqlPool (so no call blocks an
// event loop). Shared by every gateway instance on the same database.
// A failed statement is `unavailable` with the driver's message.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "proxy/stores/keys/key_store.h"
#include "proxy/stores/sql/sql_pool.h"

namespace llmproxy::stores::keys {

class SqlKeyStore final : public KeyStore {
 public:
  explicit SqlKeyStore(std::shared_ptr<sql::SqlPool> db) : db_(std::move(db)) {}

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
};

}  // namespace llmproxy::stores::keys

namespace llmproxy::stores::keys {

// The admin API's own store (admin.db_path): a SQLite file, its directory
// created when missing, the schema migrated. Null and `error` when the file
// cannot be opened or migrated.
std::shared_ptr<KeyStore> open_sqlite_key_store(const std::string& path, std::string& error);

// serve's opener: one store per file while it is in use, so that a reload
// (which builds a new gateway and opens again) gets the running store and
// its pool instead of a second pool and a second migration on the same
// file. Not thread-safe: serve builds gateways on its main thread only.
class SqliteKeyStores {
 public:
  std::shared_ptr<KeyStore> open(const std::string& path, std::string& error);

 private:
  std::map<std::string, std::weak_ptr<KeyStore>> open_;  // by path
};

}  // namespace llmproxy::stores::keys
