#include "proxy/stores/redis/redis_client.h"

#include <boost/asio/co_spawn.hpp>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <exception>

#include "proxy/core/log/log.h"
#include "proxy/core/util/url.h"

namespace llmproxy::stores::redis {

namespace asio = boost::asio;

// One command waiting for its reply; lives in the calling coroutine's frame.
struct RedisClient::Pending {
  Reply reply;
  error_code ec;
  TimePoint deadline = kNoDeadline;
  bool done = false;
  env::Timer* wake = nullptr;             // set while the caller sleeps
  std::shared_ptr<Connection> queued_on;  // while in a connection's queue

  Pending() = default;
  Pending(const Pending&) = delete;
  Pending& operator=(const Pending&) = delete;
  // A caller destroyed while waiting (its event loop shut down) leaves the
  // queue, so nothing completes a dead object later.
  ~Pending();

  void complete(error_code e) {
    ec = e;
    done = true;
    queued_on.reset();
    if (wake != nullptr) wake->cancel();
  }
};

// One TCP connection and everything queued on it. Shared by the client (while
// current), the coroutines writing to it, its reader loop and its watchdog,
// so whichever finishes last frees it. `owner` is cleared when the connection
// is dropped or the client is destroyed: a loop that wakes up afterwards
// touches nothing but this object.
struct RedisClient::Connection {
  Connection(RedisClient* o, env::Env& e) : owner(o), env(e) {}

  RedisClient* owner;
  env::Env& env;
  std::unique_ptr<env::Stream> stream;  // null while connecting
  bool ready = false;                   // connected and handshake done
  bool alive = true;                    // false once dropped
  bool writing = false;                 // a coroutine is writing `out`
  bool answered = false;                // the server has answered something on it
  std::string out;                      // encoded commands not yet written
  std::string writing_buf;              // the batch being written
  std::deque<Pending*> pending;         // replies owed, in command order
  ReplyReader reader;
  std::vector<char> read_buf;
  std::unique_ptr<env::Timer> watchdog;
  TimePoint armed = kNoDeadline;  // what the watchdog sleeps until

  TimePoint earliest_deadline() const {
    TimePoint d = kNoDeadline;
    for (const Pending* p : pending) d = std::min(d, p->deadline);
    return d;
  }
};

RedisClient::Pending::~Pending() {
  if (!queued_on) return;
  auto& q = queued_on->pending;
  q.erase(std::remove(q.begin(), q.end(), this), q.end());
}

namespace {

constexpr std::size_t kReadChunk = 16 * 1024;

void log_escaped(std::exception_ptr e, std::string_view what) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log::error("redis client: coroutine ended with an exception",
               {{"loop", std::string(what)}, {"error", ex.what()}});
  } catch (...) {
    log::error("redis client: coroutine ended with an exception", {{"loop", std::string(what)}});
  }
}

std::string to_hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    s[2 * i] = digits[bytes[i] >> 4];
    s[2 * i + 1] = digits[bytes[i] & 0xf];
  }
  return s;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

// ---------------------------------------------------------------- config, script

ClientConfig ClientConfig::from(const config::CacheConfig& cache, error_code& ec) {
  ClientConfig c;
  ec = {};
  auto hp = util::parse_host_port(cache.addr);
  if (!hp || hp->port == 0) {
    ec = errc::bad_address;
    return c;
  }
  c.host = hp->host.empty() ? "127.0.0.1" : hp->host;
  c.port = hp->port;
  c.password = cache.password.value;
  c.db = cache.db;
  c.dial_timeout = cache.dial_timeout;
  c.read_timeout = cache.read_timeout;
  c.write_timeout = cache.write_timeout;
  return c;
}

Script::Script(std::string source) : source_(std::move(source)) {
  unsigned char md[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(source_.data()), source_.size(), md);
  sha1_ = to_hex(md, sizeof md);
}

// ---------------------------------------------------------------- client

RedisClient::RedisClient(env::Env& env, ClientConfig cfg)
    : env_(env), cfg_(std::move(cfg)), backoff_(cfg_.backoff_initial) {}

RedisClient::~RedisClient() {
  *alive_ = false;
  if (conn_) drop(*conn_, asio::error::operation_aborted);
}

bool RedisClient::connected() const { return conn_ && conn_->ready; }

void RedisClient::close() {
  if (--users_ > 0) return;
  closed_ = true;
  if (conn_) drop(*conn_, asio::error::operation_aborted);
}

void RedisClient::connect_now() {
  if (closed_ || conn_ || env_.now() < next_attempt_) return;
  conn_ = std::make_shared<Connection>(this, env_);
  asio::co_spawn(env_.executor(), open_now(conn_), [](std::exception_ptr e) { log_escaped(e, "connect"); });
}

// Commands that came while connecting are queued on the connection with no
// connector of theirs to write them: this is it.
env::Task<void> RedisClient::open_now(std::shared_ptr<Connection> conn) {
  co_await establish(conn);
  if (conn->ready && conn->alive && !conn->writing && !conn->out.empty()) co_await flush(conn);
}

std::unique_ptr<env::Timer> RedisClient::take_timer() {
  if (idle_timers_.empty()) return env_.make_timer();
  auto t = std::move(idle_timers_.back());
  idle_timers_.pop_back();
  return t;
}

void RedisClient::give_timer(std::unique_ptr<env::Timer> t) {
  // Bounded by the peak number of concurrent commands on this worker.
  idle_timers_.push_back(std::move(t));
}

env::Task<Reply> RedisClient::command(std::span<const std::string_view> args, error_code& ec) {
  const TimePoint deadline = env_.now() + cfg_.write_timeout + cfg_.read_timeout;
  co_return co_await command(args, deadline, ec);
}

env::Task<Reply> RedisClient::command(std::span<const std::string_view> args, TimePoint deadline,
                                      error_code& ec) {
  std::array<Pending, 1> batch;
  std::span<const std::string_view> cmds[1] = {args};
  co_await roundtrip(batch, cmds, deadline, ec);
  co_return std::move(batch[0].reply);
}

env::Task<Reply> RedisClient::eval(const Script& script, std::span<const std::string_view> keys,
                                   std::span<const std::string_view> args, error_code& ec) {
  char numkeys[24];
  const auto nk = std::to_chars(numkeys, numkeys + sizeof numkeys, keys.size());
  std::vector<std::string_view> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(script.sha1());
  argv.emplace_back(numkeys, static_cast<std::size_t>(nk.ptr - numkeys));
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());

  const TimePoint deadline = env_.now() + cfg_.write_timeout + cfg_.read_timeout;
  Reply first = co_await command(argv, deadline, ec);
  if (ec != errc::server_error || !starts_with(first.str, "NOSCRIPT")) co_return first;

  // The server lost the script (restart, SCRIPT FLUSH, failover): load it
  // and retry in the same write, so this costs one extra round trip.
  ++script_loads_;
  const std::string_view load[] = {"SCRIPT", "LOAD", script.source()};
  std::array<Pending, 2> batch;
  std::span<const std::string_view> cmds[2] = {load, argv};
  co_await roundtrip(batch, cmds, env_.now() + cfg_.write_timeout + cfg_.read_timeout, ec);
  if (batch[0].ec) {
    ec = batch[0].ec;
    co_return std::move(batch[0].reply);
  }
  ec = batch[1].ec;
  co_return std::move(batch[1].reply);
}

// Queues the commands of `batch` back to back on the current connection
// (connecting first when there is none), writes them unless another
// coroutine is writing, and waits for every reply. `ec` is the first
// command's error that is not a server error reply, else the last command's.
env::Task<void> RedisClient::roundtrip(std::span<Pending> batch,
                                       std::span<const std::string_view>* cmds, TimePoint deadline,
                                       error_code& ec) {
  ec = {};
  bool connector = false;
  if (closed_) {
    ec = asio::error::operation_aborted;
    for (Pending& p : batch) p.complete(ec);
    co_return;
  }
  if (!conn_) {
    if (env_.now() < next_attempt_) {
      ec = errc::backoff;
      for (Pending& p : batch) p.complete(ec);
      co_return;
    }
    conn_ = std::make_shared<Connection>(this, env_);
    connector = true;
  }
  std::shared_ptr<Connection> conn = conn_;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    append_command(conn->out, cmds[i]);
    batch[i].deadline = deadline;
    batch[i].queued_on = conn;
    conn->pending.push_back(&batch[i]);
  }
  if (conn->ready && deadline < conn->armed) conn->watchdog->cancel();  // re-arm earlier

  if (connector) co_await establish(conn);
  if (conn->ready && conn->alive && !conn->writing) co_await flush(conn);
  for (Pending& p : batch) co_await wait(p);

  for (const Pending& p : batch) {
    ec = p.ec;
    if (ec && ec != errc::server_error) break;
  }
}

env::Task<void> RedisClient::wait(Pending& p) {
  if (p.done) co_return;
  const std::shared_ptr<bool> alive = alive_;  // `this` may be gone when we wake
  auto timer = take_timer();
  p.wake = timer.get();
  while (!p.done) {
    error_code ignored;  // cancel() is the wake-up
    co_await timer->sleep_until(kNoDeadline, ignored);
  }
  p.wake = nullptr;
  if (*alive) give_timer(std::move(timer));
}

// Writes whatever is queued, batch after batch, until nothing is left: the
// commands other coroutines queue meanwhile go out in the next write.
env::Task<void> RedisClient::flush(std::shared_ptr<Connection> conn) {
  conn->writing = true;
  while (conn->alive && !conn->out.empty()) {
    conn->writing_buf.swap(conn->out);
    conn->out.clear();
    error_code ec;
    co_await conn->stream->write(asio::buffer(conn->writing_buf),
                                 conn->env.now() + cfg_.write_timeout, ec);
    conn->writing_buf.clear();
    if (ec) {
      if (conn->owner != nullptr) conn->owner->drop(*conn, ec);
      break;
    }
  }
  conn->writing = false;
}

env::Task<void> read_loop(std::shared_ptr<RedisClient::Connection> conn) {
  while (conn->alive) {
    error_code ec;
    const std::size_t n =
        co_await conn->stream->read_some(asio::buffer(conn->read_buf), kNoDeadline, ec);
    if (!conn->alive || conn->owner == nullptr) break;
    if (ec) {
      conn->owner->drop(*conn, ec);
      break;
    }
    if (!conn->reader.feed(conn->read_buf.data(), n)) {
      conn->owner->drop(*conn, errc::protocol_error);
      break;
    }
    for (;;) {
      Reply r;
      const auto st = conn->reader.next(r);
      if (st == ReplyReader::Status::incomplete) break;
      if (st == ReplyReader::Status::error || conn->pending.empty()) {
        // Garbage, or a reply nobody asked for: the stream is out of step.
        log::warn("redis: protocol error, dropping the connection",
                  {{"error", std::string(conn->reader.error_message())}});
        conn->owner->drop(*conn, errc::protocol_error);
        co_return;
      }
      if (!conn->answered) {
        conn->answered = true;
        conn->owner->backoff_ = conn->owner->cfg_.backoff_initial;  // it works: no more backoff
      }
      RedisClient::Pending* p = conn->pending.front();
      conn->pending.pop_front();
      const bool server_error = r.is_error();
      p->reply = std::move(r);
      p->complete(server_error ? error_code(errc::server_error) : error_code());
    }
  }
}

// Enforces the pending commands' deadlines: sleeps until the earliest one
// and drops the connection when it passes with that reply still owed. The
// reader itself reads without a deadline, so an idle connection stays open.
env::Task<void> watchdog_loop(std::shared_ptr<RedisClient::Connection> conn) {
  while (conn->alive) {
    const TimePoint d = conn->earliest_deadline();
    if (d != kNoDeadline && d <= conn->env.now()) {
      if (conn->owner != nullptr) conn->owner->drop(*conn, asio::error::timed_out);
      break;
    }
    conn->armed = d;
    error_code ec;  // operation_aborted: re-armed for an earlier deadline
    co_await conn->watchdog->sleep_until(d, ec);
    conn->armed = kNoDeadline;
  }
}

// Connects, authenticates and selects the database, then starts the
// connection's reader and watchdog. Commands queued meanwhile wait; on
// failure they fail with the cause and reconnecting backs off.
env::Task<void> RedisClient::establish(std::shared_ptr<Connection> conn) {
  error_code ec;
  auto stream = co_await env_.connect(cfg_.host, cfg_.port, env_.now() + cfg_.dial_timeout, ec);
  if (!conn->alive) co_return;  // the client went away meanwhile
  if (ec) {
    on_connect_failed(*conn, ec);
    co_return;
  }
  conn->stream = std::move(stream);
  conn->read_buf.resize(kReadChunk);

  std::string hello;
  std::size_t expected = 0;
  if (!cfg_.password.empty()) {
    const std::string_view auth[] = {"AUTH", cfg_.password};
    append_command(hello, auth);
    ++expected;
  }
  const std::string db = std::to_string(cfg_.db);
  if (cfg_.db != 0) {
    const std::string_view select[] = {"SELECT", db};
    append_command(hello, select);
    ++expected;
  }
  if (expected > 0) {
    co_await conn->stream->write(asio::buffer(hello), env_.now() + cfg_.write_timeout, ec);
    const TimePoint deadline = env_.now() + cfg_.read_timeout;
    std::size_t got = 0;
    while (!ec && conn->alive && got < expected) {
      Reply r;
      const auto st = conn->reader.next(r);
      if (st == ReplyReader::Status::error) {
        ec = errc::protocol_error;
      } else if (st == ReplyReader::Status::reply) {
        const bool is_auth = got == 0 && !cfg_.password.empty();
        ++got;
        if (r.is_error()) {
          handshake_error_ = r.str;
          ec = is_auth ? errc::auth_failed : errc::select_failed;
        }
      } else {
        const std::size_t n = co_await conn->stream->read_some(asio::buffer(conn->read_buf),
                                                               deadline, ec);
        if (!ec && !conn->reader.feed(conn->read_buf.data(), n)) ec = errc::protocol_error;
      }
    }
    if (!conn->alive) co_return;
    if (ec) {
      // Once per failing streak, not once per reconnect attempt.
      if (!handshake_failing_) {
        handshake_failing_ = true;
        log::warn("redis: handshake failed", {{"addr", cfg_.host + ":" + std::to_string(cfg_.port)},
                                              {"error", ec.message()},
                                              {"reply", handshake_error_}});
      }
      on_connect_failed(*conn, ec);
      co_return;
    }
  }

  if (handshake_failing_) {
    handshake_failing_ = false;
    log::info("redis: handshake succeeds again", {{"addr", cfg_.host + ":" + std::to_string(cfg_.port)}});
  }
  conn->ready = true;
  conn->answered = expected > 0;
  if (conn->answered) backoff_ = cfg_.backoff_initial;
  conn->watchdog = env_.make_timer();
  ++connects_;
  asio::co_spawn(env_.executor(), read_loop(conn),
                 [](std::exception_ptr e) { log_escaped(e, "reader"); });
  asio::co_spawn(env_.executor(), watchdog_loop(conn),
                 [](std::exception_ptr e) { log_escaped(e, "watchdog"); });
}

void RedisClient::on_connect_failed(Connection& conn, error_code ec) {
  next_attempt_ = env_.now() + backoff_;
  backoff_ = std::min(backoff_ * 2, cfg_.backoff_max);
  drop(conn, ec);
}

void RedisClient::drop(Connection& conn, error_code cause) {
  if (!conn.alive) return;
  conn.alive = false;
  conn.owner = nullptr;
  if (conn.ready) ++drops_;
  // A connection that failed before the server answered anything counts as
  // a failed attempt: without this, a server that accepts and then hangs or
  // hangs up would be reconnected to at full speed.
  if (conn.ready && !conn.answered && cause != asio::error::operation_aborted) {
    next_attempt_ = env_.now() + backoff_;
    backoff_ = std::min(backoff_ * 2, cfg_.backoff_max);
  }
  if (conn.stream) conn.stream->close();
  if (conn.watchdog) conn.watchdog->cancel();
  conn.out.clear();
  // Completing wakes the callers later (timer cancel posts), so the queue
  // can be walked here without it changing underneath.
  std::deque<Pending*> owed;
  owed.swap(conn.pending);
  for (Pending* p : owed) p->complete(cause);
  if (conn_.get() == &conn) conn_.reset();  // last: may free `conn` if nothing else holds it
}

}  // namespace llmproxy::stores::redis
