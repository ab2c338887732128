#include "sim/sim_env.h"

#include <boost/asio/error.hpp>

#include <cerrno>

namespace llmproxy::sim {

using OpId = World::OpId;

// --- SimTimer ----------------------------------------------------------------

SimTimer::SimTimer(World& world, std::string host) : world_(world), host_(std::move(host)) {}

SimTimer::~SimTimer() { cancel(); }

env::Task<void> SimTimer::sleep_until(TimePoint when, error_code& ec) {
  co_await world_.suspend(*this, ec, [this, when](OpId id) { start(id, when); });
}

void SimTimer::start(OpId id, TimePoint when) {
  // Like asio's expires_at(): a new sleep aborts the ones still pending.
  cancel();
  if (when <= world_.now()) {
    world_.complete_op(id, {});  // posted, never inline
    return;
  }
  if (when == TimePoint::max()) {
    sleeps_[id] = EventId{};  // "forever": only cancel() ends it; no event
    return;                   // that would drag the clock to the end of time
  }
  sleeps_[id] = world_.schedule(when, [this, id] {
    sleeps_.erase(id);
    if (world_.log().data_events()) world_.record(host_, "timer");
    world_.complete_op(id, {});
  });
}

void SimTimer::cancel() {
  auto sleeps = std::move(sleeps_);
  sleeps_.clear();
  for (auto& [id, event] : sleeps) {
    world_.cancel(event);
    world_.complete_op(id, asio::error::operation_aborted);
  }
}

void SimTimer::abort_op(OpId id) {
  auto it = sleeps_.find(id);
  if (it == sleeps_.end()) return;
  world_.cancel(it->second);
  sleeps_.erase(it);
}

// --- SimAcceptor -------------------------------------------------------------

SimAcceptor::SimAcceptor(World& world, Host& host) : world_(world), host_(host) {}

SimAcceptor::~SimAcceptor() { close(); }

error_code SimAcceptor::bind(std::uint16_t port, bool reuse_port) {
  port_ = port;
  error_code ec = world_.network().add_listener(host_, port_, reuse_port, this);
  bound_ = !ec;
  if (ec) closed_ = true;
  return ec;
}

env::Task<std::unique_ptr<env::Stream>> SimAcceptor::accept(error_code& ec) {
  std::unique_ptr<env::Stream> result;
  co_await world_.suspend(*this, ec, [this, &result](OpId id) { start(id, &result); });
  co_return result;
}

void SimAcceptor::start(OpId id, std::unique_ptr<env::Stream>* out) {
  if (closed_) {
    world_.complete_op(id, asio::error::bad_descriptor);
  } else if (!backlog_.empty()) {
    *out = std::move(backlog_.front());
    backlog_.pop_front();
    world_.complete_op(id, {});
  } else {
    waiters_.push_back(Waiter{id, out});
  }
}

void SimAcceptor::enqueue(std::unique_ptr<SimStream> stream) {
  if (closed_) {
    stream->reset();
    return;
  }
  world_.record(host_.name, "accept",
                stream->connection_name() + " from " + stream->remote_address());
  if (!waiters_.empty()) {
    Waiter w = waiters_.front();
    waiters_.pop_front();
    *w.out = std::move(stream);
    world_.complete_op(w.id, {});
  } else {
    backlog_.push_back(std::move(stream));
  }
}

void SimAcceptor::close() {
  if (bound_) {
    world_.network().remove_listener(host_, port_, this);
    bound_ = false;
  }
  closed_ = true;
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (const Waiter& w : waiters) world_.complete_op(w.id, asio::error::operation_aborted);
  // Connections nobody accepted are reset, as a closing listen socket does.
  auto backlog = std::move(backlog_);
  backlog_.clear();
  for (auto& s : backlog) s->reset();
}

void SimAcceptor::abort_op(OpId id) {
  std::erase_if(waiters_, [id](const Waiter& w) { return w.id == id; });
}

// --- SimEnv ------------------------------------------------------------------

SimEnv::SimEnv(World& world, std::string host_name)
    : world_(world),
      host_(world.network().host(host_name)),
      rng_(world.rng_for("host:" + host_name)),
      stream_options_(world.network().stream_options()) {}

SimEnv::SimEnv(World& world, std::string host_name, const std::string& stream)
    : world_(world),
      host_(world.network().host(host_name)),
      rng_(world.rng_for("host:" + host_name + "/" + stream)),
      stream_options_(world.network().stream_options()) {}

SimEnv::~SimEnv() {
  *alive_ = false;
  auto connecting = std::move(connecting_);
  connecting_.clear();
  for (auto& [id, c] : connecting) {
    world_.cancel(c.deadline);
    world_.cancel(c.step);
    if (c.client) c.client->reset();
    world_.complete_op(id, asio::error::operation_aborted);
  }
}

std::unique_ptr<env::Timer> SimEnv::make_timer() {
  return std::make_unique<SimTimer>(world_, host_.name);
}

env::Task<std::unique_ptr<env::Stream>> SimEnv::connect(std::string host, std::uint16_t port,
                                                        TimePoint deadline, error_code& ec) {
  std::unique_ptr<env::Stream> result;
  co_await world_.suspend(*this, ec, [this, &host, port, deadline, &result](OpId id) {
    start_connect(id, host, port, deadline, &result);
  });
  co_return result;
}

Duration SimEnv::rtt(const Host& target) {
  Network& net = world_.network();
  return net.latency(host_, target) + net.latency(target, host_);
}

void SimEnv::start_connect(OpId id, const std::string& host, std::uint16_t port,
                           TimePoint deadline, std::unique_ptr<env::Stream>* out) {
  Network& net = world_.network();
  std::string_view name = host;
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);  // URL-style IPv6 literal
  }
  Host* target = net.resolve(host_, name);
  const std::string where = host + ":" + std::to_string(port);
  if (deadline != kNoDeadline && deadline <= world_.now()) {
    world_.record(host_.name, "connect-failed", where + " deadline passed");
    world_.complete_op(id, asio::error::timed_out);
    return;
  }
  if (target == nullptr) {
    world_.record(host_.name, "connect-failed", where + " host_not_found");
    world_.complete_op(id, asio::error::host_not_found);
    return;
  }
  Connecting& c = connecting_[id];
  c.out = out;
  c.target = where;
  if (deadline != kNoDeadline) {
    c.deadline = world_.schedule(deadline, [this, id] {
      auto it = connecting_.find(id);
      if (it != connecting_.end()) it->second.deadline = {};
      finish_connect(id, asio::error::timed_out);
    });
  }
  const Fault fault = net.fault_for(host_, *target);
  world_.record(host_.name, "connect",
                where + (fault == Fault::none ? "" : std::string(" fault=") + to_string(fault)));
  switch (fault) {
    case Fault::refuse:
      c.step = world_.schedule(world_.now() + rtt(*target), [this, id] {
        finish_connect(id, asio::error::connection_refused);
      });
      break;
    case Fault::hang:
      break;  // only the deadline (or a cancellation) ends it
    case Fault::black_hole: {
      auto pair = make_connection(world_, EndpointSpec{&host_, host_.next_ephemeral_port++},
                                  EndpointSpec{target, port, /*sink=*/true}, stream_options_);
      c.client = std::move(pair.first);
      c.step = world_.schedule(world_.now() + rtt(*target),
                               [this, id] { finish_connect(id, {}); });
      break;
    }
    case Fault::none:
      send_syn(id, target, port);
      break;
  }
}

void SimEnv::send_syn(OpId id, Host* target, std::uint16_t port) {
  Network& net = world_.network();
  auto it = connecting_.find(id);
  if (it == connecting_.end()) return;
  if (net.partitioned(host_, *target)) {
    // The SYN is lost; it is retried once the partition heals.
    net.when_healed(host_, *target, [this, alive = std::weak_ptr<bool>(alive_), id, target, port] {
      if (alive.lock()) send_syn(id, target, port);
    });
    return;
  }
  it->second.step = world_.schedule(world_.now() + net.latency(host_, *target),
                                    [this, id, target, port] { syn_arrived(id, target, port); });
}

void SimEnv::syn_arrived(OpId id, Host* target, std::uint16_t port) {
  auto it = connecting_.find(id);
  if (it == connecting_.end()) return;
  Network& net = world_.network();
  const TimePoint back = world_.now() + net.latency(*target, host_);
  SimAcceptor* acceptor = net.pick_listener(*target, port);
  if (acceptor == nullptr) {
    it->second.step = world_.schedule(
        back, [this, id] { finish_connect(id, asio::error::connection_refused); });
    return;
  }
  auto pair = make_connection(world_, EndpointSpec{&host_, host_.next_ephemeral_port++},
                              EndpointSpec{target, port}, stream_options_);
  it->second.client = std::move(pair.first);
  acceptor->enqueue(std::move(pair.second));
  it->second.step = world_.schedule(back, [this, id] { finish_connect(id, {}); });
}

void SimEnv::finish_connect(OpId id, error_code ec) {
  auto it = connecting_.find(id);
  if (it == connecting_.end()) return;
  Connecting c = std::move(it->second);
  connecting_.erase(it);
  world_.cancel(c.deadline);
  world_.cancel(c.step);
  if (!ec) {
    world_.record(host_.name, "connected", c.target + " " + c.client->connection_name() +
                                               " local " + c.client->local_address());
    *c.out = std::move(c.client);
  } else {
    world_.record(host_.name, "connect-failed", c.target + " " + ec.message());
    // A connection the server may already hold is abandoned abortively.
    if (c.client) c.client->reset();
  }
  world_.complete_op(id, ec);
}

void SimEnv::abort_op(OpId id) {
  auto it = connecting_.find(id);
  if (it == connecting_.end()) return;
  world_.cancel(it->second.deadline);
  world_.cancel(it->second.step);
  if (it->second.client) it->second.client->reset();
  world_.record(host_.name, "connect-aborted", it->second.target);
  connecting_.erase(it);
}

std::unique_ptr<env::Acceptor> SimEnv::listen(const std::string& host, std::uint16_t port,
                                              bool reuse_port, error_code& ec) {
  const bool local = host.empty() || host == "0.0.0.0" || host == "::" || host == "localhost" ||
                     host == "127.0.0.1" || host == "::1" || host == host_.name ||
                     host == host_.ip;
  if (!local) {
    ec = error_code(EADDRNOTAVAIL, boost::system::system_category());
    return nullptr;
  }
  auto acceptor = std::make_unique<SimAcceptor>(world_, host_);
  ec = acceptor->bind(port, reuse_port);
  if (ec) return nullptr;
  return acceptor;
}

}  // namespace llmproxy::sim
