// The real AdminApi over an in-memory key store, driven one call at a time
// on a local io_context, for the admin_request fuzz target. The store is
// wrapped so the target can see whether a call reached it, and can make it
// fail (every call `unavailable`) to reach the API's 503 path.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proxy/modules/admin/admin_api.h"
#include "proxy/stores/keys/memory_key_store.h"

namespace llmproxy::fuzz {

// Counts the calls that reach the store; `fail` answers each one unavailable.
class CountingStore final : public stores::keys::KeyStore {
 public:
  int calls = 0;
  bool fail = false;

  env::Task<stores::keys::Found> find(std::string hash) override;
  env::Task<stores::keys::Status> create(stores::keys::StoredKey key) override;
  env::Task<stores::keys::Status> update(stores::keys::StoredKey key) override;
  env::Task<stores::keys::Status> remove(std::string hash) override;
  env::Task<stores::keys::Page> list(std::int64_t offset, std::int64_t limit) override;
  env::Task<stores::keys::Status> sync(std::vector<stores::keys::StoredKey> keys,
                                       stores::keys::SyncMode mode) override;
  env::Task<stores::keys::Status> add_usage(std::string hash, std::int64_t tokens,
                                            std::optional<std::int64_t> period_start) override;

 private:
  stores::keys::MemoryKeyStore inner_;
};

// How the admin token travels in one call.
struct Credentials {
  bool x_admin_token = false;   // X-Admin-Token instead of Authorization: Bearer
  bool lower_scheme = false;    // "bearer " (schemes are case-insensitive)
  bool empty_other = false;     // the other header present, empty
  std::string token;            // "" = no header
};

struct Answer {
  int status = 0;
  std::string body;
  std::vector<std::string> log;  // the system log lines the call wrote
};

class AdminHarness {
 public:
  static constexpr const char* kToken = "fuzz-admin-token-Qx7";

  AdminHarness();

  // One call through handle_async; aborts when it throws.
  Answer call(std::string_view path, std::string body, const Credentials& who, bool post = true);
  // A POST with the right token in Authorization.
  Answer admin(std::string_view path, std::string body);

  CountingStore& store() { return *store_; }
  bool random_fails = false;

 private:
  std::shared_ptr<CountingStore> store_ = std::make_shared<CountingStore>();
  std::unique_ptr<modules::admin::AdminApi> api_;
  std::uint8_t next_random_ = 0;
};

}  // namespace llmproxy::fuzz
