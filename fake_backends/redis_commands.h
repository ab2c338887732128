// The data commands of the fake Redis server: what the rate limiter's Lua
// scripts (proxy/stores/redis/limiter_scripts.cpp) call, plus a few cheap
// neighbours. They run the same way at top level and from redis.call.
//
//   PING [msg]  ECHO msg  TIME
//   HGET key field      HMGET key field…     HSET key field value [field value…]
//   PEXPIRE key ms      PTTL key             DEL key…   EXISTS key…
//   ZADD key score member [score member…]    ZCARD key  ZREM key member…
//   ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
//   ZREMRANGEBYSCORE key min max
//
// Replies and error texts are Redis 7's. Scores are doubles as in Redis
// (min/max accept "(x" for exclusive, -inf, +inf); scores are written with
// %.17g. A key of the other type answers WRONGTYPE; an empty hash or sorted
// set does not exist. Not implemented, and answered with an error starting
// "ERR fake redis:" so a caller notices at once: the options of PEXPIRE
// (NX/XX/GT/LT) and ZADD (NX/XX/GT/LT/CH/INCR).
//
// TIME reads the environment's wall clock (virtual in the simulator); key
// expiry uses it in milliseconds (redis_keyspace.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "fake_backends/redis_keyspace.h"
#include "fake_backends/redis_resp.h"
#include "proxy/core/time.h"

namespace llmproxy::fake {

struct CommandContext {
  RedisDatabase& db;
  WallTime now;  // the server's clock for this command (a script's for all its calls)

  std::int64_t now_ms() const;
};

using CommandHandler = RespValue (*)(CommandContext&, std::span<const std::string>);

struct DataCommand {
  std::string_view name;  // lowercase
  int arity;              // Redis's convention: n = exactly n words, -n = at least n
  CommandHandler run;
};

// The data command named `name` (any case), or null.
const DataCommand* find_data_command(std::string_view name);
// True when argv's length fits the command's arity.
bool arity_ok(const DataCommand& c, std::size_t argc);

// Redis's integer syntax (string2ll): an optional '-', digits, no leading
// zeros, no '+', no spaces.
bool parse_redis_int(std::string_view s, std::int64_t& out);

// %.17g, as Redis formats scores and Lua numbers passed to redis.call.
std::string format_double(double d);

}  // namespace llmproxy::fake
