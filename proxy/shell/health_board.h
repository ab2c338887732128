// The active health state of every backend, shared by all workers of the
// process: one prober writes it, every worker reads it on each pick. Relaxed
// atomics suffice — a worker that sees a change one request late is fine, and
// there is no other data published with it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace llmproxy::shell {

class HealthBoard {
 public:
  // Every backend starts healthy: the first probe runs at start-up.
  explicit HealthBoard(std::size_t backends)
      : n_(backends), healthy_(std::make_unique<std::atomic<std::uint8_t>[]>(backends)) {
    for (std::size_t i = 0; i < n_; ++i) healthy_[i].store(1, std::memory_order_relaxed);
  }

  bool healthy(std::size_t i) const { return healthy_[i].load(std::memory_order_relaxed) != 0; }
  void set(std::size_t i, bool healthy) {
    healthy_[i].store(healthy ? 1 : 0, std::memory_order_relaxed);
  }
  bool any_healthy() const {
    for (std::size_t i = 0; i < n_; ++i)
      if (healthy(i)) return true;
    return false;
  }
  std::size_t size() const { return n_; }

 private:
  std::size_t n_;
  std::unique_ptr<std::atomic<std::uint8_t>[]> healthy_;
};

}  // namespace llmproxy::shell
