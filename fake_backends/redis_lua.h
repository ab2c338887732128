// Lua scripting of the fake Redis server (EVAL, EVALSHA, SCRIPT): an
// embedded Lua 5.4 VM made to behave like Redis 7's Lua 5.1 for what scripts
// can observe, so the gateway's own limiter scripts run unmodified.
//
// What a script sees:
//   - KEYS and ARGV (strings); reading an undefined global is an error
//     ("Script attempted to access nonexistent global variable 'x'") and
//     writing one too ("Attempt to modify a readonly table"), as in Redis 7;
//   - the base, table, string and math libraries, without print, dofile,
//     loadfile, require, os and io; `load` takes text only (bytecode could
//     crash the VM); `unpack` as in 5.1;
//   - numbers as in Lua 5.1, where every number is a double: tonumber() and
//     integer replies give floats, so arithmetic cannot wrap around as 5.4's
//     integers would, and tostring() prints floats with %.14g ("5", not
//     "5.0"). The `..` operator still prints "5.0": 5.4 gives no hook for it;
//   - math.random seeded from the environment's generator, never from time;
//   - redis.call / redis.pcall for the data commands (redis_commands.h);
//     other commands are refused ("ERR This Redis command is not allowed
//     from script" for EVAL, SCRIPT, AUTH, SELECT, …; "ERR Unknown Redis
//     command called from script" otherwise); redis.error_reply,
//     redis.status_reply, redis.sha1hex, redis.log (ignored),
//     redis.replicate_commands (true), redis.LOG_* constants.
//
// Conversions (Redis's rules, RESP2):
//   reply → Lua: integer → number, bulk → string, nil bulk / nil array →
//     false, status → {ok=…}, error → {err=…} (redis.call raises it instead),
//     array → table;
//   Lua → reply: number → integer (truncated toward zero; out of range →
//     INT64_MIN, like the x86 conversion Redis does), string → bulk, true →
//     1, false and nil → nil bulk, {err=s} → error, {ok=s} → status, other
//     tables → array up to the first nil (128 levels deep at most: there an
//     error element "ERR reached lua stack limit" stands in, as Redis puts
//     one where its C stack runs out, about 2,000 levels down).
//
// Errors: a runtime error becomes "ERR user_script:<line>: <msg> script:
// <sha>, on @user_script:<line>."; a redis.call error "<its error> script:
// …"; a compile error "ERR Error compiling script (new function): …".
//
// Deterministic limits instead of Redis's lua-time-limit: a script runs at
// most `instruction_budget` VM instructions and the VM may hold at most
// `memory_limit` bytes; past either the script fails with an error reply
// (Redis would answer BUSY to other clients and wait for SCRIPT KILL). The
// server's state is not rolled back, as in Redis.
//
// Not done: cjson, cmsgpack, bit, struct; redis.setresp, redis.set_repl,
// the debugger; SELECT inside a script. pairs() over string keys follows the
// Lua library's own hash seed (the packaged liblua draws it from time and
// addresses): no script of ours depends on that order, and none should.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "fake_backends/redis_commands.h"
#include "fake_backends/redis_resp.h"

struct lua_State;

namespace llmproxy::fake {

struct LuaLimits {
  std::uint64_t instruction_budget = 10'000'000;
  std::size_t memory_limit = 64 * 1024 * 1024;
};

class RedisLua {
 public:
  // `seed` seeds math.random (and the VMs made by flush()).
  RedisLua(std::uint64_t seed, LuaLimits limits = {});
  ~RedisLua();
  RedisLua(const RedisLua&) = delete;
  RedisLua& operator=(const RedisLua&) = delete;

  // SCRIPT LOAD: compiles `source` and keeps it under its SHA1 (the
  // gateway's stores::redis::Script computes the same). The reply is the
  // sha as a bulk string, or the compile error.
  RespValue load(std::string_view source);
  // Whether a script with this SHA1 (any case) is loaded.
  bool exists(std::string_view sha) const;
  // SCRIPT FLUSH, and a restart: every script is forgotten, the VM is new.
  void flush();

  // Runs the loaded script `sha` (lowercase) with its KEYS and ARGV; its
  // redis.call commands run against `ctx`. NOSCRIPT when it is not loaded.
  RespValue run(std::string_view sha, std::span<const std::string> keys,
                std::span<const std::string> args, CommandContext& ctx);

  std::size_t memory_in_use() const { return memory_; }

 private:
  friend struct LuaCallbacks;  // the VM's C callbacks (redis_lua.cpp)
  struct Run;                  // the script running now

  void open();
  void close();
  static void* allocate(void* self, void* ptr, std::size_t old_size, std::size_t new_size);

  std::uint64_t seed_;
  std::uint64_t generation_ = 0;  // VMs made so far: each flush() reseeds differently
  LuaLimits limits_;
  lua_State* L_ = nullptr;
  std::size_t memory_ = 0;
  int env_metatable_ = 0;                            // registry reference
  std::map<std::string, int, std::less<>> scripts_;  // sha → registry reference
  Run* current_ = nullptr;
  std::uint64_t steps_ = 0;                          // instructions of the current run
};

}  // namespace llmproxy::fake
