#include "proxy/shell/upstream_attempt.h"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/verb.hpp>

#include "proxy/core/log/log.h"
#include "proxy/core/http/request_rules.h"
#include "proxy/shell/upstream_request.h"
#include "proxy/shell/worker.h"

namespace llmproxy::shell {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using env::error_code;
using openai::ErrorId;

// Upstream reads: SSE chunks are small, but non-stream answers (embeddings)
// can be large, so reads are generous.
constexpr std::size_t kReadChunk = 16 * 1024;
// More interim heads than this is an upstream that never answers.
constexpr int kMaxInterimHeads = 8;


bool is_http_parse_error(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::need_more).category();
}

bool stale_connection_error(const error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe;
}

}  // namespace

ErrorId upstream_error_for(const error_code& ec) {
  if (ec == asio::error::timed_out) return ErrorId::upstream_timeout;
  if (ec == asio::error::connection_refused || ec == asio::error::host_not_found ||
      ec == asio::error::host_not_found_try_again || ec == asio::error::network_unreachable ||
      ec == asio::error::host_unreachable)
    return ErrorId::upstream_connect_failed;
  if (is_http_parse_error(ec)) return ErrorId::upstream_protocol_error;
  return ErrorId::upstream_reset;
}

routing::AttemptFailure failure_for(const error_code& ec, bool connecting) {
  if (ec == asio::error::timed_out) return routing::AttemptFailure::timeout;
  if (connecting) return routing::AttemptFailure::connect_failure;
  return routing::AttemptFailure::reset;
}

UpstreamAttempt::UpstreamAttempt(Worker& worker, Generation& gen, Exchange& ex,
                                 ClientWatch& watch, AttemptBuffers& buffers, std::size_t backend)
    : worker_(worker),
      gen_(gen),
      ex_(ex),
      watch_(watch),
      buffers_(buffers),
      backend_(backend),
      b_(gen.config().backends[backend]),
      log_index_(ex.record.attempt_log.size()) {
  const TimePoint now = worker_.env().now();
  auto& rec = ex_.record;
  rec.backend = b_.name;
  ++rec.attempts;
  // The record's timings describe the last attempt.
  rec.upstream_sent = {};
  rec.first_byte = {};
  rec.first_token = {};
  rec.last_upstream_read = {};
  AttemptLog& l = rec.attempt_log.emplace_back();
  l.backend = static_cast<std::uint32_t>(backend_);
  l.start = now;
  l.seq_start = worker_.next_attempt_seq();
  gen_.balancer().on_start(backend_);
  ticket_ = gen_.circuit().on_attempt(backend_, now);
}

UpstreamAttempt::~UpstreamAttempt() {
  if (up_) up_->close();
  watch_.stop();
  gen_.balancer().on_end(backend_);
  if (!reported_) gen_.circuit().on_abandoned(backend_, ticket_);
  // Every attempt ends here, inside the route phase, before its request
  // ends: this is the one place its log entry is closed.
  AttemptLog& l = log();
  l.end = worker_.env().now();
  l.seq_end = worker_.next_attempt_seq();
}

AttemptLog& UpstreamAttempt::log() { return ex_.record.attempt_log[log_index_]; }

void UpstreamAttempt::report(bool backend_ok) {
  if (reported_) return;
  reported_ = true;
  const TimePoint now = worker_.env().now();
  gen_.circuit().on_result(backend_, ticket_, backend_ok, now);
  log().circuit = static_cast<std::uint8_t>(gen_.circuit().state(backend_, now));
}

void UpstreamAttempt::close() {
  watch_.stop();
  if (up_) up_->close();
}

void UpstreamAttempt::release_connection(bool reusable) {
  watch_.stop();
  if (!up_) return;
  if (reusable) {
    gen_.pool().give_back(backend_, std::move(up_), worker_.env().now(), b_.max_idle_conns);
  } else {
    up_->close();
  }
}

void UpstreamAttempt::fail(routing::AttemptFailure f, ErrorId id, std::string detail) {
  state_ = State::failed;
  log().failure = static_cast<std::uint8_t>(f);
  report(false);
  failure_ = f;
  error_ = id;
  detail_ = std::move(detail);
  ex_.record.attempt_end = worker_.env().now();
  close();
}

std::optional<Duration> UpstreamAttempt::retry_after() const {
  std::optional<Duration> out;
  for (const auto& [name, value] : parser_->fields())
    if (http::iequals(name, "retry-after"))
      out = routing::parse_retry_after(value, worker_.env().wall_now());
  return out;
}

env::Task<void> UpstreamAttempt::run(TimePoint request_deadline, bool hold_stream_head) {
  hold_stream_head_ = hold_stream_head;
  auto& env = worker_.env();
  auto& rec = ex_.record;
  const std::string_view body = ex_.upstream_body();

  UpstreamRequestInfo info;
  info.target = ex_.target();
  info.body_size = body.size();
  info.client_ip = ex_.client_ip;
  info.request_id = ex_.request_id;
  build_upstream_head(buffers_.head, ex_.request(), b_, info, buffers_.scratch);

  deadline_ = earliest(deadline_after(env.now(), b_.timeout), request_deadline);
  error_code ec;
  bool got_bytes = false;
  for (int round = 0;; ++round) {
    buffers_.in.clear();  // nothing of an earlier connection is kept
    up_ = round == 0 ? gen_.pool().take(backend_, env.now()) : nullptr;
    const bool reused = up_ != nullptr;
    if (reused) {
      ++worker_.counters().upstream_reuses;
    } else {
      ++worker_.counters().upstream_connects;
      up_ = co_await env.connect(b_.host, b_.port,
                                 earliest(deadline_, deadline_after(env.now(), b_.connect_timeout)), ec);
      if (ec) {
        log::warn("upstream connect failed", {{"backend", b_.name}, {"error", ec.message()},
                                              {"request_id", ex_.request_id}});
        fail(failure_for(ec, true), upstream_error_for(ec),
             "backend " + b_.name + ": " + ec.message());
        co_return;
      }
    }
    const boost::asio::const_buffer out[2] = {boost::asio::buffer(buffers_.head),
                                              boost::asio::buffer(body)};
    co_await up_->write(std::span<const boost::asio::const_buffer>(out, 2), deadline_, ec);
    if (ec) {
      up_->close();
      if (reused && round == 0) continue;
      fail(failure_for(ec, false), upstream_error_for(ec),
           "backend " + b_.name + ": " + ec.message());
      co_return;
    }
    rec.upstream_sent = env.now();

    // From here a client that goes away cancels the upstream request.
    watch_.start(*up_);
    first_event_deadline_ = earliest(deadline_, deadline_after(env.now(), b_.first_byte_timeout));
    ec = co_await read_head(first_event_deadline_, got_bytes);
    if (ec && reused && round == 0 && !got_bytes && !watch_.gone() &&
        stale_connection_error(ec)) {
      watch_.stop();
      up_->close();
      ++worker_.counters().stale_reuses;
      log::info("pooled upstream connection was closed by the backend; sending on a new one",
                {{"backend", b_.name}, {"request_id", ex_.request_id}});
      continue;
    }
    break;
  }
  if (ec) {
    if (watch_.gone()) {
      rec.attempt_end = env.now();
      close();
      state_ = State::client_left;
      co_return;
    }
    // A backend that never answers must look slow to latency_based.
    if (ec == boost::asio::error::timed_out && !got_bytes)
      gen_.balancer().on_first_byte(backend_, env.now() - rec.upstream_sent);
    log::warn("upstream failed before response", {{"backend", b_.name}, {"error", ec.message()},
                                                  {"request_id", ex_.request_id}});
    fail(failure_for(ec, false), upstream_error_for(ec),
         "backend " + b_.name + ": " + ec.message());
    co_return;
  }
  if (got_bytes && rec.first_byte >= rec.upstream_sent)
    gen_.balancer().on_first_byte(backend_, rec.first_byte - rec.upstream_sent);
  log().status = parser_->status();
  rec.status = parser_->status();
  state_ = State::head;
}

// The parser is made anew for each head (interim ones are dropped);
// `got_bytes` tells whether any response byte arrived.
env::Task<error_code> UpstreamAttempt::read_head(TimePoint deadline, bool& got_bytes) {
  const bool head_request = ex_.request().method() == bhttp::verb::head;
  auto fresh = [&] {
    parser_.emplace(buffers_.storage);
    // The answer to HEAD has headers only, whatever Content-Length says.
    if (head_request) parser_->skip(true);
  };
  fresh();
  int interim = 0;
  auto& env = worker_.env();
  auto& in = buffers_.in;
  for (;;) {
    if (in.size() > 0) {
      error_code ec;
      parser_->clear_body();
      const std::size_t used = parser_->put(in.data(), ec);
      in.consume(used);
      if (ec == bhttp::error::need_more) ec = {};
      if (ec) co_return ec;
      if (parser_->is_header_done() && parser_->status() / 100 == 1) {
        // 101 would switch protocols, which the gateway never asked for.
        if (parser_->status() == 101 || ++interim > kMaxInterimHeads)
          co_return bhttp::error::bad_status;
        fresh();
        continue;
      }
      if (parser_->is_header_done()) {
        const bool awaiting_event = parser_->is_event_stream() &&
                                    parser_->status() / 100 == 2 && parser_->body().empty() &&
                                    !parser_->is_done();
        if (!awaiting_event || !hold_stream_head_) {
          // A stream's first token is timed by the relay, when it reaches
          // the client.
          if (!parser_->is_event_stream()) ex_.record.first_token = env.now();
          co_return error_code{};
        }
      }
    }
    error_code ec;
    const std::size_t n =
        co_await up_->read_some(in.prepare(kReadChunk), watch_.read_deadline(deadline), ec);
    in.commit(n);
    if (n > 0) {
      ex_.record.last_upstream_read = env.now();
      if (!got_bytes) {
        got_bytes = true;
        ex_.record.first_byte = env.now();
      }
    }
    if (watch_.woke_for_client(ec, deadline)) {
      if (watch_.check()) co_return boost::asio::error::operation_aborted;
      continue;
    }
    if (ec) co_return ec;
  }
}

}  // namespace llmproxy::shell
