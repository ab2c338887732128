// Test only: a strict, independent reader of the Prometheus text format
// 0.0.4 as render_metrics() writes it, used by the property test to check
// every exposition it produces. It accepts a subset of the format (what a
// correct writer of ours emits) and rejects, with a message naming the line:
//   - a sample before its family's `# HELP` + `# TYPE` pair, a family
//     announced twice, a TYPE other than counter/gauge/histogram;
//   - a metric or label name that is not [a-zA-Z_][a-zA-Z0-9_]*, a sample
//     name not of its family (histograms: _bucket/_sum/_count only);
//   - a label value escape other than \\ \" \n, a value not UTF-8, a
//     repeated label name, a missing quote/comma/brace;
//   - a value that is not a float (or +Inf/-Inf/NaN); a negative counter;
//   - the same series twice;
//   - histograms: `le` bounds not ascending or not ending in +Inf, buckets
//     not cumulative, _count != the +Inf bucket, a missing _sum or _count.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace llmproxy::metrics::testing {

using LabelMap = std::map<std::string, std::string>;  // label name → unescaped value

struct Sample {
  std::string name;  // with _bucket/_sum/_count for histograms
  LabelMap labels;
  double value = 0;
};

struct Family {
  std::string name;
  std::string type;
  std::string help;
  std::vector<Sample> samples;
};

struct Exposition {
  std::vector<Family> families;
  std::string error;  // empty when the text is valid

  const Family* family(std::string_view name) const;
  // The value of the sample `name` with exactly these labels, or -1.
  double value(std::string_view name, const LabelMap& labels) const;
  // Sum of the samples named `name` whose labels include `subset`.
  double sum(std::string_view name, const LabelMap& subset = {}) const;
};

Exposition parse_exposition(std::string_view text);

}  // namespace llmproxy::metrics::testing
