// A fixed, small set of label values known when a WorkerMetrics is built
// (catalogue error labels, rate-limit kinds, outcomes), so that recording
// stores into an array slot instead of looking up a map of strings.
//
// Index i < size()-1 is the i-th distinct value in the order given; the last
// index, other(), is the value "other" that every unknown value maps to.
// index_of() is a binary search over a sorted copy: no allocation.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace llmproxy::metrics {

class LabelSet {
 public:
  LabelSet() : LabelSet(std::vector<std::string_view>{}) {}
  // Duplicates are kept once (first position). The views must outlive the
  // set (string literals and the error catalogue's static strings do).
  explicit LabelSet(const std::vector<std::string_view>& values);

  std::size_t size() const { return names_.size(); }
  std::size_t other() const { return names_.size() - 1; }
  std::string_view name(std::size_t i) const { return names_[i]; }
  std::size_t index_of(std::string_view value) const;

 private:
  struct Entry {
    std::string_view value;
    std::size_t index;
  };
  std::vector<std::string_view> names_;  // by index, "other" last
  std::vector<Entry> sorted_;            // by value, for index_of
};

}  // namespace llmproxy::metrics
