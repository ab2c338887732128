// A fake Redis server written against the environment seam (proxy/env/env.h),
// so the gateway's real Redis client (proxy/stores/redis), its pipelining,
// timeouts and the rate limiter's own Lua scripts run in the simulator, on
// virtual time, against something that answers like Redis 7 — and break in
// the ways a Redis breaks. It runs unchanged on loopback sockets too
// (fake_redis_redistest.cpp compares it with a real redis-server).
//
// Protocol: RESP2 multibulk requests (redis_request_parser.h), replies as
// Redis sends them. One coroutine per connection; requests may be
// pipelined; replies leave in request order. A malformed request gets
// "-ERR Protocol error: …" and the connection is closed.
//
// Commands:
//   PING ECHO TIME HGET HMGET HSET PEXPIRE PTTL DEL EXISTS ZADD ZCARD ZREM
//     ZRANGEBYSCORE ZREMRANGEBYSCORE (redis_commands.h);
//   AUTH [default] password (when `password` is set, everything else answers
//     "NOAUTH Authentication required." before it), SELECT db (0..databases-1),
//     QUIT, SCRIPT LOAD|EXISTS|FLUSH|KILL, EVAL, EVALSHA ("-NOSCRIPT No
//     matching script. Please use EVAL." for an unknown sha);
//   Lua as Redis runs it (redis_lua.h). Anything else: "ERR unknown command".
// Time: TIME and key expiry read env.wall_now() (virtual in the simulator).
//
// Faults (for the simulator's properties; each decided when a command
// arrives, from the standing faults() and the time windows in the config,
// relative to run()'s start):
//   latency  the reply is sent this long after the command ran (replies keep
//            their order, so a pipelined reply never overtakes an earlier one);
//   hang     the command is read and dropped unexecuted, and its connection
//            answers nothing more (it keeps reading until the client leaves):
//            a stuck server as the client sees it;
//   reset    the connection is reset (RST) instead of running the command;
//   restart  (a window, or restart()) every connection is reset, every key
//            and every loaded script is lost, and connects are refused until
//            the window ends; then the server listens again on its port.
// reset_connections() resets every open connection now (data kept).
//
// Not done (deliberately): inline commands, RESP3/HELLO, transactions,
// pub/sub, replication, persistence, other data types and commands, and the
// BUSY state of a long script (the fake has an instruction budget instead).
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fake_backends/redis_keyspace.h"
#include "fake_backends/redis_lua.h"
#include "fake_backends/redis_resp.h"
#include "proxy/env/env.h"

namespace llmproxy::fake {

enum class RedisFault : std::uint8_t { latency, hang, reset, restart };
const char* to_string(RedisFault f);

// A fault active in [from, until) after run() started.
struct RedisFaultWindow {
  RedisFault kind = RedisFault::latency;
  Duration from{0};
  Duration until{0};
  Duration latency{0};  // kind latency: the delay of each reply
};

// Faults that hold until the test changes them (on top of the windows).
struct RedisStandingFaults {
  Duration latency{0};
  bool hang = false;
  bool reset = false;
};

// One script run, as the server saw it (for test oracles).
struct RedisScriptRun {
  TimePoint at{};  // the server's monotonic time (the same instant as TIME)
  std::string_view sha;
  std::span<const std::string> keys;
  std::span<const std::string> args;
  const RespValue& reply;
};

struct FakeRedisConfig {
  std::string host;          // listen address ("" = any)
  std::uint16_t port = 6379;
  std::string password;      // "" = no AUTH needed
  int databases = 16;
  LuaLimits lua;
  std::vector<RedisFaultWindow> faults;
  // Called after every EVAL/EVALSHA that ran a script.
  std::function<void(const RedisScriptRun&)> on_script;
};

struct FakeRedisStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_open = 0;
  std::uint64_t commands = 0;           // commands run (dropped ones not counted)
  std::uint64_t scripts_run = 0;
  std::uint64_t noscript_replies = 0;
  std::uint64_t protocol_errors = 0;
  std::uint64_t hung_connections = 0;   // connections the hang fault stopped
  std::uint64_t reset_connections = 0;  // by faults, restarts and reset_connections()
  std::uint64_t restarts = 0;
};

class FakeRedis {
 public:
  FakeRedis(env::Env& env, FakeRedisConfig config);
  ~FakeRedis();
  FakeRedis(const FakeRedis&) = delete;
  FakeRedis& operator=(const FakeRedis&) = delete;

  // Listens on config.host:port and serves until stop(); after stop() it
  // waits for every connection coroutine to end. ec: the listen error, if
  // the port could not be bound (then it returns at once). Destroy the fake
  // only after run() has returned.
  env::Task<void> run(env::error_code& ec);
  // Closes the listener and every connection. Idempotent; call it on the
  // fake's executor.
  void stop();

  RedisStandingFaults& faults() { return standing_; }
  void reset_connections();
  // Now: like a restart window [now, now + down_for).
  void restart(Duration down_for);

  // The port it listens on (config.port, or the one picked for port 0; a
  // restart listens again on the same one). 0 before run() has bound.
  std::uint16_t port() const { return port_; }
  const FakeRedisStats& stats() const { return stats_; }
  const FakeRedisConfig& config() const { return config_; }
  // The data (for tests: inspect or preload keys).
  RedisDatabase& database(int index) { return dbs_.at(static_cast<std::size_t>(index)); }
  RedisLua& lua() { return lua_; }

 private:
  struct Connection;
  struct Reply;

  env::Task<void> serve(std::unique_ptr<env::Stream> stream);
  env::Task<void> connection_loop(Connection& c);
  env::Task<void> restart_timeline();
  // Runs one command; `close` is set when the connection ends after the reply.
  RespValue execute(Connection& c, std::span<const std::string> argv, bool& close);
  RespValue script_command(std::span<const std::string> argv);
  RespValue eval(Connection& c, std::span<const std::string> argv, bool by_sha);
  Duration latency_now() const;
  bool active(RedisFault kind) const;
  void task_ended();

  env::Env& env_;
  FakeRedisConfig config_;
  FakeRedisStats stats_;
  RedisStandingFaults standing_;
  std::vector<RedisDatabase> dbs_;
  RedisLua lua_;
  TimePoint start_{};
  TimePoint down_until_{};
  std::uint16_t port_ = 0;
  bool stopping_ = false;
  std::unique_ptr<env::Acceptor> acceptor_;
  std::unique_ptr<env::Timer> wait_timer_;      // run(): down time, then the final drain
  std::unique_ptr<env::Timer> timeline_timer_;  // restart windows
  std::list<Connection*> connections_;
  int tasks_ = 0;                               // connection and timeline coroutines alive
};

}  // namespace llmproxy::fake
