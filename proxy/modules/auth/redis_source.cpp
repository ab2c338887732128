#include "proxy/modules/auth/redis_source.h"

#include <array>

#include "proxy/modules/auth/key_fields.h"

namespace llmproxy::modules::auth {
namespace {

using stores::keys::Outcome;
using stores::keys::Status;
using stores::redis::Reply;

constexpr std::string_view kPlaceholder = "{api_key}";

// KEYS[1] the API key's Redis key; ARGV[1] tokens (> 0); ARGV[2] the start
// of the key's current quota period in unix seconds, or "" for a key
// without periods. Replies 1, or 0 when the Redis key is gone; an error
// reply for a value that is neither a hash nor a JSON object.
// A used_quota or quota_reset_at that is not a number is replaced, not
// added to: the lookup refuses such a value anyway, and the next lookup
// then reads what was charged.
const stores::redis::Script kChargeScript(R"lua(
local k = KEYS[1]
local tokens = tonumber(ARGV[1])
local start = tonumber(ARGV[2])
local kind = redis.call('TYPE', k)['ok']
local function next_count(used, since)
  used = tonumber(used) or 0
  since = tonumber(since)
  if start ~= nil and (since == nil or since < start) then
    if since == nil then return used + tokens, start end
    return tokens, start
  end
  return used + tokens, since
end
if kind == 'hash' then
  local used, since = unpack(redis.call('HMGET', k, 'used_quota', 'quota_reset_at'))
  local n, s = next_count(used, since)
  if s ~= nil then
    redis.call('HSET', k, 'used_quota', string.format('%d', n), 'quota_reset_at', string.format('%d', s))
  else
    redis.call('HSET', k, 'used_quota', string.format('%d', n))
  end
  return 1
elseif kind == 'string' then
  local ok, v = pcall(cjson.decode, redis.call('GET', k))
  if not ok or type(v) ~= 'table' then return redis.error_reply('the value is not a JSON object') end
  local n, s = next_count(v['used_quota'], v['quota_reset_at'])
  v['used_quota'] = n
  if s ~= nil then v['quota_reset_at'] = s end
  redis.call('SET', k, cjson.encode(v), 'KEEPTTL')
  return 1
elseif kind == 'none' then
  return 0
end
return redis.error_reply('the value is a ' .. kind .. ', not a hash or a JSON string')
)lua");

bool wrong_type(const Reply& r) { return r.is_error() && r.str.starts_with("WRONGTYPE"); }

}  // namespace

std::string redis_key_name(std::string_view pattern, std::string_view key) {
  std::string out;
  out.reserve(pattern.size() + key.size());
  for (std::size_t i = 0; i < pattern.size();) {
    if (pattern.substr(i, kPlaceholder.size()) == kPlaceholder) {
      out += key;
      i += kPlaceholder.size();
    } else {
      out += pattern[i++];
    }
  }
  return out;
}

RedisSource::RedisSource(env::Env& env, std::shared_ptr<stores::redis::RedisClient> client, std::string key_pattern)
    : env_(env), client_(std::move(client)), pattern_(std::move(key_pattern)) {}

env::Task<SourceAnswer> RedisSource::lookup(const LookupRequest& req) {
  std::string name = redis_key_name(pattern_, req.key);
  const std::string prefix = llmproxy::auth::key_prefix(req.key);
  stores::redis::error_code ec;
  Reply reply = co_await client_->call(ec, "HGETALL", name);
  KeyFields fields;
  if (wrong_type(reply)) {
    ec = {};
    reply = co_await client_->call(ec, "GET", name);
    if (!ec && reply.is_nil()) co_return SourceAnswer::unknown();  // deleted between the two
    if (ec) co_return SourceAnswer::failed("redis: GET " + prefix + ": " + (reply.is_error() ? reply.str : ec.message()));
    if (!reply.is_text()) co_return SourceAnswer::failed("redis: " + prefix + ": GET answered " + reply.describe());
    auto json = fields_from_json(reply.str);
    if (!json) co_return SourceAnswer::failed("redis: " + prefix + ": the value " + json.error);
    fields = std::move(*json.value);
  } else {
    if (ec) co_return SourceAnswer::failed("redis: HGETALL " + prefix + ": " + (reply.is_error() ? reply.str : ec.message()));
    if (!reply.is_array() || reply.elements.size() % 2 != 0)
      co_return SourceAnswer::failed("redis: " + prefix + ": HGETALL answered " + reply.describe());
    if (reply.elements.empty()) co_return SourceAnswer::unknown();
    for (std::size_t i = 0; i < reply.elements.size(); i += 2) {
      auto& field = reply.elements[i];
      auto& value = reply.elements[i + 1];
      if (!field.is_text() || !value.is_text())
        co_return SourceAnswer::failed("redis: " + prefix + ": HGETALL answered " + reply.describe());
      fields.emplace_back(std::move(field.str), std::move(value.str));
    }
  }
  auto record = record_from_fields(fields, req.key, req.hash, req.provider, std::move(name), env_.wall_now());
  if (!record) co_return SourceAnswer::failed("redis: " + prefix + ": " + record.error);
  co_return SourceAnswer::known(std::move(*record.value));
}

env::Task<Status> RedisSource::add_usage(const std::string& store_ref, std::int64_t tokens,
                                         std::optional<std::int64_t> period_start) {
  const std::string amount = std::to_string(tokens);
  const std::string start = period_start ? std::to_string(*period_start) : std::string();
  const std::array<std::string_view, 1> keys = {store_ref};
  const std::array<std::string_view, 2> args = {amount, start};
  stores::redis::error_code ec;
  const Reply reply = co_await client_->eval(kChargeScript, keys, args, ec);
  if (ec) co_return Status{Outcome::unavailable, "redis: " + (reply.is_error() ? reply.str : ec.message())};
  if (reply.is_integer() && reply.integer == 0) co_return Status{Outcome::not_found, {}};
  co_return Status{};
}

}  // namespace llmproxy::modules::auth
