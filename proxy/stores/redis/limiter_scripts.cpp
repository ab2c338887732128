// Lua run inside Redis (EVALSHA) by RedisLimiterStore. Each script is one
// atomic step, so any number of gateway instances sharing the server share
// every limit exactly. The semantics are those of the memory limiter
// (proxy/core/ratelimit/memory_limiter.h), with these Redis specifics:
//
// - Clock: redis.call('TIME'), so all instances share one clock (scripts
//   replicate their effects, not themselves: the default since Redis 5,
//   asked for explicitly on 3.2–4.x). Time is
//   kept in integer microseconds (< 2^53, exact in Lua's doubles); a GCRA
//   spacing is rounded up to whole microseconds, which makes a limit stricter
//   by under 1 µs per request.
// - Numbers are written with string.format('%.0f'): tostring() prints only 14
//   significant digits and would round timestamps.
// - Keys (prefix llmproxy:rl: by default; the API key itself never appears,
//   only a hash of it):
//     llmproxy:rl:g           hash: GCRA TAT of each global rule (field = rule tag)
//     llmproxy:rl:k:<hash>    hash: TAT of each per-key rule, token bucket
//                             `full_at` (µs) and `reserved` (tokens held by
//                             requests in flight)
//     llmproxy:rl:k:<hash>:s  sorted set of the key's requests in flight:
//                             member "<gateway id>-<seq>:<reservation>",
//                             score = when the slot expires (µs)
// - Expiry: every hash gets PEXPIRE for the time its state needs to return to
//   "fresh" (latest TAT / full_at) plus 1 s, so idle keys disappear.
// - Safety TTL for slots: a gateway that crashes never calls finish, so each
//   slot carries its own expiry (slot_ttl, default 10 min; serve wiring sets
//   max(2 × attempt timeout, 10 min)). Admission first removes expired slots
//   and gives back their reservations, so a crash costs at most slot_ttl of
//   reduced capacity and never holds a slot forever, even on a busy key. A
//   request still running after slot_ttl loses its slot (the limit may then be
//   exceeded by it), and the hash keeps at least slot_ttl of life while
//   reservations are held.
// - One server (or one primary): the keys of a script are not in one hash
//   slot, so Redis Cluster is not supported.
#include "proxy/stores/redis/limiter_scripts.h"

namespace llmproxy::stores::redis {

// KEYS[1] global hash, KEYS[2] per-key hash, KEYS[3] per-key slot set.
// ARGV[1] = n (request rules, global ones first, as in LimitSet::rules);
// then 4 per rule: field tag, scope ("g"/"k"), emission µs, tolerance µs;
// then token capacity per minute (0 = none), this request's reservation,
// max_concurrent (0 = none), slot TTL in ms, slot member ("" = no slot kept:
// no token or concurrency limit).
// Returns the AdmitReply array (limiter_scripts.h).
const std::string_view kAdmitScript = R"lua(
if redis.replicate_commands then redis.replicate_commands() end  -- Redis < 5: allow TIME before writes
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function num(x) return string.format('%.0f', x) end

local n = tonumber(ARGV[1])
local base = 2 + 4 * n
local cap = tonumber(ARGV[base])
local reservation = tonumber(ARGV[base + 1])
local max_conc = tonumber(ARGV[base + 2])
local slot_ttl_ms = tonumber(ARGV[base + 3])
local member = ARGV[base + 4]

-- The rejection reported is the rule that waits longest; of rules that wait
-- exactly as long, the first in the memory limiter's order: per-key request
-- rules, tokens, concurrency, then global request rules.
local admitted, rejected_by, wait = 1, 0, 0
local function reject(idx, w)
  if admitted == 1 or w > wait then rejected_by, wait = idx, w end
  admitted = 0
end

-- Request rules (GCRA): admitted iff max(TAT, now) - tolerance <= now.
local tats, waits = {}, {}
for i = 1, n do
  local o = 2 + 4 * (i - 1)
  local key = (ARGV[o + 1] == 'g') and KEYS[1] or KEYS[2]
  local tat = tonumber(redis.call('HGET', key, ARGV[o])) or now
  if tat < now then tat = now end
  tats[i] = tat
  waits[i] = tat - tonumber(ARGV[o + 3]) - now
end
local function reject_rules(scope)
  for i = 1, n do
    if ARGV[2 + 4 * (i - 1) + 1] == scope and waits[i] > 0 then reject(i, waits[i]) end
  end
end
reject_rules('k')

-- Slots in flight: drop the expired ones (a gateway died) and give back
-- their reservations, then count.
local full_at, reserved = now, 0
local key_dirty = false
if cap > 0 then
  local st = redis.call('HMGET', KEYS[2], 'full_at', 'reserved')
  full_at = tonumber(st[1]) or now
  reserved = tonumber(st[2]) or 0
end
local in_flight = 0
if member ~= '' then
  local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
  if #expired > 0 then
    for _, m in ipairs(expired) do
      reserved = reserved - (tonumber(string.match(m, ':(%d+)$')) or 0)
    end
    if reserved < 0 then reserved = 0 end
    redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
    key_dirty = true
  end
  in_flight = redis.call('ZCARD', KEYS[3])
end

-- Tokens: admitted while the level minus what is reserved is above zero.
local us_per_token = 0
if cap > 0 then
  us_per_token = 60000000 / cap
  local used = math.max(0, full_at - now) + reserved * us_per_token
  if used >= 60000000 then reject(n + 1, math.floor(used - 60000000) + 1) end
end
if max_conc > 0 and in_flight >= max_conc then reject(n + 2, 1000000) end
reject_rules('g')

-- Commit everything or nothing.
local global_dirty = false
if admitted == 1 then
  for i = 1, n do
    local o = 2 + 4 * (i - 1)
    tats[i] = tats[i] + tonumber(ARGV[o + 2])
    if ARGV[o + 1] == 'g' then
      redis.call('HSET', KEYS[1], ARGV[o], num(tats[i]))
      global_dirty = true
    else
      redis.call('HSET', KEYS[2], ARGV[o], num(tats[i]))
      key_dirty = true
    end
  end
  if cap > 0 then reserved = reserved + reservation end
  if member ~= '' then
    redis.call('ZADD', KEYS[3], num(now + slot_ttl_ms * 1000), member)
    redis.call('PEXPIRE', KEYS[3], slot_ttl_ms + 1000)
  end
end
if cap > 0 and (key_dirty or admitted == 1) then
  redis.call('HSET', KEYS[2], 'full_at', num(full_at), 'reserved', num(reserved))
  key_dirty = true
end

-- Expiry: until every TAT and full_at is in the past, plus 1 s; while
-- reservations are held, at least the slot TTL.
if global_dirty or key_dirty then
  local g_until, k_until = 0, 0
  for i = 1, n do
    local o = 2 + 4 * (i - 1)
    if ARGV[o + 1] == 'g' then g_until = math.max(g_until, tats[i] - now)
    else k_until = math.max(k_until, tats[i] - now) end
  end
  if global_dirty then
    redis.call('PEXPIRE', KEYS[1], math.ceil(g_until / 1000) + 1000)
  end
  if key_dirty then
    k_until = math.max(k_until, full_at - now)
    local ms = math.ceil(k_until / 1000) + 1000
    if reserved > 0 then ms = math.max(ms, slot_ttl_ms + 1000) end
    redis.call('PEXPIRE', KEYS[2], ms)
  end
end

-- Headers: the rule with the fewest requests left (ties: the first), and the bucket.
local tight, remaining, reset = 0, 0, 0
for i = 1, n do
  local o = 2 + 4 * (i - 1)
  local e = tonumber(ARGV[o + 2])
  local room = now + tonumber(ARGV[o + 3]) + e - tats[i]
  local rem = 0
  if room > 0 then rem = math.floor(room / e) end
  if tight == 0 or rem < remaining then tight, remaining, reset = i, rem, tats[i] - now end
end
local rem_tokens, reset_tokens = -1, 0
if cap > 0 then
  local used = math.max(0, full_at - now) + reserved * us_per_token
  rem_tokens = math.max(0, math.floor((60000000 - used) / us_per_token))
  reset_tokens = math.ceil(math.max(0, used))
end
return {admitted, rejected_by, wait, tight, remaining, reset, rem_tokens, reset_tokens}
)lua";

// KEYS[1] per-key hash, KEYS[2] per-key slot set.
// ARGV: token capacity per minute (0 = none), the request's reservation,
// actual tokens (-1 = unknown: the reservation is charged), slot member (""
// when admission did not record one, e.g. it failed open), slot TTL in ms.
// A slot that already expired is not found: its reservation was given back
// then, so only the charge remains. Returns 1 when the slot was found.
const std::string_view kFinishScript = R"lua(
if redis.replicate_commands then redis.replicate_commands() end  -- Redis < 5: allow TIME before writes
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function num(x) return string.format('%.0f', x) end

local cap = tonumber(ARGV[1])
local reservation = tonumber(ARGV[2])
local actual = tonumber(ARGV[3])
local member = ARGV[4]
local slot_ttl_ms = tonumber(ARGV[5])

local found = 0
if member ~= '' then found = redis.call('ZREM', KEYS[2], member) end
if cap > 0 then
  local st = redis.call('HMGET', KEYS[1], 'full_at', 'reserved')
  local full_at = tonumber(st[1]) or now
  local reserved = tonumber(st[2]) or 0
  if found == 1 then reserved = math.max(0, reserved - reservation) end
  local charged = reservation
  if actual >= 0 then charged = actual end
  -- Rounded up; capped so an absurd usage figure cannot break the arithmetic.
  full_at = math.max(full_at, now) + math.min(math.ceil(charged * 60000000 / cap), 1e14)
  redis.call('HSET', KEYS[1], 'full_at', num(full_at), 'reserved', num(reserved))
  -- Keep the per-key rules' TATs alive too: never shorten the current expiry.
  local ms = math.ceil((full_at - now) / 1000) + 1000
  if reserved > 0 then ms = math.max(ms, slot_ttl_ms + 1000) end
  ms = math.max(ms, redis.call('PTTL', KEYS[1]))
  redis.call('PEXPIRE', KEYS[1], ms)
end
return found
)lua";

}  // namespace llmproxy::stores::redis
