#include "fake_backends/fake_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <exception>
#include <iostream>
#include <optional>

#include "fake_backends/http_format.h"
#include "fake_backends/openai_response.h"

namespace llmproxy::fake {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

constexpr std::size_t kMaxPipelinedBytes = 1 << 20;
constexpr std::string_view kJson = "application/json";

template <class S>
std::string_view sv(const S& s) {
  return std::string_view(s.data(), s.size());
}

// Counts an inference request in flight for its whole lifetime.
class InFlight {
 public:
  explicit InFlight(FakeStats& s) : s_(s) {
    s_.max_in_flight = std::max(s_.max_in_flight, ++s_.in_flight);
  }
  ~InFlight() { --s_.in_flight; }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  FakeStats& s_;
};

bool acts_on_inference(const FaultSpec& f) {
  return f.status || f.reset_before_headers || f.hang || f.reset_after || f.stall_after ||
         f.malformed_at || f.no_done || f.slow_headers > Duration::zero();
}

}  // namespace

struct FakeServer::Connection {
  explicit Connection(std::unique_ptr<env::Stream> s) : stream(std::move(s)) {}

  std::unique_ptr<env::Stream> stream;
  std::optional<http::request_parser<http::string_body>> parser;
  std::string in;    // received, not yet parsed (pipelined requests)
  std::string out;   // response head, chunk framing
  std::string ev;    // SSE events of the current write
  std::string text;  // scratch for one token's text
  std::array<char, 4096> rbuf;
  bool granted = false;  // release_slot() handed this connection a slot
  AnswerLog answer;      // the inference answer being written (on_answer)
  std::list<Connection*>::iterator registry_pos;
  std::list<Connection*>::iterator queue_pos;
};

// Frees a generation slot when a response ends, however it ends.
class SlotGuard {
 public:
  explicit SlotGuard(std::function<void()> release) : release_(std::move(release)) {}
  ~SlotGuard() { release_(); }
  SlotGuard(const SlotGuard&) = delete;
  SlotGuard& operator=(const SlotGuard&) = delete;

 private:
  std::function<void()> release_;
};

FakeServer::FakeServer(env::Env& env, FakeConfig config)
    : env_(env), config_(std::move(config)), start_(env.now()) {
  common_headers_ = "x-fake-backend: ";
  common_headers_ += config_.name;
  common_headers_ += "\r\n";
}

FakeServer::~FakeServer() = default;

void FakeServer::log(std::string_view message) const {
  if (config_.log) {
    config_.log(message);
  } else {
  }
}

// --- lifecycle --------------------------------------------------------------

env::Task<void> FakeServer::run(env::Acceptor& acceptor) {
  if (stopping_) co_return;
  acceptor_ = &acceptor;
  start_ = env_.now();
  while (!stopping_) {
    error_code ec;
    std::unique_ptr<env::Stream> stream = co_await acceptor.accept(ec);
    if (ec || !stream) {
      if (stopping_ || ec == asio::error::operation_aborted) break;
      log("accept failed: " + ec.message());
      // Back off so a persistent error (e.g. out of descriptors) cannot spin.
      co_await env_.sleep_for(std::chrono::milliseconds(10), ec);
      continue;
    }
    ++stats_.connections_accepted;
    // serve_connection catches everything itself; the handler is a backstop
    // that must not touch `this` (the server may be gone by then).
    asio::co_spawn(env_.executor(), serve_connection(std::move(stream)), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::cerr << "fake-openai: escaped exception: " << ex.what() << '\n';
      } catch (...) {
        std::cerr << "fake-openai: escaped unknown exception\n";
      }
    });
  }
  acceptor_ = nullptr;
  while (!connections_.empty()) {
    drain_timer_ = env_.make_timer();
    error_code ec;
    co_await drain_timer_->sleep_until(kNoDeadline, ec);
  }
  drain_timer_.reset();
}

void FakeServer::stop() {
  if (stopping_) return;
  stopping_ = true;
  if (acceptor_) acceptor_->close();
  for (Connection* c : connections_) c->stream->close();
}

env::Task<void> FakeServer::serve_connection(std::unique_ptr<env::Stream> stream) {
  auto owned = std::make_unique<Connection>(std::move(stream));
  Connection& c = *owned;
  c.registry_pos = connections_.insert(connections_.end(), &c);
  ++stats_.connections_open;
  try {
    co_await connection_loop(c);
  } catch (const std::exception& e) {
    ++stats_.internal_errors;
    log(std::string("connection error: ") + e.what());
  } catch (...) {
    ++stats_.internal_errors;
    log("connection error: unknown exception");
  }
  if (c.stream->is_open()) c.stream->close();
  connections_.erase(c.registry_pos);
  --stats_.connections_open;
  if (connections_.empty() && drain_timer_) drain_timer_->cancel();
}

// --- HTTP -------------------------------------------------------------------

env::Task<void> FakeServer::connection_loop(Connection& c) {
  while (!stopping_) {
    c.parser.emplace();
    c.parser->body_limit(config_.max_body_bytes);
    c.parser->eager(true);
    const ReadStatus rs = co_await read_request(c);
    if (rs == ReadStatus::closed) co_return;
    if (rs != ReadStatus::ok) {
      ApiError e;
      e.type = "invalid_request_error";
      if (rs == ReadStatus::body_too_large) {
        e.status = 413;
        e.message = "Request body too large.";
      } else if (rs == ReadStatus::header_too_large) {
        e.status = 431;
        e.message = "Request header fields too large.";
      } else {
        e.status = 400;
        e.message = "Malformed HTTP request.";
      }
      co_await send_error(c, e, /*keep_alive=*/false);
      co_return;
    }
    const HttpRequest req = c.parser->release();
    c.parser.reset();
    const bool keep_alive = req.keep_alive();
    const Outcome outcome = co_await handle_request(c, req, keep_alive);
    if (outcome == Outcome::gone) co_return;
    if (outcome == Outcome::close || !keep_alive) {
      c.stream->close();
      co_return;
    }
  }
}

env::Task<FakeServer::ReadStatus> FakeServer::read_request(Connection& c) {
  auto& p = *c.parser;
  bool started = !c.in.empty();
  bool sent_continue = false;
  for (;;) {
    if (!c.in.empty()) {
      error_code ec;
      const std::size_t used = p.put(asio::buffer(c.in.data(), c.in.size()), ec);
      c.in.erase(0, used);
      if (p.is_done()) co_return ReadStatus::ok;
      if (ec && ec != http::error::need_more) {
        if (ec == http::error::body_limit) co_return ReadStatus::body_too_large;
        if (ec == http::error::header_limit) co_return ReadStatus::header_too_large;
        co_return ReadStatus::bad_request;
      }
      // curl and others wait for this before sending a large body.
      if (p.is_header_done() && !sent_continue &&
          boost::beast::iequals(p.get()[http::field::expect], "100-continue")) {
        sent_continue = true;
        const bool sent = co_await write(c, "HTTP/1.1 100 Continue\r\n\r\n");
        if (!sent) co_return ReadStatus::closed;
      }
      if (used > 0 && !c.in.empty()) continue;
    }
    if (stopping_) co_return ReadStatus::closed;
    const Duration idle = config_.profile.idle_timeout;
    const TimePoint deadline =
        (!started && idle > Duration::zero()) ? env_.now() + idle : kNoDeadline;
    error_code ec;
    const std::size_t n = co_await c.stream->read_some(asio::buffer(c.rbuf), deadline, ec);
    if (n > 0) {
      c.in.append(c.rbuf.data(), n);
      started = true;
    }
    if (ec && n == 0) co_return ReadStatus::closed;
  }
}

env::Task<FakeServer::Outcome> FakeServer::handle_request(Connection& c, const HttpRequest& req,
                                                          bool keep_alive) {
  const Endpoint ep = classify_target(sv(req.target()));
  ++stats_.requests_by_endpoint[static_cast<std::size_t>(ep)];
  ++stats_.requests_total;
  if (config_.on_request) config_.on_request(req);

  if (ep == Endpoint::unknown) {
    ApiError e{404, "invalid_request_error", "unknown_url", "",
               "Unknown request URL: " + std::string(sv(req.method_string())) + " " +
                   std::string(sv(req.target()))};
    co_return co_await send_error(c, e, keep_alive);
  }
  if (!method_allowed(ep, sv(req.method_string()))) {
    ApiError e{405, "invalid_request_error", "method_not_allowed", "",
               "Method " + std::string(sv(req.method_string())) + " not allowed."};
    const std::string allow = "Allow: " + std::string(allowed_method(ep)) + "\r\n";
    co_return co_await send_error(c, e, keep_alive, allow);
  }

  FaultSpec fault;
  std::string fault_error;
  if (!resolve_faults(req, fault, fault_error)) {
    ApiError e{400, "invalid_request_error", "bad_fault_spec", "x-fake-fault",
               "Invalid x-fake-fault header: " + fault_error};
    co_return co_await send_error(c, e, keep_alive);
  }

  switch (ep) {
    case Endpoint::health:
      if (fault.health == HealthMode::down || fault.health == HealthMode::hang)
        ++stats_.faults_injected;
      co_return co_await serve_health(c, fault, keep_alive);
    case Endpoint::models: {
      const std::string body = models_body(config_.profile.models, created_now());
      co_return co_await send_response(c, 200, kJson, body, keep_alive);
    }
    default:
      if (acts_on_inference(fault)) ++stats_.faults_injected;
      co_return co_await serve_inference(c, ep, req, fault, keep_alive);
  }
}

env::Task<FakeServer::Outcome> FakeServer::send_response(Connection& c, int status,
                                                         std::string_view content_type,
                                                         std::string_view body, bool keep_alive,
                                                         std::string_view extra_headers) {
  c.out.clear();
  append_status_line(c.out, status);
  append_header(c.out, "Content-Type", content_type);
  append_header(c.out, "Content-Length", body.size());
  c.out += common_headers_;
  c.out += extra_headers;
  if (!keep_alive) append_header(c.out, "Connection", "close");
  c.out += "\r\n";
  // Awaited into a local, never inside a condition: GCC 12 miscompiled
  // `if (!co_await ...) co_return ...;` here (resumed a frame with a bad
  // resume index), so this file avoids the pattern everywhere.
  const bool sent = co_await write(c, c.out, body);
  if (!sent) co_return Outcome::gone;
  co_return keep_alive ? Outcome::keep_alive : Outcome::close;
}

env::Task<FakeServer::Outcome> FakeServer::send_error(Connection& c, const ApiError& e,
                                                      bool keep_alive,
                                                      std::string_view extra_headers) {
  const std::string body = error_body(e);
  co_return co_await send_response(c, e.status, kJson, body, keep_alive, extra_headers);
}

// --- waiting, writing, slots ------------------------------------------------

env::Task<FakeServer::Wake> FakeServer::park(Connection& c, TimePoint until) {
  for (;;) {
    if (c.granted) co_return Wake::granted;
    if (stopping_) co_return Wake::stopped;
    if (until != kNoDeadline && env_.now() >= until) co_return Wake::elapsed;
    // A client that pipelines without limit is not worth buffering for.
    if (c.in.size() > kMaxPipelinedBytes) {
      c.stream->close();
      co_return Wake::peer_gone;
    }
    error_code ec;
    const std::size_t n = co_await c.stream->read_some(asio::buffer(c.rbuf), until, ec);
    if (n > 0) c.in.append(c.rbuf.data(), n);
    if (c.granted) co_return Wake::granted;  // the grant may race a completion
    if (!ec) continue;
    if (ec == asio::error::timed_out) co_return Wake::elapsed;
    if (stopping_) co_return Wake::stopped;
    if (ec == asio::error::operation_aborted) continue;  // a cancel meant for someone else
    co_return Wake::peer_gone;  // eof, reset, or any other failure
  }
}

env::Task<bool> FakeServer::write(Connection& c, std::string_view a, std::string_view b,
                                  std::string_view d) {
  std::array<asio::const_buffer, 3> bufs{asio::buffer(a.data(), a.size()),
                                         asio::buffer(b.data(), b.size()),
                                         asio::buffer(d.data(), d.size())};
  const std::size_t count = !d.empty() ? 3 : !b.empty() ? 2 : 1;
  error_code ec;
  co_await c.stream->write(std::span<const asio::const_buffer>(bufs.data(), count), kNoDeadline, ec);
  if (ec) {
    if (!stopping_) ++stats_.client_cancels;
    co_return false;
  }
  co_return true;
}

void FakeServer::take_slot() {
  stats_.max_active = std::max(stats_.max_active, ++stats_.active);
}

env::Task<bool> FakeServer::acquire_slot(Connection& c) {
  const std::uint32_t cap = config_.profile.max_concurrency;
  if (cap == 0 || (stats_.active < cap && waiters_.empty())) {
    take_slot();
    co_return true;
  }
  c.queue_pos = waiters_.insert(waiters_.end(), &c);
  stats_.max_queued = std::max(stats_.max_queued, ++stats_.queued);
  const Wake w = co_await park(c, kNoDeadline);
  --stats_.queued;
  if (w == Wake::granted) {
    c.granted = false;  // release_slot() passed its slot on: active is unchanged
    co_return true;
  }
  waiters_.erase(c.queue_pos);
  if (w == Wake::peer_gone) ++stats_.client_cancels;
  co_return false;
}

void FakeServer::release_slot() {
  if (!waiters_.empty() && !stopping_) {
    Connection* next = waiters_.front();
    waiters_.pop_front();
    next->granted = true;
    next->stream->cancel();  // wakes its park()
    return;
  }
  --stats_.active;
}

FakeServer::Outcome FakeServer::lost(Wake w) {
  if (w == Wake::peer_gone) ++stats_.client_cancels;
  return Outcome::gone;
}

void FakeServer::reset(Connection& c) {
  ++stats_.resets_sent;
  c.stream->reset();
}

// --- faults and small helpers ------------------------------------------------

bool FakeServer::fires(double probability) {
  if (probability >= 1.0) return true;
  if (probability <= 0.0) return false;
  return env_.rng().uniform() < probability;
}

bool FakeServer::resolve_faults(const HttpRequest& req, FaultSpec& out, std::string& error) {
  out = FaultSpec{};
  const Duration since_start = env_.now() - start_;
  for (const FaultWindow& w : config_.faults) {
    if (w.active_at(since_start) && fires(w.spec.probability)) merge_fault(out, w.spec);
  }
  if (!config_.allow_fault_header) return true;
  const auto it = req.find("x-fake-fault");
  if (it == req.end()) return true;
  const std::string_view text = sv(it->value());
  if (text.find_first_not_of(" \t") == std::string_view::npos) return true;
  FaultSpec from_header;
  if (!parse_fault_spec(text, from_header, error)) return false;
  if (fires(from_header.probability)) merge_fault(out, from_header);
  return true;
}

bool FakeServer::serves_model(std::string_view model) const {
  for (const auto& m : config_.profile.models) {
    if (m == "*" || m == model) return true;
  }
  return false;
}

std::string FakeServer::next_id(std::string_view prefix) {
  std::string id(prefix);
  id += config_.name;
  id += '-';
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, ++next_seq_);
  (void)ec;
  id.append(buf, end);
  return id;
}

std::int64_t FakeServer::created_now() const {
  return std::chrono::duration_cast<std::chrono::seconds>(env_.wall_now().time_since_epoch()).count();
}

// --- endpoints ----------------------------------------------------------------

env::Task<FakeServer::Outcome> FakeServer::serve_health(Connection& c, const FaultSpec& f,
                                                        bool keep_alive) {
  if (f.health == HealthMode::hang) {
    const Wake w = co_await park(c, kNoDeadline);
    co_return lost(w);
  }
  if (f.health == HealthMode::down) {
    co_return co_await send_response(c, 503, kJson, R"({"status":"unhealthy"})", keep_alive);
  }
  co_return co_await send_response(c, 200, kJson, R"({"status":"ok"})", keep_alive);
}

env::Task<FakeServer::Outcome> FakeServer::serve_inference(Connection& c, Endpoint ep,
                                                           const HttpRequest& req,
                                                           const FaultSpec& f, bool keep_alive) {
  // The answer's account is reported once, whichever of answer_inference's
  // many exits (faults, errors, a peer gone) ends it.
  c.answer = AnswerLog{};
  c.answer.request_id = std::string(sv(req["x-request-id"]));
  c.answer.received = env_.now();
  const Outcome o = co_await answer_inference(c, ep, req, f, keep_alive);
  if (config_.on_answer) config_.on_answer(c.answer);
  co_return o;
}

env::Task<FakeServer::Outcome> FakeServer::answer_inference(Connection& c, Endpoint ep,
                                                            const HttpRequest& req,
                                                            const FaultSpec& f, bool keep_alive) {
  InFlight in_flight(stats_);

  // Faults of a broken server come before any validation of the request.
  if (f.slow_headers > Duration::zero()) {
    const Wake w = co_await park(c, env_.now() + f.slow_headers);
    if (w != Wake::elapsed) co_return lost(w);
  }
  if (f.reset_before_headers) {
    reset(c);
    co_return Outcome::gone;
  }
  if (f.hang) {
    const Wake w = co_await park(c, kNoDeadline);
    co_return lost(w);
  }
  if (f.status) {
    const ApiError e = error_for_status(*f.status, f.code);
    std::string extra;
    if (f.retry_after_s) {
      extra = "Retry-After: " + std::to_string(*f.retry_after_s) + "\r\n";
    }
    co_return co_await send_error(c, e, keep_alive, extra);
  }

  InferenceRequest ir;
  ApiError error;
  if (!parse_inference_request(ep, sv(req.body()), ir, error)) {
    co_return co_await send_error(c, error, keep_alive);
  }
  if (!serves_model(ir.model)) {
    ApiError e{404, "invalid_request_error", "model_not_found", "model",
               "The model `" + ir.model + "` does not exist or you do not have access to it."};
    co_return co_await send_error(c, e, keep_alive);
  }

  const bool admitted = co_await acquire_slot(c);
  if (!admitted) co_return Outcome::gone;
  SlotGuard slot([this] { release_slot(); });

  if (ep == Endpoint::embeddings) {
    const Duration ttft = f.ttft.value_or(config_.profile.ttft);
    const Wake w = co_await park(c, env_.now() + ttft);
    if (w != Wake::elapsed) co_return lost(w);
    const std::string body = embeddings_body(ir.model, ir.content_hash, ir.input_count,
                                             config_.profile.embedding_dim, ir.prompt_tokens);
    c.answer.usage_sent = true;
    c.answer.prompt_tokens = ir.prompt_tokens;
    const Outcome o = co_await send_response(c, 200, kJson, body, keep_alive);
    if (o != Outcome::gone) ++stats_.completed;
    co_return o;
  }
  c.answer.stream = ir.stream;
  if (ir.stream) co_return co_await stream_answer(c, ep, ir, f, keep_alive);
  co_return co_await whole_answer(c, ep, ir, f, keep_alive);
}

namespace {

struct Plan {
  std::uint32_t tokens = 0;
  std::string_view finish_reason;
  Duration ttft{0};
  Duration itl{0};
};

Plan make_plan(const Profile& profile, const InferenceRequest& ir, const FaultSpec& f) {
  Plan p;
  const std::uint32_t wanted = f.tokens.value_or(profile.output_tokens);
  p.tokens = ir.max_tokens ? std::min(wanted, *ir.max_tokens) : wanted;
  p.finish_reason = p.tokens < wanted ? "length" : "stop";
  p.ttft = f.ttft.value_or(profile.ttft);
  p.itl = f.itl.value_or(profile.itl);
  return p;
}

}  // namespace

env::Task<FakeServer::Outcome> FakeServer::stream_answer(Connection& c, Endpoint ep,
                                                         const InferenceRequest& ir,
                                                         const FaultSpec& f, bool keep_alive) {
  const Plan plan = make_plan(config_.profile, ir, f);
  const std::string id = next_id(ep == Endpoint::chat ? "chatcmpl-" : "cmpl-");
  const ChunkFormatter fmt(ep, id, created_now(), ir.model, ir.include_usage);

  c.out.clear();
  append_status_line(c.out, 200);
  append_header(c.out, "Content-Type", "text/event-stream");
  append_header(c.out, "Cache-Control", "no-cache");
  append_header(c.out, "Transfer-Encoding", "chunked");
  c.out += common_headers_;
  if (!keep_alive) append_header(c.out, "Connection", "close");
  c.out += "\r\n";
  const bool head_sent = co_await write(c, c.out);
  if (!head_sent) co_return Outcome::gone;

  if (f.reset_after == 0u) {
    reset(c);
    co_return Outcome::gone;
  }
  TimePoint next = env_.now() + plan.ttft;
  if (f.stall_after == 0u) next += f.stall_for;
  bool role_pending = true;

  for (std::uint32_t k = 1; k <= plan.tokens; ++k) {
    const Wake w = co_await park(c, next);
    if (w != Wake::elapsed) co_return lost(w);
    c.ev.clear();
    if (role_pending) {
      fmt.append_role(c.ev);
      if (f.malformed_at == 0u) {
        c.ev.resize(c.ev.size() / 2);
        c.ev += "\n\n";
      }
      role_pending = false;
    }
    c.text.clear();
    append_token_text(c.text, ir.content_hash, k - 1);
    fmt.append_token(c.ev, c.text, f.malformed_at == k);
    c.out.clear();
    append_chunk_header(c.out, c.ev.size());
    ++c.answer.token_events;  // counted as begun: part of it may arrive even if the write fails
    const bool sent = co_await write(c, c.out, c.ev, kChunkTrailer);
    if (!sent) co_return Outcome::gone;
    ++stats_.tokens_sent;
    if (f.reset_after == k) {
      reset(c);
      co_return Outcome::gone;
    }
    next = env_.now() + (f.stall_after == k ? f.stall_for : plan.itl);
  }

  // The tail: finish event, usage event, [DONE], end of the chunked body.
  // After the last token it follows at once, unless a stall was asked there
  // (or no token was generated: then it is the first event, after TTFT).
  if (plan.tokens == 0 || f.stall_after == plan.tokens) {
    const Wake w = co_await park(c, next);
    if (w != Wake::elapsed) co_return lost(w);
  }
  c.ev.clear();
  if (role_pending) fmt.append_role(c.ev);
  fmt.append_finish(c.ev, plan.finish_reason);
  if (ir.include_usage) fmt.append_usage(c.ev, Usage{ir.prompt_tokens, plan.tokens});
  if (!f.no_done) ChunkFormatter::append_done(c.ev);
  c.out.clear();
  append_chunk_header(c.out, c.ev.size());
  c.ev += kChunkTrailer;
  c.ev += kLastChunk;
  if (ir.include_usage) {
    // Reported once handed to the connection: the peer may read the usage
    // event even if the rest of this write then fails.
    c.answer.usage_sent = true;
    c.answer.prompt_tokens = ir.prompt_tokens;
    c.answer.completion_tokens = plan.tokens;
  }
  const bool tail_sent = co_await write(c, c.out, c.ev);
  if (!tail_sent) co_return Outcome::gone;
  ++stats_.completed;
  co_return keep_alive ? Outcome::keep_alive : Outcome::close;
}

env::Task<FakeServer::Outcome> FakeServer::whole_answer(Connection& c, Endpoint ep,
                                                        const InferenceRequest& ir,
                                                        const FaultSpec& f, bool keep_alive) {
  const Plan plan = make_plan(config_.profile, ir, f);
  // The time the whole answer takes: TTFT, the gaps between tokens, a stall.
  auto time_for = [&](std::uint32_t tokens) {
    Duration d = plan.ttft;
    if (tokens > 1) d += plan.itl * (tokens - 1);
    // A stall replaces the gap after token K (K = 0: it lengthens TTFT).
    if (f.stall_after == 0u) d += f.stall_for;
    else if (f.stall_after && *f.stall_after < tokens) d += f.stall_for - plan.itl;
    return std::max(d, Duration::zero());
  };
  if (f.reset_after && *f.reset_after <= plan.tokens) {
    // Dies once it would have produced K tokens: no byte reaches the client.
    const Wake w = co_await park(c, env_.now() + time_for(*f.reset_after));
    if (w != Wake::elapsed) co_return lost(w);
    reset(c);
    co_return Outcome::gone;
  }
  Duration total = time_for(plan.tokens);
  if (f.stall_after && *f.stall_after == plan.tokens) total += f.stall_for;
  const Wake w = co_await park(c, env_.now() + total);
  if (w != Wake::elapsed) co_return lost(w);

  const std::string text = completion_text(ir.content_hash, plan.tokens);
  const std::string id = next_id(ep == Endpoint::chat ? "chatcmpl-" : "cmpl-");
  const Usage usage{ir.prompt_tokens, plan.tokens};
  std::string body = ep == Endpoint::chat
                         ? chat_completion_body(id, created_now(), ir.model, text, plan.finish_reason, usage)
                         : text_completion_body(id, created_now(), ir.model, text, plan.finish_reason, usage);
  if (f.malformed_at) body.resize(body.size() / 2);
  c.answer.token_events = plan.tokens;
  c.answer.usage_sent = !f.malformed_at;  // a halved body carries no usage anyone can read
  c.answer.prompt_tokens = ir.prompt_tokens;
  c.answer.completion_tokens = plan.tokens;
  const Outcome o = co_await send_response(c, 200, kJson, body, keep_alive);
  if (o != Outcome::gone) {
    stats_.tokens_sent += plan.tokens;
    ++stats_.completed;
  }
  co_return o;
}

}  // namespace llmproxy::fake
