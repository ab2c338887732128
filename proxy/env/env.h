// The environment seam: everything the I/O shell needs from the outside world.
//
// The shell (HTTP server, upstream pool, relay, health probes) and the fake
// backends are written once, as C++20 coroutines against these interfaces.
// Two implementations exist:
//   - proxy/env/real: Asio TCP sockets, steady timers, the OS resolver and OS
//     entropy (production, fake-openai on loopback, end-to-end tests);
//   - sim/: a deterministic world with a virtual clock and an event heap; its
//     io_context never creates an OS reactor.
// Type erasure (virtual calls returning asio::awaitable) was chosen over
// templates so the shell compiles once; see docs/architecture.md.
//
// Conventions for every operation below:
//   - errors come back through `error_code& ec` (never exceptions);
//   - `deadline` is a point on the environment's monotonic clock; when it
//     passes before the operation completes, the operation ends with
//     asio::error::timed_out (kNoDeadline = never);
//   - cancel() ends pending operations with asio::error::operation_aborted;
//   - an orderly close by the peer reads as 0 bytes with asio::error::eof;
//     an abortive close (RST) as asio::error::connection_reset.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "proxy/core/random.h"
#include "proxy/core/time.h"

namespace llmproxy::env {

namespace asio = boost::asio;
using boost::system::error_code;

template <class T>
using Task = asio::awaitable<T>;

// Told when a watched stream becomes readable (Stream::watch_readable).
class ReadListener {
 public:
  virtual void on_readable() = 0;

 protected:
  ~ReadListener() = default;
};

// What a read would find now (Stream::peek). `data_then_eof`: bytes, and
// behind them the peer has finished sending (EPOLLRDHUP): a client that
// pipelined a request and then hung up.
enum class Readiness : std::uint8_t { nothing, data, data_then_eof, eof, failed };

// One bidirectional byte stream (a TCP connection, real or simulated).
class Stream {
 public:
  virtual ~Stream() = default;

  // Reads between 1 and buf.size() bytes. Returns 0 and sets ec on error/EOF.
  virtual Task<std::size_t> read_some(asio::mutable_buffer buf, TimePoint deadline,
                                      error_code& ec) = 0;

  // Writes every byte of every buffer, in order, unless an error occurs;
  // returns the number of bytes written. Blocks (back-pressure) while the
  // peer is not reading.
  virtual Task<std::size_t> write(std::span<const asio::const_buffer> bufs, TimePoint deadline,
                                  error_code& ec) = 0;

  // A coroutine (not a forwarding call) so `buf` outlives the inner write.
  Task<std::size_t> write(asio::const_buffer buf, TimePoint deadline, error_code& ec) {
    co_return co_await write(std::span<const asio::const_buffer>(&buf, 1), deadline, ec);
  }

  // Watches for readability without a buffer and without reading: the
  // listener is told once, later and never inline, when bytes, EOF or an
  // error are there (at once, posted, if they already are). A spurious
  // notification is possible (peek() then says `nothing`). One watch at a
  // time: a new one replaces the old. unwatch_readable() ends it at once: the
  // listener is never told afterwards and may be destroyed. This is how the
  // gateway notices a client leaving while it holds no read buffer for it.
  virtual void watch_readable(ReadListener& listener) = 0;
  virtual void unwatch_readable() = 0;
  // What a read would find now; consumes nothing.
  virtual Readiness peek() = 0;

  // Half-close: the peer reads EOF once it has read everything sent before.
  virtual void shutdown_send() = 0;
  // Orderly close of both directions; pending operations are aborted.
  virtual void close() = 0;
  // Abortive close: the peer sees connection_reset; unsent data is dropped.
  virtual void reset() = 0;
  // Aborts pending read/write operations (operation_aborted); the stream
  // stays usable for new operations.
  virtual void cancel() = 0;
  virtual bool is_open() const = 0;

  // "ip:port" of the other end, for X-Forwarded-For and logs.
  virtual std::string remote_address() const = 0;
  virtual std::string remote_ip() const = 0;
};

class Acceptor {
 public:
  virtual ~Acceptor() = default;
  // Waits for the next connection. Ends with operation_aborted after close().
  virtual Task<std::unique_ptr<Stream>> accept(error_code& ec) = 0;
  virtual void close() = 0;
  // The bound port (useful when listening on port 0).
  virtual std::uint16_t port() const = 0;
};

class Timer {
 public:
  virtual ~Timer() = default;
  // Completes at `when` with ec clear, or earlier with operation_aborted
  // after cancel().
  virtual Task<void> sleep_until(TimePoint when, error_code& ec) = 0;
  virtual void cancel() = 0;
};

// One environment per event loop: a real worker thread, or a simulated host.
// Not thread-safe: use it only from its own executor.
class Env {
 public:
  virtual ~Env() = default;

  virtual asio::any_io_executor executor() = 0;

  // Monotonic clock (virtual in the simulator).
  virtual TimePoint now() const = 0;
  // Wall clock (unix time; in the simulator a fixed epoch plus virtual time).
  virtual WallTime wall_now() const = 0;

  virtual std::unique_ptr<Timer> make_timer() = 0;

  // Resolves `host` (name or IP) and connects to host:port.
  virtual Task<std::unique_ptr<Stream>> connect(std::string host, std::uint16_t port,
                                                TimePoint deadline, error_code& ec) = 0;

  // Binds and listens on host:port ("" or "0.0.0.0" = any IPv4, "::" = any).
  // port 0 picks a free port. reuse_port lets several workers share it.
  virtual std::unique_ptr<Acceptor> listen(const std::string& host, std::uint16_t port,
                                           bool reuse_port, error_code& ec) = 0;

  // The environment's seeded generator (seed logged by the real env).
  virtual Rng& rng() = 0;

  // Convenience: sleep for a duration.
  Task<void> sleep_for(Duration d, error_code& ec) {
    auto timer = make_timer();
    co_await timer->sleep_until(now() + d, ec);
  }
};

}  // namespace llmproxy::env
