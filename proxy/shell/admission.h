// Process-wide bounds on what clients can make the gateway hold: open client
// connections (server.max_connections) and bytes buffered for them
// (server.buffer_memory_budget): request bodies, from their first byte to
// the end of their request, and SSE events being assembled while a client
// reads slowly. Without them, slow clients holding unfinished
// heads or bodies grow memory without bound (1,000 connections × 10 MiB
// bodies is 10 GB). Shared by every worker of a process; relaxed atomics,
// since these are limits, not an ordering between threads. A limit of 0
// means unbounded.
#pragma once

#include <atomic>
#include <cstddef>

namespace llmproxy::shell {

class AdmissionBudget {
 public:
  AdmissionBudget(std::size_t max_connections, std::size_t buffer_bytes)
      : max_connections_(max_connections), buffer_limit_(buffer_bytes) {}
  AdmissionBudget(const AdmissionBudget&) = delete;
  AdmissionBudget& operator=(const AdmissionBudget&) = delete;

  // One more client connection, unless max_connections are open.
  bool try_open_connection() { return try_add(connections_, 1, max_connections_); }
  void close_connection() { connections_.fetch_sub(1, std::memory_order_relaxed); }
  std::size_t connections() const { return connections_.load(std::memory_order_relaxed); }

  // `n` more buffered bytes, unless that passes the budget.
  bool try_charge_buffer(std::size_t n) { return try_add(buffered_, n, buffer_limit_); }
  void release_buffer(std::size_t n) { buffered_.fetch_sub(n, std::memory_order_relaxed); }
  std::size_t buffered_bytes() const { return buffered_.load(std::memory_order_relaxed); }

 private:
  static bool try_add(std::atomic<std::size_t>& v, std::size_t n, std::size_t limit) {
    std::size_t cur = v.load(std::memory_order_relaxed);
    do {
      if (limit != 0 && cur + n > limit) return false;
    } while (!v.compare_exchange_weak(cur, cur + n, std::memory_order_relaxed));
    return true;
  }

  const std::size_t max_connections_;
  const std::size_t buffer_limit_;
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::size_t> buffered_{0};
};

// What one holder (a request's body, a stream's event buffers) has charged
// to the buffer budget. charge_to() moves the charge to a new size (false,
// and nothing charged, when growing it does not fit); release() gives it all
// back, as the destructor does.
class BufferCharge {
 public:
  explicit BufferCharge(AdmissionBudget& budget) : budget_(budget) {}
  ~BufferCharge() { release(); }
  BufferCharge(const BufferCharge&) = delete;
  BufferCharge& operator=(const BufferCharge&) = delete;

  bool charge_to(std::size_t bytes) {
    if (bytes > charged_ && !budget_.try_charge_buffer(bytes - charged_)) return false;
    if (bytes < charged_) budget_.release_buffer(charged_ - bytes);
    charged_ = bytes;
    return true;
  }
  void release() { charge_to(0); }

 private:
  AdmissionBudget& budget_;
  std::size_t charged_ = 0;
};

}  // namespace llmproxy::shell
