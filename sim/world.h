// The deterministic world: one io_context that never touches the OS, a virtual
// monotonic clock, and an event heap keyed by (time, sequence).
//
// Run loop (see docs/simulator.md): run every ready handler of the io_context
// one at a time, then jump the clock to the earliest scheduled event, fire it,
// and repeat. Events with equal times fire in scheduling order, so a run is a
// pure function of its inputs and seed.
//
// Simulated operations (timers, streams, connects, accepts) park their
// completion handler here and complete it later through the io_context (post),
// never inline, exactly like a real socket would. Parking here also lets the
// world break handler <-> coroutine-frame cycles when it is destroyed with
// operations still pending.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "proxy/core/random.h"
#include "proxy/core/time.h"
#include "sim/event_log.h"

namespace llmproxy::sim {

namespace asio = boost::asio;
using boost::system::error_code;

class Network;

// A simulated run failed: an exception escaped a handler or an event, the
// step limit was hit (livelock), or an OS reactor appeared.
class SimFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct WorldOptions {
  std::uint64_t seed = 1;
  // Wall clock = this epoch + virtual time (2026-01-01T00:00:00Z by default).
  WallTime wall_epoch = WallTime(std::chrono::seconds(1767225600));
  // Handlers + events per run_* call before the run fails as a livelock.
  std::uint64_t max_steps = 200'000'000;
  // Handlers + events without the clock moving before the run fails.
  std::uint64_t max_steps_per_instant = 2'000'000;
  bool keep_log_records = true;
};

// Handle of a scheduled event; ordered like the heap (time, then sequence).
struct EventId {
  TimePoint at{};
  std::uint64_t seq = 0;  // 0 = no event
  explicit operator bool() const { return seq != 0; }
  auto operator<=>(const EventId&) const = default;
};

class World {
 public:
  using OpId = std::uint64_t;

  // An object with parked operations. abort_op(id) is called when the
  // operation is cancelled through its handler's cancellation slot (e.g. the
  // losing side of `co_await (op || timer)`): the owner forgets the operation
  // (and cancels its events); the world then completes it with
  // operation_aborted. The owner must complete or abort all its operations
  // before it is destroyed.
  class OpOwner {
   public:
    virtual void abort_op(OpId id) = 0;

   protected:
    ~OpOwner() = default;
  };

  explicit World(const WorldOptions& options = {});
  explicit World(std::uint64_t seed);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  asio::io_context& io_context() { return *ioc_; }
  asio::any_io_executor executor() { return ioc_->get_executor(); }

  TimePoint now() const { return now_; }
  WallTime wall_now() const { return options_.wall_epoch + now_.time_since_epoch(); }
  std::uint64_t seed() const { return options_.seed; }
  const WorldOptions& options() const { return options_; }

  // Runs `fn` at virtual time `at` (clamped to now). Same-time events run in
  // scheduling order, each after the ready handlers before it have run.
  EventId schedule(TimePoint at, std::function<void()> fn);
  EventId schedule_after(Duration delay, std::function<void()> fn) {
    return schedule(now_ + delay, std::move(fn));
  }
  // True if the event was still pending (and is now cancelled).
  bool cancel(EventId id);
  bool pending(EventId id) const { return id && events_.count(id) != 0; }
  std::size_t pending_events() const { return events_.size(); }

  // Runs until virtual time `until` (the clock then reads `until`).
  void run_until(TimePoint until);
  void run_for(Duration d) { run_until(now_ + d); }
  // Runs until no handler is ready and no event is scheduled. The clock stays
  // at the last event.
  void run_until_idle();
  // Total handlers + events executed so far.
  std::uint64_t steps() const { return total_steps_; }

  // Starts a coroutine on the world's executor. An exception escaping it
  // fails the run (the run_* call throws SimFailure).
  void spawn(asio::awaitable<void> task);

  // A generator for one named component, derived from the run seed and the
  // name only (not from creation order).
  Rng rng_for(std::string_view component) const;

  EventLog& log() { return log_; }
  const EventLog& log() const { return log_; }
  // Appends a record stamped with the current virtual time.
  void record(std::string_view host, std::string_view kind, std::string detail = {}) {
    log_.add(now_, host, kind, std::move(detail));
  }

  Network& network() { return *network_; }

  // True if something created an OS reactor (a real socket or timer) on this
  // io_context. run_* calls check it and fail the run.
  bool has_os_reactor();
  void assert_no_reactor();

  // --- Parked operations (for simulated objects) -------------------------

  // Returns an awaitable that suspends the caller, parks its completion
  // handler under a new id and calls start(id). The operation ends when the
  // owner calls complete_op(id, ec); `ec` receives the result.
  template <class Start>
  auto suspend(OpOwner& owner, error_code& ec, Start start) {
    using Token = asio::redirect_error_t<asio::use_awaitable_t<>>;
    Token token(asio::use_awaitable, ec);
    return asio::async_initiate<Token, void(error_code)>(
        [this, &owner, start = std::move(start)](auto handler) mutable {
          const OpId id = this->park(owner, std::move(handler));
          start(id);
        },
        token);
  }
  bool op_pending(OpId id) const { return parked_.count(id) != 0; }
  // Posts the operation's completion; false if it is no longer pending.
  bool complete_op(OpId id, error_code ec);
  std::size_t parked_ops() const { return parked_.size(); }
  bool shutting_down() const { return shutting_down_; }

 private:
  struct Parked {
    OpOwner* owner;
    asio::cancellation_slot slot;
    asio::any_completion_handler<void(error_code)> handler;
  };
  struct CancelHook {
    CancelHook(World* w, OpId i) : world(w), id(i) {}
    World* world;
    OpId id;
    void operator()(asio::cancellation_type_t) { world->cancel_op(id); }
  };

  template <class Handler>
  OpId park(OpOwner& owner, Handler handler) {
    const OpId id = ++last_op_;
    // Type-erase first: any_completion_handler installs its own cancellation
    // state on the handler's slot and exposes a slot of its own, which is
    // where our hook must go.
    asio::any_completion_handler<void(error_code)> erased(std::move(handler));
    asio::cancellation_slot slot = erased.get_cancellation_slot();
    if (slot.is_connected()) slot.template emplace<CancelHook>(this, id);
    parked_.emplace(id, Parked{&owner, slot, std::move(erased)});
    return id;
  }
  void cancel_op(OpId id);
  void post_completion(asio::any_completion_handler<void(error_code)> handler, error_code ec);

  void run(TimePoint limit, bool advance_clock);
  void drain_ready(std::uint64_t& steps);
  void count_step(std::uint64_t& steps);
  [[noreturn]] void fail(const std::string& what);

  WorldOptions options_;
  // Declared first so it is destroyed last; reset explicitly in ~World.
  std::optional<asio::io_context> ioc_;
  TimePoint now_{};
  std::uint64_t next_seq_ = 1;
  std::map<EventId, std::function<void()>> events_;
  OpId last_op_ = 0;
  std::map<OpId, Parked> parked_;
  bool shutting_down_ = false;
  std::uint64_t total_steps_ = 0;
  std::uint64_t steps_at_instant_ = 0;
  TimePoint instant_{};
  EventLog log_;
  std::unique_ptr<Network> network_;
};

}  // namespace llmproxy::sim
