#include "proxy/core/metrics/custom_series.h"

#include <bit>

#include "proxy/core/util/fnv1a.h"

namespace llmproxy::metrics {

CustomSeries::CustomSeries(std::size_t labels, std::size_t cap)
    : labels_(labels), cap_(cap), slots_(std::make_unique<Slot[]>(cap + 1)) {
  for (std::size_t s = 0; s <= cap_; ++s) slots_[s].values.resize(labels_);
  for (std::string& v : slots_[cap_].values) v = "other";
  // At most cap entries in a table of at least 2·cap: probes stay short and
  // an empty entry always exists, so a lookup always ends.
  index_.assign(std::bit_ceil(std::max<std::size_t>(2 * cap_, 4)), 0);
}

std::string_view CustomSeries::value(std::span<const std::string_view> values, std::size_t i) const {
  if (i >= values.size()) return {};
  return values[i].substr(0, kMaxValueBytes);
}

std::uint64_t CustomSeries::hash(std::span<const std::string_view> values) const {
  std::uint64_t h = util::kFnv1aOffset;
  for (std::size_t i = 0; i < labels_; ++i) {
    const std::string_view v = value(values, i);
    h = util::fnv1a(v, h);
    // The length separates ("ab","c") from ("a","bc").
    const auto n = static_cast<unsigned char>(v.size());
    h = util::fnv1a(std::string_view(reinterpret_cast<const char*>(&n), 1), h);
  }
  return h;
}

bool CustomSeries::equal(const Slot& s, std::span<const std::string_view> values) const {
  for (std::size_t i = 0; i < labels_; ++i)
    if (s.values[i] != value(values, i)) return false;
  return true;
}

std::size_t CustomSeries::slot_for(std::span<const std::string_view> values) {
  const std::size_t mask = index_.size() - 1;
  std::size_t pos = static_cast<std::size_t>(hash(values)) & mask;
  for (;; pos = (pos + 1) & mask) {
    const std::uint32_t e = index_[pos];
    if (e == 0) break;
    if (equal(slots_[e - 1], values)) return e - 1;
  }
  const std::size_t n = count_.load(std::memory_order_relaxed);  // only this thread stores it
  if (n >= cap_) return overflow_slot();
  Slot& s = slots_[n];
  for (std::size_t i = 0; i < labels_; ++i) s.values[i] = value(values, i);
  index_[pos] = static_cast<std::uint32_t>(n + 1);
  count_.store(n + 1, std::memory_order_release);  // publishes s.values (see the header)
  return n;
}

void CustomSeries::add(std::size_t slot, std::uint64_t requests, std::uint64_t input_tokens,
                       std::uint64_t output_tokens) {
  Slot& s = slots_[slot];
  if (requests) s.requests.add(requests);
  if (input_tokens) s.input.add(input_tokens);
  if (output_tokens) s.output.add(output_tokens);
}

}  // namespace llmproxy::metrics
