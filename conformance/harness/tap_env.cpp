#include "conformance/harness/tap_env.h"

namespace llmproxy::harness {
namespace {

class TapStream final : public env::Stream {
 public:
  TapStream(std::unique_ptr<env::Stream> inner, std::shared_ptr<ConnectionTap> tap,
            env::Env& env)
      : inner_(std::move(inner)), tap_(std::move(tap)), env_(env) {}
  ~TapStream() override { mark_closed(false); }

  env::Task<std::size_t> read_some(env::asio::mutable_buffer buf, TimePoint deadline,
                                   env::error_code& ec) override {
    const std::size_t n = co_await inner_->read_some(buf, deadline, ec);
    tap_->read.append(static_cast<const char*>(buf.data()), n);
    if (n) tap_->read_marks.emplace_back(env_.now(), tap_->read.size());
    co_return n;
  }
  env::Task<std::size_t> write(std::span<const env::asio::const_buffer> bufs, TimePoint deadline,
                               env::error_code& ec) override {
    // Record what the peer can receive: everything, unless the write failed
    // (then the inner count says how much went out).
    const std::size_t n = co_await inner_->write(bufs, deadline, ec);
    std::size_t left = n;
    for (const auto& b : bufs) {
      const std::size_t take = std::min(left, b.size());
      tap_->written.append(static_cast<const char*>(b.data()), take);
      left -= take;
      if (left == 0) break;
    }
    if (n) tap_->write_marks.emplace_back(env_.now(), tap_->written.size());
    co_return n;
  }
  void watch_readable(env::ReadListener& listener) override { inner_->watch_readable(listener); }
  void unwatch_readable() override { inner_->unwatch_readable(); }
  env::Readiness peek() override { return inner_->peek(); }
  void shutdown_send() override { inner_->shutdown_send(); }
  void close() override {
    mark_closed(false);
    inner_->close();
  }
  void reset() override {
    mark_closed(true);
    inner_->reset();
  }
  void cancel() override { inner_->cancel(); }
  bool is_open() const override { return inner_->is_open(); }
  std::string remote_address() const override { return inner_->remote_address(); }
  std::string remote_ip() const override { return inner_->remote_ip(); }

 private:
  void mark_closed(bool reset) {
    if (tap_->is_closed) return;
    tap_->is_closed = true;
    tap_->was_reset = reset;
    tap_->closed = env_.now();
  }
  std::unique_ptr<env::Stream> inner_;
  std::shared_ptr<ConnectionTap> tap_;
  env::Env& env_;
};

}  // namespace

env::Task<std::unique_ptr<env::Stream>> TapEnv::connect(std::string host, std::uint16_t port,
                                                        TimePoint deadline, env::error_code& ec) {
  auto peer = host + ":" + std::to_string(port);
  auto s = co_await inner_.connect(std::move(host), port, deadline, ec);
  if (!s) co_return nullptr;
  auto tap = std::make_shared<ConnectionTap>();
  tap->id = taps_.size();
  tap->peer = std::move(peer);
  tap->opened = now();
  taps_.push_back(tap);
  co_return std::make_unique<TapStream>(std::move(s), std::move(tap), *this);
}

std::size_t TapEnv::open_connections() const {
  std::size_t n = 0;
  for (const auto& t : taps_) n += t->is_closed ? 0 : 1;
  return n;
}

}  // namespace llmproxy::harness
