#include "proxy/core/metrics/label_set.h"

#include <algorithm>

namespace llmproxy::metrics {

LabelSet::LabelSet(const std::vector<std::string_view>& values) {
  for (std::string_view v : values) {
    // "other" is the fold target, so a given "other" is that same slot.
    if (v == "other" || std::find(names_.begin(), names_.end(), v) != names_.end()) continue;
    sorted_.push_back({v, names_.size()});
    names_.push_back(v);
  }
  names_.push_back("other");
  std::sort(sorted_.begin(), sorted_.end(),
            [](const Entry& a, const Entry& b) { return a.value < b.value; });
}

std::size_t LabelSet::index_of(std::string_view value) const {
  const auto it = std::lower_bound(sorted_.begin(), sorted_.end(), value,
                                   [](const Entry& e, std::string_view v) { return e.value < v; });
  return it != sorted_.end() && it->value == value ? it->index : other();
}

}  // namespace llmproxy::metrics
