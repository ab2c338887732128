#include "proxy/env/real/real_env.h"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <utility>
#include <random>

namespace llmproxy::env {
namespace {

namespace beast = boost::beast;
using asio::ip::tcp;
using std::chrono::steady_clock;

steady_clock::time_point to_steady(TimePoint t) {
  return steady_clock::time_point(
      std::chrono::duration_cast<steady_clock::duration>(t.time_since_epoch()));
}

TimePoint mono_now() {
  return TimePoint(std::chrono::duration_cast<Duration>(steady_clock::now().time_since_epoch()));
}

// One direction's deadline watchdog. Reads and writes may be pending at the
// same time with different deadlines (a relay writes to a client while a
// watch waits on it), so each direction has its own timer, and a timeout
// cancels only that direction's operation (per-operation cancellation), never
// the whole socket.
//
// The timer is lazy: deadlines mostly move later (now + timeout for each new
// operation), and cancelling a queued timer wait costs a scheduler round
// (the aborted handler runs) plus timer-queue work. So a queued wait that
// fires no later than the new deadline is kept; when it fires it checks the
// current deadline and waits again if that is still ahead. Only a deadline
// earlier than the queued wait replaces it.
struct Watchdog {
  explicit Watchdog(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  asio::cancellation_signal signal;
  TimePoint armed = kNoDeadline;   // the deadline of the current operation
  TimePoint queued = kNoDeadline;  // when the queued timer wait fires (none: kNoDeadline)
  bool timed_out = false;
};

// Socket plus its watchdogs. Shared so that a watchdog completion that is
// already queued when the stream is destroyed finds nothing to touch.
struct SocketState {
  explicit SocketState(tcp::socket s)
      : socket(std::move(s)), rd(socket.get_executor()), wr(socket.get_executor()) {}
  tcp::socket socket;
  Watchdog rd, wr;
  // Readiness watch (watch_readable): the listener to tell, whether an
  // async_wait is queued, and the signal that cancels that wait alone.
  // unwatch_readable() cancels it: a wait left queued would complete together
  // with the next request's read, ahead of it, and push the read's completion
  // into an extra scheduler round on the request's critical path. Cancelled
  // now, its completion runs while the connection is idle.
  ReadListener* listener = nullptr;
  bool wait_queued = false;
  asio::cancellation_signal wait_cancel;
};

// Queues the watchdog's timer wait for `at`, replacing any queued one.
void queue_wait(const std::shared_ptr<SocketState>& st, Watchdog SocketState::*which, TimePoint at) {
  Watchdog& w = (*st).*which;
  w.queued = at;
  w.timer.expires_at(to_steady(at));
  w.timer.async_wait([weak = std::weak_ptr<SocketState>(st), which, at](error_code ec) {
    if (ec) return;  // replaced by an earlier deadline, or the stream closed
    auto s = weak.lock();
    if (!s) return;
    Watchdog& w = (*s).*which;
    if (w.queued != at) return;
    w.queued = kNoDeadline;
    if (w.armed == kNoDeadline) return;  // nothing to guard any more
    if (mono_now() < w.armed) return queue_wait(s, which, w.armed);  // moved later
    w.armed = kNoDeadline;
    w.timed_out = true;
    w.signal.emit(asio::cancellation_type::terminal);
  });
}

// Arms a watchdog for the operation about to start. Usually free: nothing is
// done with the timer when a queued wait fires no later than `deadline`.
void arm(const std::shared_ptr<SocketState>& st, Watchdog SocketState::*which, TimePoint deadline) {
  Watchdog& w = (*st).*which;
  w.timed_out = false;
  w.armed = deadline;
  if (deadline == kNoDeadline) return;  // a queued wait will find nothing to do
  if (w.queued != kNoDeadline && w.queued <= deadline) return;
  queue_wait(st, which, deadline);
}

// The stream is closing: queued waits are cancelled and forgotten.
void disarm(Watchdog& w) {
  w.timer.cancel();
  w.queued = kNoDeadline;
  w.armed = kNoDeadline;
}

// After an operation: a cancellation caused by the watchdog is a timeout.
void settle(Watchdog& w, error_code& ec) {
  if (w.timed_out && ec == asio::error::operation_aborted) ec = asio::error::timed_out;
  w.timed_out = false;
}

class RealStream final : public Stream {
 public:
  explicit RealStream(tcp::socket s) : st_(std::make_shared<SocketState>(std::move(s))) {
    error_code ignored;
    st_->socket.set_option(tcp::no_delay(true), ignored);
    // Synchronous calls (the first write attempt) never block the loop.
    st_->socket.non_blocking(true, ignored);
    auto ep = st_->socket.remote_endpoint(ignored);
    if (!ignored) {
      remote_ip_ = ep.address().to_string();
      remote_port_ = ep.port();
    }
  }
  ~RealStream() override { close(); }

  Task<std::size_t> read_some(asio::mutable_buffer buf, TimePoint deadline,
                              error_code& ec) override {
    if (deadline != kNoDeadline && mono_now() >= deadline) {
      ec = asio::error::timed_out;
      co_return 0;
    }
    auto st = st_;
    arm(st, &SocketState::rd, deadline);
    ec = {};
    std::size_t n = co_await st->socket.async_read_some(
        buf, asio::bind_cancellation_slot(st->rd.signal.slot(),
                                          asio::redirect_error(asio::use_awaitable, ec)));
    settle(st->rd, ec);
    co_return n;
  }

  Task<std::size_t> write(std::span<const asio::const_buffer> bufs, TimePoint deadline,
                          error_code& ec) override {
    if (deadline != kNoDeadline && mono_now() >= deadline) {
      ec = asio::error::timed_out;
      co_return 0;
    }
    auto st = st_;
    ec = {};
    // Most writes fit in the socket's send buffer: one non-blocking attempt
    // first lets the coroutine go on at once, without queueing a completion
    // (a scheduler round and an extra reactor poll per write otherwise).
    std::size_t n = st->socket.write_some(bufs, ec);
    if (!ec && n == asio::buffer_size(bufs)) co_return n;
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) co_return n;
    ec = {};
    beast::buffers_suffix<std::span<const asio::const_buffer>> rest(bufs);
    rest.consume(n);
    arm(st, &SocketState::wr, deadline);
    n += co_await asio::async_write(
        st->socket, rest,
        asio::bind_cancellation_slot(st->wr.signal.slot(),
                                     asio::redirect_error(asio::use_awaitable, ec)));
    settle(st->wr, ec);
    co_return n;
  }

  void watch_readable(ReadListener& listener) override {
    st_->listener = &listener;
    if (st_->wait_queued) return;
    st_->wait_queued = true;
    // Not speculative: asio re-arms the descriptor, so readiness that is
    // already there is reported too.
    st_->socket.async_wait(
        tcp::socket::wait_read,
        asio::bind_cancellation_slot(
            st_->wait_cancel.slot(), [weak = std::weak_ptr<SocketState>(st_)](error_code) {
              auto s = weak.lock();
              if (!s) return;
              s->wait_queued = false;
              // A listener set again before a cancelled wait completed is
              // told (spuriously: it peeks and watches again).
              if (ReadListener* l = std::exchange(s->listener, nullptr)) l->on_readable();
            }));
  }
  void unwatch_readable() override {
    st_->listener = nullptr;
    if (st_->wait_queued) st_->wait_cancel.emit(asio::cancellation_type::terminal);
  }
  Readiness peek() override {
    char c;
    const ssize_t r = ::recv(st_->socket.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (r > 0) {
      // Bytes are there; has the peer also finished sending behind them?
      // One more system call, only when something is waiting to be read.
      pollfd p{st_->socket.native_handle(), POLLRDHUP, 0};
      if (::poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0)
        return Readiness::data_then_eof;
      return Readiness::data;
    }
    if (r == 0) return Readiness::eof;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Readiness::nothing;
    return Readiness::failed;
  }

  void shutdown_send() override {
    error_code ignored;
    st_->socket.shutdown(tcp::socket::shutdown_send, ignored);
  }
  void close() override {
    error_code ignored;
    disarm(st_->rd);
    disarm(st_->wr);
    st_->wait_cancel.slot().clear();  // its target goes with the descriptor
    if (st_->socket.is_open()) {
      st_->socket.shutdown(tcp::socket::shutdown_both, ignored);
      st_->socket.close(ignored);
    }
  }
  void reset() override {
    error_code ignored;
    if (!st_->socket.is_open()) return;
    // SO_LINGER with a zero timeout turns close() into an RST.
    st_->socket.set_option(asio::socket_base::linger(true, 0), ignored);
    disarm(st_->rd);
    disarm(st_->wr);
    st_->wait_cancel.slot().clear();  // its target goes with the descriptor
    st_->socket.close(ignored);
  }
  void cancel() override {
    error_code ignored;
    st_->socket.cancel(ignored);
  }
  bool is_open() const override { return st_->socket.is_open(); }
  std::string remote_address() const override {
    if (remote_ip_.find(':') != std::string::npos)
      return "[" + remote_ip_ + "]:" + std::to_string(remote_port_);
    return remote_ip_ + ":" + std::to_string(remote_port_);
  }
  std::string remote_ip() const override { return remote_ip_; }

 private:
  std::shared_ptr<SocketState> st_;
  std::string remote_ip_;
  std::uint16_t remote_port_ = 0;
};

class RealTimer final : public Timer {
 public:
  explicit RealTimer(asio::any_io_executor ex) : timer_(std::move(ex)) {}
  Task<void> sleep_until(TimePoint when, error_code& ec) override {
    timer_.expires_at(to_steady(when));
    ec = {};
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  void cancel() override { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
};

class RealAcceptor final : public Acceptor {
 public:
  explicit RealAcceptor(tcp::acceptor a) : acceptor_(std::move(a)) {}
  Task<std::unique_ptr<Stream>> accept(error_code& ec) override {
    ec = {};
    tcp::socket s =
        co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return nullptr;
    co_return std::make_unique<RealStream>(std::move(s));
  }
  void close() override {
    error_code ignored;
    acceptor_.close(ignored);
  }
  std::uint16_t port() const override {
    error_code ignored;
    return acceptor_.local_endpoint(ignored).port();
  }

 private:
  tcp::acceptor acceptor_;
};

}  // namespace

RealEnv::RealEnv(asio::io_context& ioc, std::uint64_t seed) : ioc_(ioc), rng_(seed) {}

std::uint64_t RealEnv::entropy_seed() {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

TimePoint RealEnv::now() const { return mono_now(); }

WallTime RealEnv::wall_now() const {
  return WallTime(std::chrono::duration_cast<Duration>(
      std::chrono::system_clock::now().time_since_epoch()));
}

std::unique_ptr<Timer> RealEnv::make_timer() {
  return std::make_unique<RealTimer>(ioc_.get_executor());
}

Task<std::unique_ptr<Stream>> RealEnv::connect(std::string host, std::uint16_t port,
                                               TimePoint deadline, error_code& ec) {
  ec = {};
  std::vector<tcp::endpoint> endpoints;
  // Strip IPv6 brackets from URL-style hosts.
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  auto addr = asio::ip::make_address(host, ec);
  if (!ec) {
    endpoints.emplace_back(addr, port);
  } else {
    // Asio runs getaddrinfo on its own internal thread, never on this loop.
    ec = {};
    tcp::resolver resolver(ioc_);
    auto results = co_await resolver.async_resolve(host, std::to_string(port),
                                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return nullptr;
    for (const auto& r : results) endpoints.push_back(r.endpoint());
  }
  auto st = std::make_shared<SocketState>(tcp::socket(ioc_));
  if (deadline != kNoDeadline && mono_now() >= deadline) {
    ec = asio::error::timed_out;
    co_return nullptr;
  }
  arm(st, &SocketState::wr, deadline);
  co_await asio::async_connect(
      st->socket, endpoints,
      asio::bind_cancellation_slot(st->wr.signal.slot(),
                                   asio::redirect_error(asio::use_awaitable, ec)));
  settle(st->wr, ec);
  arm(st, &SocketState::wr, kNoDeadline);
  if (ec) co_return nullptr;
  co_return std::make_unique<RealStream>(std::move(st->socket));
}

std::unique_ptr<Acceptor> RealEnv::listen(const std::string& host, std::uint16_t port,
                                          bool reuse_port, error_code& ec) {
  ec = {};
  asio::ip::address addr;
  if (host.empty()) {
    addr = asio::ip::address_v4::any();
  } else {
    std::string h = host;
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    addr = asio::ip::make_address(h, ec);
    if (ec) return nullptr;
  }
  tcp::endpoint ep(addr, port);
  tcp::acceptor a(ioc_);
  a.open(ep.protocol(), ec);
  if (ec) return nullptr;
  a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (ec) return nullptr;
  if (reuse_port) {
    a.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true), ec);
    if (ec) return nullptr;
  }
  a.bind(ep, ec);
  if (ec) return nullptr;
  a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return nullptr;
  return std::make_unique<RealAcceptor>(std::move(a));
}

}  // namespace llmproxy::env
