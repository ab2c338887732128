// The real environment: Asio TCP sockets, steady timers, the OS resolver and
// an OS-entropy seed. One RealEnv per event loop (worker thread); it is used
// only from that loop's thread.
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>

#include "proxy/env/env.h"

namespace llmproxy::env {

class RealEnv final : public Env {
 public:
  RealEnv(asio::io_context& ioc, std::uint64_t seed);

  // A seed from OS entropy, for production runs (the caller logs it).
  static std::uint64_t entropy_seed();

  asio::any_io_executor executor() override { return ioc_.get_executor(); }
  TimePoint now() const override;
  WallTime wall_now() const override;
  std::unique_ptr<Timer> make_timer() override;
  Task<std::unique_ptr<Stream>> connect(std::string host, std::uint16_t port, TimePoint deadline,
                                        error_code& ec) override;
  std::unique_ptr<Acceptor> listen(const std::string& host, std::uint16_t port, bool reuse_port,
                                   error_code& ec) override;
  Rng& rng() override { return rng_; }

 private:
  asio::io_context& ioc_;
  Rng rng_;
};

}  // namespace llmproxy::env
