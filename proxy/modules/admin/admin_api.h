// The admin API (BEHAVIOR §9) as built-in endpoints, under /admin/ on the
// main listener or on admin.listen's listener alone (server/gateway.h),
// compatible with the original project's routes so its users' scripts keep
// working. Every route is POST with a JSON object body and answers the
// envelope {success, message, data, error}:
//   /admin/keys/create  {key?, fields…}  a key; without `key` one is
//                       generated ("sk-" + 64 hex digits: 32 random bytes)
//                       and returned in `data.key`, this once only
//   /admin/keys/get     {key}            the key's fields
//   /admin/keys/update  {key, fields…}   the given fields change
//   /admin/keys/delete  {key}
//   /admin/keys/list    {offset?, limit?}  data: {keys, total, offset, limit}
//   /admin/keys/sync    {mode: full|incremental, keys: [{key, fields…}]}
//                       in one transaction; `full` leaves exactly these keys
// The fields are key_json.h's. Statuses: 200 done; 400 a bad body or field
// (`message` names the field); 401 no or wrong admin token; 404 no such
// key; 405 not POST; 409 the key exists; 503 the key store failed, or no random
// bytes to generate a key with.
//
// The admin token comes as `Authorization: Bearer <token>` or
// `X-Admin-Token: <token>` and is compared through SHA-256 digests in
// constant time. Every call is logged (route, outcome, key prefix, client
// address), never a key or the token.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "proxy/core/auth/key_hash.h"
#include "proxy/shell/pipeline.h"
#include "proxy/stores/keys/key_store.h"

namespace llmproxy::modules::admin {

// Fills the span with cryptographically secure random bytes; false when
// none could be had.
using SecureRandom = std::function<bool(std::span<std::uint8_t>)>;

struct AdminOptions {
  std::string token;  // admin.token (required: check-config says so)
  std::shared_ptr<stores::keys::KeyStore> store;
  SecureRandom secure_random;  // for generated keys; unset: create needs `key`
};

class AdminApi final : public shell::EndpointHandler {
 public:
  explicit AdminApi(AdminOptions options);

  // The paths to register this handler under.
  static std::span<const std::string_view> paths();

  std::string_view allow() const override { return "POST"; }
  shell::EndpointResponse handle(const shell::Exchange& ex, std::string& body) override;
  env::Task<shell::EndpointResponse> handle_async(const shell::Exchange& ex, std::string& body) override;

 private:
  bool authorized(const shell::Exchange& ex) const;

  AdminOptions options_;
  llmproxy::auth::KeyHash token_hash_;
};

}  // namespace llmproxy::modules::admin
