// A Redis client written against the environment seam (env::Env/Stream), so
// the same code runs on real sockets and in the simulator. hiredis is used
// only for the protocol (reply.h); we own the connection.
//
// - One connection per client (one client per worker), pipelined: any number
//   of coroutines may call command() at once; their commands are written in
//   call order by one writer at a time (a caller that finds no write in
//   progress writes everything queued, batching the others' commands) and
//   one reader loop hands replies back in FIFO order.
// - Deadlines: a command fails with asio::error::timed_out when its reply has
//   not arrived by its deadline (default: now + write_timeout + read_timeout);
//   connecting and the AUTH/SELECT handshake are bounded by dial_timeout and
//   read_timeout.
// - Any I/O error, protocol error or timeout drops the connection: every
//   pending command fails with the cause (timed_out, eof, connection_reset,
//   errc::protocol_error, …) and the next
//   command reconnects. A failed connect (or a connection that fails before
//   the server answered anything) starts a backoff (50 ms doubling to 2 s)
//   during which commands fail fast with errc::backoff; the first reply on a
//   connection resets it.
// - Server error replies come back as a Reply of type error with
//   ec = errc::server_error.
// - Destroying the client with commands pending fails them with
//   operation_aborted; their callers resume later without touching it.
// Not thread-safe: one instance per event loop, used from its executor.
#pragma once

#include <cstdint>
#include <deque>
#include <array>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/core/config/storage.h"
#include "proxy/env/env.h"
#include "proxy/stores/redis/errors.h"
#include "proxy/stores/redis/reply.h"

namespace llmproxy::stores::redis {

using boost::system::error_code;

struct ClientConfig {
  std::string host = "localhost";
  std::uint16_t port = 6379;
  std::string password;  // "" = no AUTH
  int db = 0;            // SELECT after connecting when not 0
  Duration dial_timeout = std::chrono::seconds(5);
  Duration read_timeout = std::chrono::seconds(3);
  Duration write_timeout = std::chrono::seconds(3);
  Duration backoff_initial = std::chrono::milliseconds(50);
  Duration backoff_max = std::chrono::seconds(2);

  // From a storage.caches entry (driver redis). ec = errc::bad_address when
  // addr is not host:port ("[::1]:6379" for IPv6).
  static ClientConfig from(const config::CacheConfig& cache, error_code& ec);
};

// A Lua script called by SHA1 (EVALSHA). The client loads it (SCRIPT LOAD)
// when the server answers NOSCRIPT: after a restart, SCRIPT FLUSH or failover.
class Script {
 public:
  explicit Script(std::string source);
  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }  // lowercase hex

 private:
  std::string source_;
  std::string sha1_;
};

class RedisClient {
 public:
  RedisClient(env::Env& env, ClientConfig cfg);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Sends one command (e.g. {"SET", key, value}) and waits for its reply.
  // `args` and the bytes they view must stay valid until the call completes
  // (co_await it at once; eval() re-sends them after NOSCRIPT).
  env::Task<Reply> command(std::span<const std::string_view> args, error_code& ec);
  env::Task<Reply> command(std::span<const std::string_view> args, TimePoint deadline,
                           error_code& ec);
  // Convenience: co_await c.call(ec, "SET", key, value). (A braced list
  // argument would be simpler to read, but GCC 12 cannot keep an
  // initializer_list's array across a co_await: "array used as initializer".)
  template <class... Args>
  env::Task<Reply> call(error_code& ec, const Args&... args) {
    const std::array<std::string_view, sizeof...(Args)> argv = {std::string_view(args)...};
    co_return co_await command(std::span<const std::string_view>(argv), ec);
  }

  // EVALSHA script.sha1 numkeys keys… args…; on NOSCRIPT loads the script and
  // retries once (SCRIPT LOAD and the retry go out in one write).
  env::Task<Reply> eval(const Script& script, std::span<const std::string_view> keys,
                        std::span<const std::string_view> args, error_code& ec);

  bool connected() const;
  // Shutdown: drops the connection (pending commands fail with
  // operation_aborted) and makes every later command fail the same way, so
  // nothing keeps the event loop alive. A client shared by several modules
  // (shared_clients.h) closes at the last user's close().
  void close();
  // One more module uses this client and will call close() once.
  void add_user() { ++users_; }
  // Opens the connection now instead of at the first command
  // (storage.caches min_idle_conns); nothing when open, opening, closed or
  // within a reconnect backoff. A failure is only logged by the backoff:
  // the next command tries again.
  void connect_now();
  // The last server error text seen while connecting (AUTH/SELECT), for logs.
  const std::string& last_handshake_error() const { return handshake_error_; }
  const ClientConfig& config() const { return cfg_; }

  // Counters (for tests and metrics).
  std::uint64_t connects() const { return connects_; }          // successful handshakes
  std::uint64_t connection_drops() const { return drops_; }
  std::uint64_t script_loads() const { return script_loads_; }

  struct Connection;  // shared with the connection's reader and watchdog loops
  struct Pending;

 private:
  env::Task<void> roundtrip(std::span<Pending> batch, std::span<const std::string_view>* cmds,
                            TimePoint deadline, error_code& ec);
  env::Task<void> establish(std::shared_ptr<Connection> conn);
  env::Task<void> open_now(std::shared_ptr<Connection> conn);
  env::Task<void> flush(std::shared_ptr<Connection> conn);
  env::Task<void> wait(Pending& p);
  void drop(Connection& conn, error_code cause);
  void on_connect_failed(Connection& conn, error_code ec);
  std::unique_ptr<env::Timer> take_timer();
  void give_timer(std::unique_ptr<env::Timer> t);

  friend env::Task<void> read_loop(std::shared_ptr<Connection> conn);
  friend env::Task<void> watchdog_loop(std::shared_ptr<Connection> conn);

  env::Env& env_;
  ClientConfig cfg_;
  int users_ = 1;                     // close() calls still to come
  std::shared_ptr<Connection> conn_;  // null = disconnected
  TimePoint next_attempt_{};          // no connect before this (backoff)
  Duration backoff_{};
  std::vector<std::unique_ptr<env::Timer>> idle_timers_;  // wake-up timers for waiting commands
  std::string handshake_error_;
  std::uint64_t connects_ = 0;
  std::uint64_t drops_ = 0;
  std::uint64_t script_loads_ = 0;
  bool handshake_failing_ = false;  // logs a handshake failure once per streak
  bool closed_ = false;
  // False once the client is destroyed: a caller woken by the destructor's
  // drop resumes after it and must not touch the client (wait()).
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace llmproxy::stores::redis
