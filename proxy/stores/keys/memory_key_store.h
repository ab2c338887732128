// KeyStore in memory: one process, every worker of it (a mutex guards the
// map; calls are short and never wait on I/O). For the simulator, `conform`
// and tests; nothing survives a restart.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "proxy/stores/keys/key_store.h"

namespace llmproxy::stores::keys {

class MemoryKeyStore final : public KeyStore {
 public:
  env::Task<Found> find(std::string hash) override;
  env::Task<Status> create(StoredKey key) override;
  env::Task<Status> update(StoredKey key) override;
  env::Task<Status> remove(std::string hash) override;
  env::Task<Page> list(std::int64_t offset, std::int64_t limit) override;
  env::Task<Status> sync(std::vector<StoredKey> keys, SyncMode mode) override;
  env::Task<Status> add_usage(std::string hash, std::int64_t tokens,
                              std::optional<std::int64_t> period_start) override;

 private:
  std::mutex mu_;
  std::map<std::string, StoredKey> keys_;  // by hash (a string: ordered by value, never by address)
};

}  // namespace llmproxy::stores::keys
