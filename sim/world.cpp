#include "sim/world.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

#include <exception>

#include "proxy/core/util/fnv1a.h"
#include "sim/network.h"

namespace llmproxy::sim {

namespace {

std::string stamp(TimePoint t) {
  const auto ns = t.time_since_epoch().count();
  return "t=" + std::to_string(ns / 1'000'000'000) + "." +
         std::to_string(1'000'000'000 + ns % 1'000'000'000).substr(1) + "s";
}

}  // namespace

World::World(const WorldOptions& options) : options_(options), log_(options.keep_log_records) {
  // Concurrency hint 1: one thread, no locking inside the scheduler.
  ioc_.emplace(1);
  network_ = std::make_unique<Network>(*this);
}

World::World(std::uint64_t seed) : World(WorldOptions{.seed = seed}) {}

World::~World() {
  shutting_down_ = true;
  // Event callbacks may own connection state; drop them first.
  {
    auto events = std::move(events_);
    events_.clear();
  }
  // Parked handlers own suspended coroutine frames, which may own the very
  // objects that hold the parking ids: destroying a handler can destroy
  // streams that drop further handlers (complete_op is a drop while shutting
  // down), so take them out one at a time.
  while (!parked_.empty()) {
    auto node = parked_.extract(parked_.begin());
  }
  // Handlers already posted are destroyed with the io_context, while the rest
  // of the world (network, log) is still alive for their destructors.
  ioc_.reset();
  while (!parked_.empty()) {
    auto node = parked_.extract(parked_.begin());
  }
  events_.clear();
  network_.reset();
}

EventId World::schedule(TimePoint at, std::function<void()> fn) {
  if (shutting_down_) return {};
  if (at < now_) at = now_;
  const EventId id{at, next_seq_++};
  events_.emplace(id, std::move(fn));
  return id;
}

bool World::cancel(EventId id) { return id && events_.erase(id) != 0; }

void World::spawn(asio::awaitable<void> task) {
  asio::co_spawn(*ioc_, std::move(task), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
}

Rng World::rng_for(std::string_view component) const {
  Rng parent(options_.seed ^ util::fnv1a(component));
  return parent.split();
}

bool World::has_os_reactor() { return asio::has_service<asio::detail::reactor>(*ioc_); }

void World::assert_no_reactor() {
  if (has_os_reactor()) {
    fail("an OS reactor was created on the simulated io_context "
         "(a real socket, timer or resolver was used inside the simulation)");
  }
}

void World::fail(const std::string& what) { throw SimFailure(stamp(now_) + ": " + what); }

void World::count_step(std::uint64_t& steps) {
  ++steps;
  ++total_steps_;
  if (now_ != instant_) {
    instant_ = now_;
    steps_at_instant_ = 0;
  }
  if (++steps_at_instant_ > options_.max_steps_per_instant) {
    fail("livelock: " + std::to_string(options_.max_steps_per_instant) +
         " steps without virtual time advancing");
  }
  if (steps > options_.max_steps) {
    fail("step limit of " + std::to_string(options_.max_steps) + " exceeded");
  }
}

void World::drain_ready(std::uint64_t& steps) {
  for (;;) {
    if (ioc_->stopped()) ioc_->restart();
    std::size_t ran = 0;
    try {
      ran = ioc_->poll_one();
    } catch (const SimFailure&) {
      throw;
    } catch (const std::exception& e) {
      fail(std::string("exception escaped a handler: ") + e.what());
    } catch (...) {
      fail("unknown exception escaped a handler");
    }
    if (ran == 0) return;
    count_step(steps);
  }
}

void World::run(TimePoint limit, bool advance_clock) {
  assert_no_reactor();
  std::uint64_t steps = 0;
  for (;;) {
    drain_ready(steps);
    if (events_.empty()) break;
    auto it = events_.begin();
    if (it->first.at > limit) break;
    now_ = it->first.at;
    std::function<void()> fn = std::move(it->second);
    events_.erase(it);
    try {
      fn();
    } catch (const SimFailure&) {
      throw;
    } catch (const std::exception& e) {
      fail(std::string("exception escaped an event: ") + e.what());
    }
    count_step(steps);
  }
  if (advance_clock && now_ < limit) now_ = limit;
  assert_no_reactor();
}

void World::run_until(TimePoint until) { run(until, true); }

void World::run_until_idle() { run(TimePoint::max(), false); }

bool World::complete_op(OpId id, error_code ec) {
  auto it = parked_.find(id);
  if (it == parked_.end()) return false;
  Parked parked = std::move(it->second);
  parked_.erase(it);
  if (parked.slot.is_connected()) parked.slot.clear();
  post_completion(std::move(parked.handler), ec);
  return true;
}

void World::cancel_op(OpId id) {
  // Runs inside the slot's own handler: the slot must not be cleared here.
  auto it = parked_.find(id);
  if (it == parked_.end()) return;
  Parked parked = std::move(it->second);
  parked_.erase(it);
  parked.owner->abort_op(id);
  post_completion(std::move(parked.handler), asio::error::operation_aborted);
}

void World::post_completion(asio::any_completion_handler<void(error_code)> handler,
                            error_code ec) {
  if (shutting_down_) return;  // dropping the handler destroys its frame
  asio::post(*ioc_, [h = std::move(handler), ec]() mutable { std::move(h)(ec); });
}

}  // namespace llmproxy::sim
