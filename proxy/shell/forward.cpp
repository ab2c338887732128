#include "proxy/shell/forward.h"

#include "proxy/core/log/log.h"
#include "proxy/shell/worker.h"

namespace llmproxy::shell {
namespace {

using routing::AttemptFailure;
using routing::RoutePlan;


env::Task<Outcome> nothing_routable(ForwardContext& ctx) {
  std::string msg;
  if (ctx.gen.config().backends.empty()) {
    msg = "no backends configured";
  } else if (!ctx.ex.record.model.empty()) {
    msg = "no healthy backend for model " + ctx.ex.record.model;
  }
  co_await ctx.writer.send_error(ctx.ex, openai::ErrorId::no_backend_available, msg);
  co_return Outcome::error;
}

// What an attempt that ended with a head or a failure means for routing.
AttemptFailure failure_of(UpstreamAttempt& a) {
  if (a.state() == UpstreamAttempt::State::failed) return a.failure();
  return routing::classify_status(a.parser().status());
}

}  // namespace

env::Task<Outcome> forward(ForwardContext ctx) {
  auto& env = ctx.worker.env();
  auto& ex = ctx.ex;
  const TimePoint deadline = deadline_after(ex.record.start, ctx.gen.config().routing.request_timeout);
  std::size_t backend = ctx.plan.start(ex.record.model, deadline, env.now(), env.rng());
  if (backend == routing::kNoBackend) co_return co_await nothing_routable(ctx);

  for (;;) {
    RoutePlan::Step step;
    {
      UpstreamAttempt attempt(ctx.worker, ctx.gen, ex, ctx.watch, ctx.attempt_buffers, backend);
      // Holding a stream's head until its first event costs the client its
      // head processing on the critical path (measured: +280 µs for Node's
      // http client); it pays only when a slow first token can still go
      // elsewhere.
      const bool hold = attempt.backend().first_byte_timeout.count() > 0 &&
                        ctx.plan.could_try_again();
      co_await attempt.run(ctx.plan.deadline(), hold);
      if (attempt.state() == UpstreamAttempt::State::client_left) {
        ex.keep_alive = false;
        co_return Outcome::client_cancel;
      }
      const AttemptFailure failure = failure_of(attempt);
      const bool has_head = attempt.state() == UpstreamAttempt::State::head;
      if (failure != AttemptFailure::none) {
        attempt.log().failure = static_cast<std::uint8_t>(failure);
        step = ctx.plan.after_failure(backend, failure,
                                      has_head ? attempt.retry_after() : std::nullopt,
                                      env.now(), env.rng());
      }
      if (step.kind == RoutePlan::Step::stop) {
        ex.record.retries = static_cast<std::uint32_t>(ctx.plan.retries());
        ex.record.fallbacks = static_cast<std::uint32_t>(ctx.plan.fallbacks());
        if (!has_head) {
          co_await ctx.writer.send_error(ex, attempt.error(), attempt.detail());
          co_return Outcome::error;
        }
        RelayContext relay{ctx.worker,        ex,
                           ctx.writer,        ctx.watch,
                           ctx.relay_buffers, ctx.event_charge,
                           ctx.client_in};
        const Outcome o = co_await relay_response(relay, attempt);
        attempt.log().relayed = ex.responding();
        co_return o;
      }
      // The held answer (an error status the request tries again after) is
      // not relayed: a 429 says nothing bad about the backend's health.
      if (has_head) {
        ex.record.attempt_end = env.now();
        attempt.report(failure == AttemptFailure::too_many_requests);
        attempt.close();
        if (ctx.watch.gone()) {
          ex.keep_alive = false;
          co_return Outcome::client_cancel;
        }
        log::info("retrying after upstream status",
                  {{"backend", attempt.backend().name},
                   {"status", std::to_string(attempt.parser().status())},
                   {"request_id", ex.request_id}});
      }
    }  // the attempt ends here (balancer, circuit, attempt log), before any wait
    backend = step.backend;
    if (step.kind == RoutePlan::Step::retry && step.wait.count() > 0) {
      env::error_code ec;
      co_await env.sleep_for(step.wait, ec);
    }
  }
}

}  // namespace llmproxy::shell
