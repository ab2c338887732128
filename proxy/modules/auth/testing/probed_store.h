// A memory key store for auth tests that counts lookups and can be broken
// (every find and add_usage then fails as a database that is down would).
#pragma once

#include "proxy/stores/keys/memory_key_store.h"

namespace llmproxy::modules::auth::testing {

class ProbedStore final : public stores::keys::KeyStore {
 public:
  env::Task<stores::keys::Found> find(std::string hash) override {
    ++finds;
    if (broken) co_return stores::keys::Found{{stores::keys::Outcome::unavailable, "database is down"}, {}};
    co_return co_await inner.find(std::move(hash));
  }
  env::Task<stores::keys::Status> create(stores::keys::StoredKey k) override { return inner.create(std::move(k)); }
  env::Task<stores::keys::Status> update(stores::keys::StoredKey k) override { return inner.update(std::move(k)); }
  env::Task<stores::keys::Status> remove(std::string h) override { return inner.remove(std::move(h)); }
  env::Task<stores::keys::Page> list(std::int64_t o, std::int64_t l) override { return inner.list(o, l); }
  env::Task<stores::keys::Status> sync(std::vector<stores::keys::StoredKey> k, stores::keys::SyncMode m) override {
    return inner.sync(std::move(k), m);
  }
  env::Task<stores::keys::Status> add_usage(std::string h, std::int64_t t, std::optional<std::int64_t> p) override {
    if (broken) co_return stores::keys::Status{stores::keys::Outcome::unavailable, "database is down"};
    co_return co_await inner.add_usage(std::move(h), t, p);
  }

  stores::keys::MemoryKeyStore inner;
  int finds = 0;
  bool broken = false;
};

}  // namespace llmproxy::modules::auth::testing
