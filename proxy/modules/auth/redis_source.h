// The redis provider (BEHAVIOR §7): keys a team keeps in its own Redis, one
// Redis key per API key, named by `key_pattern` with `{api_key}` replaced by
// the key as presented ("llmproxy:key:{api_key}" → "llmproxy:key:sk-…").
//
// The value is either a hash (HSET llmproxy:key:sk-… status enabled
// total_quota 100000 …) or a string holding one JSON object with the same
// fields; key_fields.h says which fields are read and how. No such Redis
// key: the API key is unknown (401). A value of another type, JSON that is
// not an object, or a field that cannot be read: the lookup failed (503,
// logged with the key's prefix and the field), so a broken entry never
// lets a key in on rules that could not be read.
//
// Lookup: HGETALL, one round trip for a hash; a string answers WRONGTYPE
// and is then read with GET (a second round trip).
// Usage: one script (EVALSHA, kChargeScript) adds the tokens to the
// value's used_quota atomically, hash or JSON, and restarts the count
// (used_quota = tokens, quota_reset_at = the period's start, unix seconds)
// when the value's quota_reset_at is before the current period. A value
// without quota_reset_at is counted as the current period's. Several
// gateway instances sharing the Redis therefore add to one counter.
//
// The worker's client of the storage.caches entry `storage` names (one
// pipelined connection, redis_client.h), shared with the worker's other
// modules on that entry (shared_clients.h).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "proxy/modules/auth/key_source.h"
#include "proxy/stores/redis/redis_client.h"

namespace llmproxy::modules::auth {

// `pattern` with every "{api_key}" replaced by `key`.
std::string redis_key_name(std::string_view pattern, std::string_view key);

class RedisSource final : public KeySource {
 public:
  RedisSource(env::Env& env, std::shared_ptr<stores::redis::RedisClient> client, std::string key_pattern);
  env::Task<SourceAnswer> lookup(const LookupRequest& req) override;
  env::Task<stores::keys::Status> add_usage(const std::string& store_ref, std::int64_t tokens,
                                            std::optional<std::int64_t> period_start) override;
  bool ordered() const override { return true; }  // one pipelined connection
  void close() override { client_->close(); }

  const stores::redis::RedisClient& client() const { return *client_; }

 private:
  env::Env& env_;
  std::shared_ptr<stores::redis::RedisClient> client_;
  std::string pattern_;
};

}  // namespace llmproxy::modules::auth
