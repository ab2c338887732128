// A writer for the Prometheus text exposition format, version 0.0.4
// (Content-Type: text/plain; version=0.0.4; charset=utf-8). Pure: it only
// appends to a caller-owned std::string, whose capacity a scraper reuses.
//
// Exact output:
//   - A family is announced with begin_family(); its `# HELP` and `# TYPE`
//     lines are written just before its first sample, so a family that ends
//     up with no samples writes nothing (no empty HELP/TYPE pairs).
//   - A sample line is `name{l1="v1",l2="v2"} value\n`; with no labels just
//     `name value\n`. Labels are written in the order given.
//   - Label values are escaped as the format requires: `\` → `\\`, `"` →
//     `\"`, newline → `\n`. Bytes that are not valid UTF-8 (RFC 3629) become
//     U+FFFD, because Prometheus rejects a label value that is not UTF-8 and
//     custom label values come from clients.
//   - HELP text escapes `\` → `\\` and newline → `\n`.
//   - Numbers: a double that is integral and below 2^53 in magnitude is
//     written as an integer without exponent ("1", "300"); other finite
//     values in the shortest form that reads back exactly ("0.005", "1e-05",
//     "1.5e+20"); infinities as "+Inf" / "-Inf", NaN as "NaN". Prometheus
//     (Go's strconv.ParseFloat) parses all of these. Counts are uint64 and
//     written as integers.
//   - A histogram `name` writes `name_bucket{…,le="b"}` for each upper bound
//     b with the cumulative count of observations ≤ b, then
//     `name_bucket{…,le="+Inf"}` = the total count, `name_sum` and
//     `name_count` (= the +Inf bucket, always).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace llmproxy::metrics {

struct Label {
  std::string_view name;
  std::string_view value;
};

enum class MetricType : std::uint8_t { counter, gauge, histogram };

// [a-zA-Z_][a-zA-Z0-9_]* and not starting with "__" (reserved by
// Prometheus). For checking configured custom label names.
bool valid_label_name(std::string_view name);

// Appends `v` formatted as described above.
void append_number(std::string& out, double v);
void append_number(std::string& out, std::uint64_t v);
void append_number(std::string& out, std::int64_t v);
// Appends `v` escaped for use inside a label value's double quotes.
void append_label_value(std::string& out, std::string_view v);

class TextWriter {
 public:
  explicit TextWriter(std::string& out) : out_(out) {}

  // Starts a family; HELP/TYPE are written with its first sample. `name` is
  // the family name: for counters it includes `_total`, for histograms it is
  // the base name without `_bucket`/`_sum`/`_count`.
  void begin_family(std::string_view name, MetricType type, std::string_view help);

  // One sample of the current (counter or gauge) family.
  void sample(std::span<const Label> labels, double value);
  void sample(std::span<const Label> labels, std::uint64_t value);
  void sample(std::span<const Label> labels, std::int64_t value);

  // One series of the current histogram family. `bounds` are the ascending
  // finite upper bounds; `counts` has bounds.size() + 1 entries: the number
  // of observations that fell into each bucket on its own (not cumulative),
  // the last one being the overflow bucket above the highest bound.
  void histogram(std::span<const Label> labels, std::span<const double> bounds,
                 std::span<const std::uint64_t> counts, double sum);

 private:
  void header();
  // `name{labels[,extra]}` followed by a space.
  void series(std::string_view suffix, std::span<const Label> labels, const Label* extra = nullptr);

  std::string& out_;
  std::string_view name_;
  std::string_view help_;
  MetricType type_ = MetricType::counter;
  bool header_written_ = true;
};

}  // namespace llmproxy::metrics
