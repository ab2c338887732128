// Per-worker counters keyed by a tuple of custom label values
// (metrics.custom_labels, e.g. model, user_id): requests and input/output
// tokens. The only metric storage whose keys come from traffic, so it is
// bounded: at most `cap` distinct tuples are kept, in first-seen order;
// every later new tuple counts in one overflow slot whose values are all
// "other".
//
// Values: a value longer than kMaxValueBytes is cut to that many bytes
// (clients choose model names and user ids; an operator's TSDB should not
// hold a 1 MB label). Cutting may split a UTF-8 sequence; the Prometheus
// writer replaces such bytes. "" is a value like any other (unknown).
//
// Threads and memory ordering. One writer (the worker's thread) calls
// slot_for() and add(); any thread may read with published(), values() and
// the counters, concurrently with the writer and without a lock:
//   - All cap + 1 slots, each with its value strings sized to the number of
//     labels, are allocated at construction; slots never move.
//   - The writer fills a new slot's strings first, then publishes it with a
//     release store of the slot count. The strings of a published slot are
//     never written again.
//   - A reader acquire-loads the count and reads only slots below it. The
//     acquire load synchronizes with the release store that published each
//     of those slots, so the strings' writes happen-before the reads: no data
//     race, no torn string. Slots at or above the count may be being written
//     and are never read (except the overflow slot, whose "other" strings
//     are written in the constructor, before the object is shared).
//   - Counters are single-writer atomics (cells.h).
// The lookup index (open addressing over slot numbers) is touched only by
// the writer.
//
// Allocation: finding an existing tuple allocates nothing (it hashes and
// compares string_views). Adding a tuple may allocate its strings (values
// longer than the small-string buffer); that happens at most `cap` times.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/core/metrics/cells.h"

namespace llmproxy::metrics {

class CustomSeries {
 public:
  static constexpr std::size_t kMaxValueBytes = 128;

  CustomSeries(std::size_t labels, std::size_t cap);
  CustomSeries(const CustomSeries&) = delete;
  CustomSeries& operator=(const CustomSeries&) = delete;

  // Writer only. The slot of this tuple, adding it while fewer than `cap`
  // tuples exist, else overflow_slot(). values[i] is the value of label i;
  // missing values are "", extra ones are ignored.
  std::size_t slot_for(std::span<const std::string_view> values);
  void add(std::size_t slot, std::uint64_t requests, std::uint64_t input_tokens, std::uint64_t output_tokens);

  // Any thread.
  std::size_t labels() const { return labels_; }
  std::size_t cap() const { return cap_; }
  std::size_t published() const { return count_.load(std::memory_order_acquire); }
  std::size_t overflow_slot() const { return cap_; }
  // For slot < published() or slot == overflow_slot().
  std::span<const std::string> values(std::size_t slot) const { return slots_[slot].values; }
  std::uint64_t requests(std::size_t slot) const { return slots_[slot].requests.value(); }
  std::uint64_t input_tokens(std::size_t slot) const { return slots_[slot].input.value(); }
  std::uint64_t output_tokens(std::size_t slot) const { return slots_[slot].output.value(); }

 private:
  struct Slot {
    std::vector<std::string> values;
    Counter requests, input, output;
  };
  std::string_view value(std::span<const std::string_view> values, std::size_t i) const;
  std::uint64_t hash(std::span<const std::string_view> values) const;
  bool equal(const Slot& s, std::span<const std::string_view> values) const;

  std::size_t labels_;
  std::size_t cap_;
  std::unique_ptr<Slot[]> slots_;       // cap_ + 1; the last is the overflow slot
  std::atomic<std::size_t> count_{0};   // published slots (writer: release store)
  std::vector<std::uint32_t> index_;    // writer only: slot + 1, 0 = empty; size a power of two
};

}  // namespace llmproxy::metrics
