#include "proxy/shell/session.h"

#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <array>
#include <limits>

#include "proxy/core/log/log.h"
#include "proxy/core/openai/request_fields.h"
#include "proxy/core/openai/sse_relay.h"
#include "proxy/core/http/request_rules.h"
#include "proxy/shell/forward.h"
#include "proxy/shell/pipeline.h"
#include "proxy/shell/worker.h"

namespace llmproxy::shell {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using env::error_code;
using openai::ErrorId;

// Client reads. 4 KiB was tried to cut memory per open stream: it saved only
// ~0.3 KB per stream and added ~80 µs to the time to first SSE chunk
// (bench/e2e.sh, 2026-11-26; cause not yet understood), so it stays 16 KiB.
constexpr std::size_t kClientReadChunk = 16 * 1024;


std::string_view buffer_view(const beast::flat_buffer& b) {
  const auto d = b.data();
  return {static_cast<const char*>(d.data()), d.size()};
}

// 400 or 501 for a request whose body length is ambiguous or encoded in a
// way the gateway does not forward (proxy/core/http/framing.h).
template <class Request>
std::optional<ErrorId> framing_error(const Request& req) {
  http::FramingFields f;
  std::string scratch;  // only when a request has several Transfer-Encoding fields
  for (const auto& field : req) {
    const auto v = field.value();
    const std::string_view value(v.data(), v.size());
    if (field.name() == bhttp::field::transfer_encoding) {
      ++f.te_fields;
      http::join_list(f.transfer_encoding, value, scratch);
    } else if (field.name() == bhttp::field::content_length) {
      ++f.content_length_fields;
      f.content_length = value;
    }
  }
  f.http_minor = req.version() % 10;
  switch (http::check_request_framing(f)) {
    case http::FramingVerdict::ok: return std::nullopt;
    case http::FramingVerdict::bad_request: return ErrorId::invalid_request;
    case http::FramingVerdict::not_implemented: return ErrorId::not_implemented;
  }
  return ErrorId::invalid_request;
}

}  // namespace

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::completed: return "completed";
    case Outcome::error: return "error";
    case Outcome::rejected: return "rejected";
    case Outcome::client_cancel: return "client_cancel";
  }
  return "error";
}

Session::Session(Worker& worker, std::unique_ptr<env::Stream> client, Listener listener)
    : worker_(worker),
      client_(std::move(client)),
      listener_(listener),
      client_ip_(client_->remote_ip()),
      body_charge_(worker.admission()),
      event_charge_(worker.admission()),
      writer_(worker, *client_),
      watch_(worker.env(), *client_) {
  registry_ = worker_.session_opened(this);
}

Session::~Session() {
  worker_.admission().close_connection();
  worker_.session_closed(registry_);
}

void Session::wake_if_idle() {
  if (state_ == ConnState::waiting || state_ == ConnState::lingering) client_->cancel();
}

env::Task<void> run_session(Worker& worker, std::unique_ptr<env::Stream> client,
                            Listener listener) {
  Session s(worker, std::move(client), listener);
  co_await s.run();
}

env::Task<void> Session::run() {
  while (!worker_.draining()) {
    const ReadResult r = co_await read_request();
    if (r == ReadResult::failed) {
      // The request was answered early (its body may be unread): free its
      // buffers now, then let the client read the answer.
      body_charge_.release();
      parser_.reset();
      co_await linger_close();
      co_return;
    }
    if (r != ReadResult::request) break;
    state_ = ConnState::handling;
    worker_.request_started();
    {
      // The request runs to its end on the config current now (a reload
      // while it runs changes the next request's).
      const Worker::Pin pin(worker_);
      gen_ = &pin.get();
      co_await handle_request();
      gen_ = nullptr;
    }
    worker_.request_ended();
    body_charge_.release();
    if (!ex_.keep_alive || !client_->is_open()) break;
  }
  // Client bytes that will not be answered (a request pipelined behind the
  // last response, or behind a drain's Connection: close): closing now
  // would reset the connection, and a reset can destroy the response's
  // last bytes before the client reads them. Linger instead.
  if (client_->is_open() && input_pending()) {
    co_await linger_close();
  } else {
    client_->close();
  }
}

bool Session::input_pending() {
  return in_.size() > 0 || client_->peek() == env::Readiness::data;
}

env::Task<void> Session::linger_close() {
  // nginx's lingering_time / lingering_timeout, shorter: long enough for a
  // client to notice the answer and stop, bounded so that a client that
  // never stops costs one small buffer for a few seconds.
  constexpr Duration kLingerTotal = std::chrono::seconds(5);
  constexpr Duration kLingerIdle = std::chrono::seconds(1);
  constexpr std::size_t kLingerBytes = 64u << 20;
  auto& env = worker_.env();
  if (!client_->is_open()) co_return;
  client_->shutdown_send();
  const TimePoint end = env.now() + kLingerTotal;
  std::size_t discarded = in_.size();
  in_.clear();
  state_ = ConnState::lingering;  // a drain may end the wait at once
  while (discarded < kLingerBytes && !worker_.closed()) {
    error_code ec;
    const std::size_t n = co_await client_->read_some(in_.prepare(kClientReadChunk),
                                                      earliest(end, env.now() + kLingerIdle), ec);
    discarded += n;
    if (ec) break;
  }
  in_.clear();
  in_.shrink_to_fit();
  client_->close();
}

env::Task<Session::ReadResult> Session::refuse(ErrorId id, std::string_view message) {
  ex_.keep_alive = false;
  co_await writer_.send_error(ex_, id, message);
  co_return ReadResult::failed;
}

env::Task<Session::ReadResult> Session::read_request() {
  const ShellConfig& cfg = worker_.config();
  auto& env = worker_.env();
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(cfg.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  parser_->body_limit(cfg.max_body_size);
  parser_->eager(true);
  ex_.reset_idle();
  ex_.request_id.clear();  // an early error gets a fresh one, not the last request's

  bool started = in_.size() > 0;
  bool sent_continue = false;
  TimePoint deadline = started ? deadline_after(env.now(), cfg.read_timeout)
                               : deadline_after(env.now(), cfg.idle_timeout);
  line_guard_.reset();
  bool framing_checked = false;
  for (;;) {
    if (in_.size() > 0) {
      // A header line Beast cannot store would make it throw (431), and a
      // folded header line could be read differently by a proxy in front (400).
      if (!parser_->is_header_done()) {
        const auto v = line_guard_.check(buffer_view(in_));
        if (v == http::HeaderLineGuard::Verdict::line_too_long)
          co_return co_await refuse(ErrorId::header_too_large, "a request header line is too long");
        if (v != http::HeaderLineGuard::Verdict::ok)
          co_return co_await refuse(ErrorId::invalid_request,
                                    "obsolete line folding in request headers");
      }
      error_code ec;
      const bool in_head = !parser_->is_header_done();
      const std::size_t used = parser_->put(in_.data(), ec);
      in_.consume(used);
      if (in_head) line_guard_.consumed(used);
      if (ec == bhttp::error::need_more) ec = {};
      // Framing is judged once, on the head alone, before the body counts
      // for anything: eager parsing may already have taken some of it, or
      // failed on it (a body framed by a coding the gateway refuses).
      if (parser_->is_header_done() && !framing_checked) {
        framing_checked = true;
        if (const auto bad = framing_error(parser_->get()))
          co_return co_await refuse(*bad, *bad == ErrorId::not_implemented
                                              ? "unsupported Transfer-Encoding"
                                              : "ambiguous request framing (Transfer-Encoding / "
                                                "Content-Length)");
      }
      if (ec == bhttp::error::header_limit) co_return co_await refuse(ErrorId::header_too_large);
      if (ec == bhttp::error::body_limit) co_return co_await refuse(ErrorId::request_too_large);
      if (ec)
        co_return co_await refuse(ErrorId::invalid_request,
                                  "malformed HTTP request: " + ec.message());
      // The body's buffer, not its length so far: Beast reserves a declared
      // Content-Length up front.
      if (!body_charge_.charge_to(parser_->get().body().capacity()))
        co_return co_await refuse(ErrorId::overloaded);
      if (parser_->is_done()) co_return ReadResult::request;
      if (parser_->is_header_done() && !sent_continue) {
        sent_continue = true;
        auto expect = parser_->get()[bhttp::field::expect];
        if (http::iequals(std::string_view(expect.data(), expect.size()), "100-continue")) {
          static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
          const asio::const_buffer out[1] = {asio::buffer(kContinue)};
          const bool written = co_await writer_.write(std::span<const asio::const_buffer>(out, 1));
          if (!written) co_return ReadResult::closed;
        }
      }
    }
    state_ = started ? ConnState::reading : ConnState::waiting;
    error_code ec;
    const std::size_t n =
        co_await client_->read_some(in_.prepare(kClientReadChunk), deadline, ec);
    state_ = ConnState::reading;
    in_.commit(n);
    if (ec) {
      if (!started && in_.size() == 0) co_return ReadResult::closed;  // idle close, EOF, drain
      if (ec == asio::error::timed_out) co_return co_await refuse(ErrorId::request_timeout);
      co_return ReadResult::closed;  // client went away mid-request: nobody to answer
    }
    if (!started) {
      started = true;
      deadline = deadline_after(env.now(), cfg.read_timeout);
    }
  }
}

void Session::end_exchange(Outcome outcome) {
  if (!ex_.open()) return;
  auto& rec = ex_.record;
  rec.outcome = outcome;
  rec.end = worker_.env().now();
}

env::Task<void> Session::handle_request() {
  ex_.begin(parser_->get(), worker_.env().now(), worker_.env().wall_now(), worker_.env().rng());
  ex_.client_ip = client_ip_;
  ex_.record.client_ip.assign(client_ip_);
  auto match = http::classify(ex_.record.method, ex_.path(), gen_->config().metrics_path);
  // The admin listener answers its own endpoints only: anything else, /v1
  // included, is an unknown path there.
  if (listener_ == Listener::admin && match.route != http::Route::admin) match = http::RouteMatch{};
  ex_.route = match.route;
  ex_.record.route = static_cast<std::uint8_t>(match.route);

  Outcome outcome = Outcome::rejected;
  std::size_t filters_ran = 0;
  if (http::is_proxied(match.route)) {
    outcome = co_await handle_proxied(match, filters_ran);
  } else if (!match.method_allowed) {
    co_await send_method_not_allowed(match.allow);
  } else {
    outcome = co_await answer_endpoint(match.route);
  }
  end_exchange(outcome);
  // A response that ends the connection ends it now, not after the
  // filters' end work (a store round trip). With client bytes unread (a
  // pipelined request) a close would send a reset that can destroy the
  // response's last bytes before the client reads them (an SSE error
  // event): the sending side is shut instead, and run() lingers.
  if (!ex_.keep_alive) {
    if (input_pending()) {
      client_->shutdown_send();
    } else {
      client_->close();
    }
  }
  const auto& filters = gen_->pipeline().filters();
  for (std::size_t i = filters_ran; i-- > 0;) co_await filters[i]->on_end(ex_);
  if (ex_.mark_ended()) gen_->pipeline().notify_end(ex_.record);
}

env::Task<Outcome> Session::answer_endpoint(http::Route route) {
  EndpointHandler* h =
      route == http::Route::not_found ? nullptr : gen_->pipeline().endpoint(ex_.path(), listener_);
  if (!h) {
    co_await writer_.send_error(ex_, ErrorId::not_found,
                                "no route for " + std::string(ex_.path()));
    co_return Outcome::rejected;
  }
  scratch_.clear();
  const EndpointResponse r = co_await h->handle_async(ex_, scratch_);
  if (r.error) {
    co_await writer_.send_error(ex_, *r.error, r.error_message);
    co_return Outcome::rejected;
  }
  co_await writer_.send_simple(ex_, r.status, r.content_type, scratch_);
  co_return Outcome::completed;
}

std::optional<ErrorId> Session::read_body_fields() {
  if (!http::needs_json_body(ex_.route)) return std::nullopt;
  const std::string& body = ex_.request().body();
  const auto fields = openai::read_request_fields(body, scratch_);
  if (fields.error) return fields.error;
  if (fields.model) ex_.record.model.assign(*fields.model);
  ex_.record.stream = fields.stream;
  if (fields.max_completion_tokens) ex_.max_tokens = *fields.max_completion_tokens;
  if (fields.max_tokens) ex_.max_tokens = *fields.max_tokens;
  ex_.prompt_bytes = fields.prompt_bytes;
  // Streaming requests learn their usage: ask the backend for it (the
  // extra chunk is stripped again on the way back).
  ex_.strip_usage =
      fields.stream && openai::inject_include_usage(body, fields, ex_.rewritten_body);
  ex_.body_rewritten = ex_.strip_usage;
  return std::nullopt;
}

env::Task<void> Session::send_method_not_allowed(std::string_view allow) {
  std::string header = "Allow: ";
  header += allow;
  header += "\r\n";
  co_await writer_.send_error(ex_, ErrorId::method_not_allowed, {}, header);
}

env::Task<bool> Session::run_filters(FilterPhase until, std::size_t& next, Outcome& outcome) {
  const auto& filters = gen_->pipeline().filters();
  while (next < filters.size() && filters[next]->phase() < until) {
    FilterVerdict v = co_await filters[next]->on_request(ex_);
    if (v.error) {
      co_await writer_.send_error(ex_, *v.error, v.message, v.extra_headers);
      outcome = Outcome::rejected;
      co_return false;
    }
    ++next;  // its on_end runs at the end
    if (v.respond_status != 0) {
      co_await writer_.send_empty(ex_, v.respond_status, v.extra_headers);
      outcome = Outcome::completed;
      co_return false;
    }
  }
  co_return true;
}

// /v1 routes: the early filters (observe, cors), the method check, the JSON
// body, the other filters, then the route phase. The body's fields are read
// first (the early filters see model and stream), but a bad body is
// answered after them, so its 400 carries CORS headers.
env::Task<Outcome> Session::handle_proxied(const http::RouteMatch& match,
                                           std::size_t& filters_ran) {
  Outcome outcome = Outcome::rejected;
  const std::optional<ErrorId> bad_body =
      match.method_allowed ? read_body_fields() : std::nullopt;
  const bool early_passed = co_await run_filters(kFirstPhaseAfterBody, filters_ran, outcome);
  if (!early_passed) co_return outcome;
  if (!match.method_allowed) {
    co_await send_method_not_allowed(match.allow);
    co_return Outcome::rejected;
  }
  if (bad_body) {
    co_await writer_.send_error(ex_, *bad_body);
    co_return Outcome::rejected;
  }
  constexpr auto kAll = static_cast<FilterPhase>(0xff);
  const bool all_passed = co_await run_filters(kAll, filters_ran, outcome);
  if (!all_passed) co_return outcome;
  Generation& gen = *gen_;
  // One plan per session, made again only when a reload changed the
  // generation (its buffers keep their capacity across requests).
  if (!plan_ || plan_generation_ != gen.id()) {
    plan_.emplace(gen, gen.balancer(), gen.config().routing.fallback, gen.config().routing.retry);
    plan_generation_ = gen.id();
  }
  ForwardContext ctx{worker_,          gen,            ex_,           writer_, watch_, *plan_,
                     attempt_buffers_, relay_buffers_, event_charge_, in_};
  co_return co_await forward(ctx);
}

}  // namespace llmproxy::shell
