// An Env decorator that records every byte crossing the connections it opens
// (or accepts): the harness's independent view of what the gateway sent and
// received upstream, to compare with what the clients saw.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "proxy/env/env.h"

namespace llmproxy::harness {

struct ConnectionTap {
  std::size_t id = 0;
  std::string peer;       // "host:port" as connected (or the remote address if accepted)
  std::string written;    // bytes written by our side, in order
  std::string read;       // bytes read by our side, in order
  // (time, size of `written` / `read` after it) for every write / read that
  // moved bytes: when each upstream exchange was sent and answered.
  std::vector<std::pair<TimePoint, std::size_t>> write_marks, read_marks;
  TimePoint opened{};
  TimePoint closed{};     // when close()/reset() was called or the stream destroyed
  bool is_closed = false;
  bool was_reset = false;
};

class TapEnv final : public env::Env {
 public:
  explicit TapEnv(env::Env& inner) : inner_(inner) {}

  env::asio::any_io_executor executor() override { return inner_.executor(); }
  TimePoint now() const override { return inner_.now(); }
  WallTime wall_now() const override { return inner_.wall_now(); }
  std::unique_ptr<env::Timer> make_timer() override { return inner_.make_timer(); }
  env::Task<std::unique_ptr<env::Stream>> connect(std::string host, std::uint16_t port,
                                                  TimePoint deadline,
                                                  env::error_code& ec) override;
  std::unique_ptr<env::Acceptor> listen(const std::string& host, std::uint16_t port,
                                        bool reuse_port, env::error_code& ec) override {
    return inner_.listen(host, port, reuse_port, ec);
  }
  Rng& rng() override { return inner_.rng(); }

  const std::vector<std::shared_ptr<ConnectionTap>>& taps() const { return taps_; }
  std::size_t open_connections() const;

 private:
  env::Env& inner_;
  std::vector<std::shared_ptr<ConnectionTap>> taps_;
};

}  // namespace llmproxy::harness
