// The builtin provider's store (BEHAVIOR §7, §9): the admin key store, rows
// found by the key's hex SHA-256 (the key itself is never stored there).
// A row is checked like any input (stored_key.h): one that cannot be read
// is a failed lookup, logged with the key's prefix.
#pragma once

#include <memory>

#include "proxy/modules/auth/key_source.h"

namespace llmproxy::modules::auth {

class BuiltinSource final : public KeySource {
 public:
  explicit BuiltinSource(std::shared_ptr<stores::keys::KeyStore> store) : store_(std::move(store)) {}
  env::Task<SourceAnswer> lookup(const LookupRequest& req) override;
  env::Task<stores::keys::Status> add_usage(const std::string& store_ref, std::int64_t tokens,
                                            std::optional<std::int64_t> period_start) override;

 private:
  std::shared_ptr<stores::keys::KeyStore> store_;
};

}  // namespace llmproxy::modules::auth
