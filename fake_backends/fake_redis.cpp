#include "fake_backends/fake_redis.h"

#include <boost/asio/co_spawn.hpp>

#include <algorithm>
#include <array>
#include <deque>
#include <exception>

#include "fake_backends/redis_commands.h"
#include "fake_backends/redis_request_parser.h"

namespace llmproxy::fake {
namespace {

namespace asio = boost::asio;
using env::error_code;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

RespValue unknown_command(std::span<const std::string> argv) {
  // Redis 7's text, trailing space included; each part cut at 128 bytes.
  std::string msg = "ERR unknown command '" + argv[0].substr(0, 128) + "', with args beginning with: ";
  for (std::size_t i = 1; i < argv.size(); ++i) msg += "'" + argv[i].substr(0, 128) + "' ";
  return RespValue::error(std::move(msg));
}

}  // namespace

const char* to_string(RedisFault f) {
  switch (f) {
    case RedisFault::latency: return "latency";
    case RedisFault::hang: return "hang";
    case RedisFault::reset: return "reset";
    case RedisFault::restart: return "restart";
  }
  return "?";
}

// A reply waiting for its time (latency) in a connection's queue.
struct FakeRedis::Reply {
  TimePoint due;
  std::string bytes;
};

struct FakeRedis::Connection {
  explicit Connection(std::unique_ptr<env::Stream> s) : stream(std::move(s)) {}

  std::unique_ptr<env::Stream> stream;
  RedisRequestParser parser;
  std::deque<Reply> out;
  int db = 0;
  bool authed = false;
  bool hung = false;     // the hang fault stopped it: reads and drops, answers nothing
  bool closing = false;  // ends once the queued replies are written
  std::array<char, 16 * 1024> buf{};
};

FakeRedis::FakeRedis(env::Env& env, FakeRedisConfig config)
    : env_(env),
      config_(std::move(config)),
      dbs_(static_cast<std::size_t>(std::max(1, config_.databases))),
      lua_(env.rng()(), config_.lua),
      start_(env.now()) {}

FakeRedis::~FakeRedis() = default;

// ---------------------------------------------------------------- lifecycle

env::Task<void> FakeRedis::run(error_code& ec) {
  ec = {};
  start_ = env_.now();
  wait_timer_ = env_.make_timer();
  auto spawn = [this](env::Task<void> task) {
    ++tasks_;
    // The handler must not swallow an exception: in the simulator it fails
    // the run (a bug in the fake must not pass for a gateway bug).
    asio::co_spawn(env_.executor(), std::move(task), [this](std::exception_ptr e) {
      task_ended();
      if (e) std::rethrow_exception(e);
    });
  };
  if (std::any_of(config_.faults.begin(), config_.faults.end(),
                  [](const RedisFaultWindow& w) { return w.kind == RedisFault::restart; }))
    spawn(restart_timeline());

  while (!stopping_) {
    if (env_.now() < down_until_) {  // restarting: connects are refused meanwhile
      error_code ignored;
      co_await wait_timer_->sleep_until(down_until_, ignored);
      continue;
    }
    acceptor_ = env_.listen(config_.host, port_ != 0 ? port_ : config_.port, false, ec);
    if (ec) {
      acceptor_.reset();
      stop();
      break;
    }
    port_ = acceptor_->port();
    while (!stopping_) {
      error_code aec;
      auto stream = co_await acceptor_->accept(aec);
      if (aec || !stream) break;  // closed by stop() or restart(), or an accept error
      ++stats_.connections_accepted;
      spawn(serve(std::move(stream)));
    }
    acceptor_.reset();
    if (!stopping_ && env_.now() >= down_until_) {
      // An accept error (out of descriptors on a real host): listen again
      // after a pause rather than spin.
      error_code ignored;
      co_await wait_timer_->sleep_until(env_.now() + std::chrono::milliseconds(10), ignored);
    }
  }
  while (tasks_ > 0) {
    error_code ignored;  // task_ended() cancels the sleep
    co_await wait_timer_->sleep_until(kNoDeadline, ignored);
  }
  wait_timer_.reset();
}

void FakeRedis::task_ended() {
  --tasks_;
  if (tasks_ == 0 && stopping_ && wait_timer_) wait_timer_->cancel();
}

void FakeRedis::stop() {
  if (stopping_) return;
  stopping_ = true;
  if (acceptor_) acceptor_->close();
  for (Connection* c : connections_) c->stream->close();
  if (timeline_timer_) timeline_timer_->cancel();
  if (wait_timer_) wait_timer_->cancel();
}

void FakeRedis::reset_connections() {
  // Each reset completes the connection's pending operation later (posted),
  // so the list does not change while it is walked.
  for (Connection* c : connections_) {
    c->stream->reset();
    ++stats_.reset_connections;
  }
}

void FakeRedis::restart(Duration down_for) {
  ++stats_.restarts;
  down_until_ = std::max(down_until_, env_.now() + std::max(down_for, Duration{0}));
  reset_connections();
  for (RedisDatabase& db : dbs_) db.clear();
  lua_.flush();
  if (acceptor_) acceptor_->close();  // run() listens again once down_until_ has passed
}

env::Task<void> FakeRedis::restart_timeline() {
  std::vector<RedisFaultWindow> windows;
  for (const auto& w : config_.faults)
    if (w.kind == RedisFault::restart) windows.push_back(w);
  std::stable_sort(windows.begin(), windows.end(),
                   [](const auto& a, const auto& b) { return a.from < b.from; });
  timeline_timer_ = env_.make_timer();
  for (const RedisFaultWindow& w : windows) {
    if (stopping_) break;  // stop() may come before this coroutine first ran
    error_code ec;
    co_await timeline_timer_->sleep_until(start_ + w.from, ec);
    if (stopping_) break;
    restart(w.until - w.from);
  }
  timeline_timer_.reset();
}

bool FakeRedis::active(RedisFault kind) const {
  if (kind == RedisFault::hang && standing_.hang) return true;
  if (kind == RedisFault::reset && standing_.reset) return true;
  const Duration t = env_.now() - start_;
  return std::any_of(config_.faults.begin(), config_.faults.end(), [&](const RedisFaultWindow& w) {
    return w.kind == kind && t >= w.from && t < w.until;
  });
}

Duration FakeRedis::latency_now() const {
  Duration d = standing_.latency;
  const Duration t = env_.now() - start_;
  for (const RedisFaultWindow& w : config_.faults)
    if (w.kind == RedisFault::latency && t >= w.from && t < w.until) d = std::max(d, w.latency);
  return d;
}

// ---------------------------------------------------------------- connections

env::Task<void> FakeRedis::serve(std::unique_ptr<env::Stream> stream) {
  Connection c(std::move(stream));
  c.authed = config_.password.empty();
  connections_.push_back(&c);
  const auto self = std::prev(connections_.end());
  ++stats_.connections_open;
  co_await connection_loop(c);
  if (c.stream->is_open()) c.stream->close();
  connections_.erase(self);
  --stats_.connections_open;
}

// Reads commands, runs each as it arrives and queues its reply for its due
// time; the read's deadline is the next reply's due time, so one coroutine
// both listens and answers on time.
env::Task<void> FakeRedis::connection_loop(Connection& c) {
  std::vector<std::string> argv;
  auto queue = [&](const RespValue& reply) {
    TimePoint due = env_.now() + latency_now();
    if (!c.out.empty()) due = std::max(due, c.out.back().due);  // never overtake
    c.out.push_back({due, encode(reply)});
  };
  for (;;) {
    if (!c.out.empty() && c.out.front().due <= env_.now()) {
      std::string batch;
      while (!c.out.empty() && c.out.front().due <= env_.now()) {
        batch += c.out.front().bytes;
        c.out.pop_front();
      }
      error_code ec;
      co_await c.stream->write(asio::buffer(batch), kNoDeadline, ec);
      if (ec) co_return;
      continue;
    }
    if (c.closing && c.out.empty()) {
      // Redis closes after such a reply; a FIN first and a short linger that
      // reads what the client still sends keep the reply from being lost to
      // a reset (unread data at close turns a FIN into an RST).
      c.stream->shutdown_send();
      const TimePoint until = env_.now() + std::chrono::seconds(1);
      for (;;) {
        error_code ec;
        co_await c.stream->read_some(asio::buffer(c.buf), until, ec);
        if (ec) break;
      }
      co_return;
    }
    const TimePoint deadline = c.out.empty() ? kNoDeadline : c.out.front().due;
    error_code ec;
    const std::size_t n = co_await c.stream->read_some(asio::buffer(c.buf), deadline, ec);
    if (ec == asio::error::timed_out) continue;  // a reply is due
    if (ec || stopping_) co_return;
    if (c.hung || c.closing) continue;  // read and dropped
    c.parser.feed(std::string_view(c.buf.data(), n));
    for (;;) {
      const auto st = c.parser.next(argv);
      if (st == RedisRequestParser::Status::incomplete) break;
      if (st == RedisRequestParser::Status::error) {
        ++stats_.protocol_errors;
        queue(RespValue::error("ERR " + c.parser.error()));
        c.closing = true;
        break;
      }
      if (active(RedisFault::reset)) {
        ++stats_.reset_connections;
        c.stream->reset();
        co_return;
      }
      if (active(RedisFault::hang)) {
        ++stats_.hung_connections;
        c.hung = true;
        c.out.clear();  // a stuck server sends nothing more, earlier replies included
        break;
      }
      bool close = false;
      queue(execute(c, argv, close));
      if (close) {
        c.closing = true;
        break;
      }
    }
  }
}

// ---------------------------------------------------------------- commands

RespValue FakeRedis::execute(Connection& c, std::span<const std::string> argv, bool& close) {
  ++stats_.commands;
  const std::string name = lower(argv[0]);
  if (!c.authed && name != "auth" && name != "quit")
    return RespValue::error("NOAUTH Authentication required.");
  if (name == "auth") {
    if (argv.size() < 2) return wrong_arity("auth");
    if (argv.size() > 3) return syntax_error();
    if (config_.password.empty())
      return RespValue::error(
          "ERR AUTH <password> called without any password configured for the default user. "
          "Are you sure your configuration is correct?");
    const bool user_ok = argv.size() == 2 || argv[1] == "default";
    if (!user_ok || argv.back() != config_.password)
      return RespValue::error("WRONGPASS invalid username-password pair or user is disabled.");
    c.authed = true;
    return RespValue::ok();
  }
  if (name == "quit") {
    close = true;
    return RespValue::ok();
  }
  if (name == "select") {
    if (argv.size() != 2) return wrong_arity("select");
    std::int64_t db = 0;
    if (!parse_redis_int(argv[1], db)) return not_an_integer();
    if (db < 0 || db >= static_cast<std::int64_t>(dbs_.size()))
      return RespValue::error("ERR DB index is out of range");
    c.db = static_cast<int>(db);
    return RespValue::ok();
  }
  if (name == "script") return script_command(argv);
  if (name == "eval" || name == "evalsha") return eval(c, argv, name == "evalsha");
  const DataCommand* cmd = find_data_command(name);
  if (cmd == nullptr) return unknown_command(argv);
  if (!arity_ok(*cmd, argv.size())) return wrong_arity(cmd->name);
  CommandContext ctx{dbs_[static_cast<std::size_t>(c.db)], env_.wall_now()};
  return cmd->run(ctx, argv);
}

RespValue FakeRedis::script_command(std::span<const std::string> argv) {
  if (argv.size() < 2) return wrong_arity("script");
  const std::string sub = lower(argv[1]);
  if (sub == "load") {
    if (argv.size() != 3) return wrong_arity("script|load");
    return lua_.load(argv[2]);
  }
  if (sub == "exists") {
    if (argv.size() < 3) return wrong_arity("script|exists");
    RespValue out = RespValue::array({});
    for (std::size_t i = 2; i < argv.size(); ++i)
      out.elements.push_back(RespValue::integer_of(lua_.exists(argv[i]) ? 1 : 0));
    return out;
  }
  if (sub == "flush") {
    if (argv.size() > 3 || (argv.size() == 3 && lower(argv[2]) != "sync" && lower(argv[2]) != "async"))
      return RespValue::error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
    lua_.flush();
    return RespValue::ok();
  }
  if (sub == "kill") return RespValue::error("NOTBUSY No scripts in execution right now.");
  return RespValue::error("ERR unknown subcommand '" + argv[1].substr(0, 128) + "'. Try SCRIPT HELP.");
}

RespValue FakeRedis::eval(Connection& c, std::span<const std::string> argv, bool by_sha) {
  if (argv.size() < 3) return wrong_arity(by_sha ? "evalsha" : "eval");
  std::int64_t numkeys = 0;
  if (!parse_redis_int(argv[2], numkeys)) return not_an_integer();
  if (numkeys > static_cast<std::int64_t>(argv.size()) - 3)
    return RespValue::error("ERR Number of keys can't be greater than number of args");
  if (numkeys < 0) return RespValue::error("ERR Number of keys can't be negative");
  std::string sha;
  if (by_sha) {
    sha = lower(argv[1]);
    if (!lua_.exists(sha)) {
      ++stats_.noscript_replies;
      return RespValue::error("NOSCRIPT No matching script. Please use EVAL.");
    }
  } else {
    RespValue loaded = lua_.load(argv[1]);  // EVAL keeps the script too, as Redis does
    if (loaded.is_error()) return loaded;
    sha = std::move(loaded.text);
  }
  const auto nk = static_cast<std::size_t>(numkeys);
  const auto keys = argv.subspan(3, nk);
  const auto args = argv.subspan(3 + nk);
  CommandContext ctx{dbs_[static_cast<std::size_t>(c.db)], env_.wall_now()};
  RespValue reply = lua_.run(sha, keys, args, ctx);
  ++stats_.scripts_run;
  if (config_.on_script) config_.on_script(RedisScriptRun{env_.now(), sha, keys, args, reply});
  return reply;
}

}  // namespace llmproxy::fake
