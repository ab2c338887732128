#include "proxy/shell/worker.h"

#include <boost/asio/co_spawn.hpp>

#include "proxy/core/log/log.h"
#include "proxy/shell/session.h"

namespace llmproxy::shell {

Worker::Worker(env::Env& env, std::shared_ptr<const ShellConfig> config)
    : env_(env),
      config_(std::move(config)),
      pool_(config_->backends.size(), config_->upstream_idle_max) {}

Worker::~Worker() { pool_.close_all(); }

std::size_t Worker::pick_backend() {
  const std::size_t n = config_->backends.size();
  if (n == 0) return 0;
  const std::size_t i = next_backend_ % n;
  next_backend_ = i + 1;
  return i;
}

void Worker::start_draining() {
  draining_ = true;
  for (Session* s : sessions_) s->wake_if_idle();
  pool_.close_all();
}

void Worker::close_all_sessions() {
  closed_ = true;
  for (Session* s : sessions_) s->close_now();
  pool_.close_all();
}

env::Task<void> Worker::serve(env::Acceptor& acceptor) {
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
    boost::asio::co_spawn(env_.executor(), run_session(*this, std::move(stream)),
                          [](std::exception_ptr e) {
                            if (!e) return;
                            try {
                              std::rethrow_exception(e);
                            } catch (const std::exception& ex) {
                              log::error("session failed", {{"error", ex.what()}});
                            }
                          });
  }
}

}  // namespace llmproxy::shell
