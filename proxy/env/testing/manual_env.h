// An environment for unit tests of code that only reads clocks and runs on
// an executor: both clocks are set by the test (now_, wall_), and nothing
// connects or listens (connect and listen fail, make_timer gives null).
// Code that needs the network or timers runs in the simulator (sim/) or on
// the real environment instead.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/error.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "proxy/env/env.h"

namespace llmproxy::env::testing {

class ManualEnv final : public Env {
 public:
  // `ex`: where coroutines of the code under test run (a test's
  // io_context); none for code that never spawns.
  explicit ManualEnv(asio::any_io_executor ex = {}) : ex_(std::move(ex)) {}
  asio::any_io_executor executor() override { return ex_; }
  TimePoint now() const override { return now_; }
  WallTime wall_now() const override { return wall_; }
  std::unique_ptr<Timer> make_timer() override { return nullptr; }
  Task<std::unique_ptr<Stream>> connect(std::string, std::uint16_t, TimePoint, error_code& ec) override {
    ec = asio::error::make_error_code(asio::error::connection_refused);
    co_return nullptr;
  }
  std::unique_ptr<Acceptor> listen(const std::string&, std::uint16_t, bool, error_code& ec) override {
    ec = asio::error::make_error_code(asio::error::access_denied);
    return nullptr;
  }
  Rng& rng() override { return rng_; }

  TimePoint now_{};
  WallTime wall_ = WallTime(std::chrono::seconds(1796860800));  // 2026-12-10T00:00:00Z

 private:
  asio::any_io_executor ex_;
  Rng rng_{1};
};

}  // namespace llmproxy::env::testing
