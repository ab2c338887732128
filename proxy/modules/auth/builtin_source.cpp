#include "proxy/modules/auth/builtin_source.h"

#include "proxy/modules/auth/stored_key.h"

namespace llmproxy::modules::auth {

env::Task<SourceAnswer> BuiltinSource::lookup(const LookupRequest& req) {
  const stores::keys::Found found = co_await store_->find(llmproxy::auth::to_hex(req.hash));
  if (found.status.outcome == stores::keys::Outcome::not_found) co_return SourceAnswer::unknown();
  if (!found.status.ok()) co_return SourceAnswer::failed("the admin key store failed: " + found.status.message);
  auto record = record_from_stored(*found.key, req.hash);
  if (!record)
    co_return SourceAnswer::failed("a key row in the admin key store cannot be read (fix or rewrite the row): " +
                                   found.key->prefix + ": " + record.error);
  record.value->provider = req.provider;
  record.value->store_ref = record.value->id;
  co_return SourceAnswer::known(std::move(*record.value));
}

env::Task<stores::keys::Status> BuiltinSource::add_usage(const std::string& store_ref, std::int64_t tokens,
                                                         std::optional<std::int64_t> period_start) {
  co_return co_await store_->add_usage(store_ref, tokens, period_start);
}

}  // namespace llmproxy::modules::auth
