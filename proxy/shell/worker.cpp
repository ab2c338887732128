#include "proxy/shell/worker.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>

#include "proxy/core/log/log.h"
#include "proxy/shell/builtin_endpoints.h"
#include "proxy/shell/rate_limit_filter.h"
#include "proxy/core/openai/error_catalogue.h"
#include "proxy/shell/health_prober.h"
#include "proxy/shell/session.h"
#include "proxy/stores/limiter_store.h"

namespace llmproxy::shell {

namespace {

// A connection past server.max_connections gets a short 503 and is closed,
// without reading anything: the client learns why, and it costs no buffer.
env::Task<void> refuse_connection(env::Env& env, std::unique_ptr<env::Stream> stream) {
  static const std::string kBusy = [] {
    std::string body;
    openai::append_error_body(body, openai::ErrorId::overloaded,
                              "Too many open connections. Retry later.");
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
           "Content-Length: " +
           std::to_string(body.size()) + "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" +
           body;
  }();
  env::error_code ec;
  co_await stream->write(boost::asio::buffer(kBusy), env.now() + std::chrono::seconds(5), ec);
  stream->shutdown_send();
  stream->close();
}

}  // namespace

Worker::Worker(env::Env& env, std::shared_ptr<const ShellConfig> config, WorkerOptions options)
    : env_(env),
      admission_(options.admission ? std::move(options.admission)
                                   : std::make_shared<AdmissionBudget>(
                                         config->max_connections, config->buffer_memory_budget)),
      rethrow_session_failures_(options.rethrow_session_failures) {
  current_ = make_generation(std::move(config), options);
}

std::unique_ptr<Generation> Worker::make_generation(std::shared_ptr<const ShellConfig> config,
                                                    WorkerOptions& options) {
  GenerationParts parts;
  parts.config = std::move(config);
  parts.health = std::move(options.health);
  parts.limiter = std::move(options.limiter);
  parts.shared_state = std::move(options.shared_state);
  parts.probe_health = options.probe_health;
  Pipeline& p = parts.pipeline;
  p.add_endpoint("/health", std::make_shared<HealthEndpoint>());
  p.add_endpoint("/ready", std::make_shared<ReadyEndpoint>(*this));
  if (parts.limiter) p.add_filter(std::make_unique<RateLimitFilter>(parts.limiter));
  for (auto& f : options.filters) p.add_filter(std::move(f));
  for (auto& o : options.observers) p.add_observer(std::move(o));
  for (auto& t : taps_) p.add_observer(t);
  for (auto& [path, h] : options.endpoints) p.add_endpoint(std::move(path), std::move(h));
  for (auto& [path, h] : options.admin_endpoints)
    p.add_endpoint(std::move(path), std::move(h), Listener::admin);
  return std::make_unique<Generation>(env_, next_generation_id_++, std::move(parts));
}

void Worker::observe(std::function<void(const RequestRecord&)> fn) {
  struct Tap final : RequestObserver {
    explicit Tap(std::function<void(const RequestRecord&)> f) : fn(std::move(f)) {}
    void on_request_end(const RequestRecord& r) override { fn(r); }
    std::function<void(const RequestRecord&)> fn;
  };
  auto tap = std::make_shared<Tap>(std::move(fn));
  taps_.push_back(tap);
  current_->pipeline().add_observer(tap);
  for (auto& g : retiring_) g->pipeline().add_observer(tap);
}

void Worker::reload(std::shared_ptr<const ShellConfig> config, WorkerOptions options) {
  auto next = make_generation(std::move(config), options);
  next->carry_over_from(*current_);
  current_->stop_background();
  retiring_.push_back(std::move(current_));
  current_ = std::move(next);
  if (background_ && !draining_ && !closed_) start_prober();
  retire_unused();
}

Worker::Pin::Pin(Worker& w) : w_(w), g_(w.current()) { g_.pin(); }

Worker::Pin::~Pin() {
  g_.unpin();
  if (&g_ != w_.current_.get() && g_.pins() == 0) w_.retire_unused();
}

void Worker::retire_unused() {
  if (retire_posted_ || retiring_.empty()) return;
  retire_posted_ = true;
  boost::asio::post(env_.executor(), [this, alive = std::weak_ptr<int>(alive_)] {
    if (alive.expired()) return;
    retire_posted_ = false;
    // A generation whose prober is still winding down is looked at again
    // when the prober's run() returns (start_prober's callback).
    std::erase_if(retiring_, [](const std::unique_ptr<Generation>& g) {
      return g->pins() == 0 && !g->prober_running();
    });
  });
}

void Worker::start_prober() {
  current_->start_prober([this, alive = std::weak_ptr<int>(alive_)] {
    if (!alive.expired()) retire_unused();
  });
}

std::list<Session*>::iterator Worker::session_opened(Session* s) {
  ++counters_.connections_accepted;
  sessions_.push_front(s);
  return sessions_.begin();
}

void Worker::session_closed(std::list<Session*>::iterator it) { sessions_.erase(it); }

// Each generation closes its idle connections and limiter client as it is
// destroyed.
Worker::~Worker() = default;

void Worker::start_background() {
  background_ = true;
  start_prober();
}

void Worker::stop_background() {
  background_ = false;
  current_->stop_background();
}

void Worker::start_draining() {
  draining_ = true;
  stop_background();
  for (Session* s : sessions_) s->wake_if_idle();
  current_->pool().close_all();
  for (auto& g : retiring_) g->pool().close_all();
}

void Worker::close_all_sessions() {
  closed_ = true;
  stop_background();
  current_->close();
  for (auto& g : retiring_) g->close();
  for (Session* s : sessions_) s->close_now();
}

env::Task<void> Worker::serve(env::Acceptor& acceptor, Listener listener) {
  for (;;) {
    env::error_code ec;
    auto stream = co_await acceptor.accept(ec);
    if (ec) {
      if (ec == boost::asio::error::operation_aborted || draining_) break;
      // EMFILE and friends: log and keep serving the connections we have.
      log::error("accept failed", {{"error", ec.message()}});
      env::error_code sleep_ec;
      co_await env_.sleep_for(std::chrono::milliseconds(50), sleep_ec);
      continue;
    }
    if (draining_) {
      stream->close();
      continue;
    }
    if (!admission_->try_open_connection()) {
      ++counters_.connections_refused;
      boost::asio::co_spawn(env_.executor(), refuse_connection(env_, std::move(stream)),
                            [this](std::exception_ptr e) { session_ended(e); });
      continue;
    }
    boost::asio::co_spawn(env_.executor(), run_session(*this, std::move(stream), listener),
                          [this](std::exception_ptr e) { session_ended(e); });
  }
}

void Worker::session_ended(std::exception_ptr e) {
  if (!e) return;
  ++counters_.sessions_failed;
  if (rethrow_session_failures_) std::rethrow_exception(e);
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log::error("session failed", {{"error", ex.what()}});
  } catch (...) {
    log::error("session failed", {{"error", "unknown exception"}});
  }
}

}  // namespace llmproxy::shell
