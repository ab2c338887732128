#include "fake_backends/hostile_upstream.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>

namespace llmproxy::fake {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using env::error_code;

std::string json_answer(std::string_view tag, bool with_body = true) {
  const std::string body = "{\"tag\":\"" + std::string(tag) + "\"}";
  std::string out = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n";
  if (with_body) out += body;
  return out;
}

std::string chunk(std::string_view data) {
  char hex[20];
  const int n = std::snprintf(hex, sizeof hex, "%zx\r\n", data.size());
  return std::string(hex, static_cast<std::size_t>(n)) + std::string(data) + "\r\n";
}

std::string sse_answer(std::string_view tag, std::size_t padding) {
  std::string out =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string pad = padding > 0 ? ",\"pad\":\"" + std::string(padding, 'p') + "\"" : "";
  for (int i = 0; i < 3; ++i)
    out += chunk("data: {\"tag\":\"" + std::string(tag) + "\",\"i\":" + std::to_string(i) + pad +
                 "}\n\n");
  out += chunk("data: [DONE]\n\n");
  out += "0\r\n\r\n";
  return out;
}

constexpr std::string_view kInterim100 = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kInterim102 = "HTTP/1.1 102 Processing\r\n\r\n";
constexpr std::string_view kInterim103 =
    "HTTP/1.1 103 Early Hints\r\nLink: </hint.css>; rel=preload\r\n\r\n";

}  // namespace

const char* to_string(Misbehaviour m) {
  switch (m) {
    case Misbehaviour::none: return "none";
    case Misbehaviour::interim_100: return "interim_100";
    case Misbehaviour::interim_103: return "interim_103";
    case Misbehaviour::interim_many: return "interim_many";
    case Misbehaviour::extra_now: return "extra_now";
    case Misbehaviour::extra_later: return "extra_later";
    case Misbehaviour::idle_garbage: return "idle_garbage";
    case Misbehaviour::idle_close: return "idle_close";
    case Misbehaviour::idle_reset: return "idle_reset";
    case Misbehaviour::head_with_body: return "head_with_body";
    case Misbehaviour::close_on_request: return "close_on_request";
  }
  return "?";
}

struct HostileUpstream::Conn {
  std::unique_ptr<env::Stream> stream;
  std::string in;  // bytes read and not parsed yet
  std::array<char, 4096> rbuf{};
  bool open = true;
  bool spontaneous = false;    // the upstream wrote or closed on its own
  TimePoint spontaneous_at{};  // ...at this time
};

HostileUpstream::HostileUpstream(env::Env& env, HostileConfig config)
    : env_(env), config_(std::move(config)) {}

HostileUpstream::~HostileUpstream() = default;

void HostileUpstream::stop() {
  stopping_ = true;
  if (acceptor_) acceptor_->close();
  for (Conn* c : conns_) c->stream->close();
}

env::Task<void> HostileUpstream::run(env::Acceptor& acceptor) {
  acceptor_ = &acceptor;
  while (!stopping_) {
    error_code ec;
    auto s = co_await acceptor.accept(ec);
    if (ec) break;
    ++connections_;
    ++live_;
    asio::co_spawn(env_.executor(), serve(std::move(s)), [this](std::exception_ptr e) {
      --live_;
      if (e) std::rethrow_exception(e);
    });
  }
  while (live_ > 0) {
    error_code ec;
    co_await env_.sleep_for(std::chrono::milliseconds(1), ec);
  }
  acceptor_ = nullptr;
}

env::Task<void> HostileUpstream::serve(std::unique_ptr<env::Stream> stream) {
  Conn c;
  c.stream = std::move(stream);
  conns_.push_back(&c);
  struct Unlist {
    std::list<Conn*>& l;
    Conn* c;
    ~Unlist() { l.remove(c); }
  } unlist{conns_, &c};

  while (c.open && !stopping_) {
    http::request_parser<http::string_body> p;
    p.eager(true);
    p.header_limit(64 * 1024);
    bool bad = false;
    while (!p.is_done()) {
      if (!c.in.empty()) {
        error_code ec;
        const std::size_t used = p.put(asio::buffer(c.in.data(), c.in.size()), ec);
        c.in.erase(0, used);
        if (p.is_done()) break;
        if (ec && ec != http::error::need_more) {
          bad = true;
          break;
        }
        if (used > 0 && !c.in.empty()) continue;
      }
      error_code ec;
      const std::size_t n = co_await c.stream->read_some(asio::buffer(c.rbuf), kNoDeadline, ec);
      c.in.append(c.rbuf.data(), n);
      if (ec) {
        c.stream->close();
        co_return;
      }
    }
    if (bad) {
      c.stream->reset();
      co_return;
    }
    const auto& req = p.get();
    const auto tag_field = req["X-Tag"];
    const std::string tag(tag_field.data(), tag_field.size());
    const std::uint64_t k = requests_++;
    if (c.spontaneous && env_.now() - c.spontaneous_at < config_.crossing_window)
      crossed_.insert(tag);
    const HostilePlan plan = config_.plan ? config_.plan(k) : HostilePlan{};
    if (plan.what == Misbehaviour::close_on_request) {
      dropped_.insert(tag);
      c.stream->close();
      co_return;
    }

    const bool head = req.method() == http::verb::head;
    const bool sse = req.target().ends_with("/stream");
    std::string out;
    switch (plan.what) {
      case Misbehaviour::interim_100: out += kInterim100; break;
      case Misbehaviour::interim_103: out += kInterim103; break;
      default: break;
    }
    if (plan.what == Misbehaviour::interim_many) {
      // Each interim head in its own write, so they also arrive apart.
      for (std::string_view h : {kInterim100, kInterim102, kInterim103}) {
        error_code ec;
        co_await c.stream->write(asio::buffer(h), kNoDeadline, ec);
        if (ec) co_return;
      }
    }
    if (head) {
      out += json_answer(tag, plan.what == Misbehaviour::head_with_body);
    } else {
      out += sse ? sse_answer(tag, config_.sse_padding) : json_answer(tag);
    }
    if (plan.what == Misbehaviour::extra_now) out += json_answer("stray-" + std::to_string(++strays_));
    error_code ec;
    co_await c.stream->write(asio::buffer(out), kNoDeadline, ec);
    if (ec) co_return;
    if (plan.what == Misbehaviour::extra_now) {
      c.spontaneous = true;
      c.spontaneous_at = env_.now();
    }
    if (!req.keep_alive()) {
      c.stream->close();
      co_return;
    }
    co_await after_answer(c, plan);
  }
}

// The idle misbehaviours happen only if the connection stays idle for
// `delay`: a request that arrives first is served instead.
env::Task<void> HostileUpstream::after_answer(Conn& c, const HostilePlan& plan) {
  switch (plan.what) {
    case Misbehaviour::extra_later:
    case Misbehaviour::idle_garbage:
    case Misbehaviour::idle_close:
    case Misbehaviour::idle_reset:
      break;
    default:
      co_return;
  }
  if (!c.in.empty()) co_return;
  error_code ec;
  const std::size_t n =
      co_await c.stream->read_some(asio::buffer(c.rbuf), env_.now() + plan.delay, ec);
  c.in.append(c.rbuf.data(), n);
  if (n > 0) co_return;
  if (ec != asio::error::timed_out) {
    c.open = false;
    c.stream->close();
    co_return;
  }
  c.spontaneous = true;
  c.spontaneous_at = env_.now();
  switch (plan.what) {
    case Misbehaviour::extra_later: {
      const std::string stray = json_answer("stray-" + std::to_string(++strays_));
      co_await c.stream->write(asio::buffer(stray), kNoDeadline, ec);
      break;
    }
    case Misbehaviour::idle_garbage: {
      const std::string junk = "{\"tag\":\"stray-" + std::to_string(++strays_) + "\"}\r\n";
      co_await c.stream->write(asio::buffer(junk), kNoDeadline, ec);
      break;
    }
    case Misbehaviour::idle_close:
      c.open = false;
      c.stream->close();
      break;
    case Misbehaviour::idle_reset:
      c.open = false;
      c.stream->reset();
      break;
    default:
      break;
  }
}

}  // namespace llmproxy::fake
