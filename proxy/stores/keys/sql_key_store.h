// KeyStore in a storage.databases entry: the llmproxy_api_keys table of
// proxy/stores/sql/migrations.cpp, through a SqlPool (so no call blocks an
// event loop). Shared by every gateway instance on the same database.
// A failed statement is `unavailable` with the driver's message.
#pragma once

#include <memory>

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
  env::Task<Status> add_usage(std::string hash, std::int64_t tokens) override;

 private:
  std::shared_ptr<sql::SqlPool> db_;
};

}  // namespace llmproxy::stores::keys

namespace llmproxy::stores::keys {

// The admin API's own store (admin.db_path): a SQLite file, its directory
// created when missing, the schema migrated. Null and `error` when the file
// cannot be opened or migrated.
std::shared_ptr<KeyStore> open_sqlite_key_store(const std::string& path, std::string& error);

}  // namespace llmproxy::stores::keys
