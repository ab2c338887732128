#include "proxy/core/metrics/prometheus_text.h"

#include <charconv>
#include <cmath>

namespace llmproxy::metrics {
namespace {

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

bool is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the valid UTF-8 sequence starting at s[i], or 0 if none starts
// there (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = at(i);
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (!is_cont(at(i + k))) return 0;
  return n;
}

template <class Int>
void append_int(std::string& out, Int v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Formats v into buf (see the header for the exact forms); returns the length.
constexpr std::size_t kNumberChars = 32;
std::size_t format_double(char (&buf)[kNumberChars], double v) {
  const auto put = [&](std::string_view s) { return s.copy(buf, kNumberChars); };
  if (std::isnan(v)) return put("NaN");
  if (std::isinf(v)) return put(v > 0 ? "+Inf" : "-Inf");
  // Integral values below 2^53 are exact as int64: write them the way a
  // person (and client_golang) would, never as "1e+06".
  constexpr double kExact = 9007199254740992.0;  // 2^53
  if (std::fabs(v) < kExact && v == std::trunc(v))
    return static_cast<std::size_t>(std::to_chars(buf, buf + kNumberChars, static_cast<std::int64_t>(v)).ptr - buf);
  // Shortest form that reads back to the same double.
  return static_cast<std::size_t>(std::to_chars(buf, buf + kNumberChars, v).ptr - buf);
}

}  // namespace

bool valid_label_name(std::string_view name) {
  if (name.empty() || !is_name_start(name[0])) return false;
  if (name.starts_with("__")) return false;
  for (char c : name)
    if (!is_name_char(c)) return false;
  return true;
}

void append_number(std::string& out, double v) {
  char buf[kNumberChars];
  out.append(buf, format_double(buf, v));
}

void append_number(std::string& out, std::uint64_t v) { append_int(out, v); }
void append_number(std::string& out, std::int64_t v) { append_int(out, v); }

void append_label_value(std::string& out, std::string_view v) {
  std::size_t i = 0;
  while (i < v.size()) {
    const char c = v[i];
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      const std::size_t n = utf8_sequence(v, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD for one invalid byte
        ++i;
      } else {
        out.append(v.substr(i, n));
        i += n;
      }
      continue;
    }
    ++i;
  }
}

void TextWriter::begin_family(std::string_view name, MetricType type, std::string_view help) {
  name_ = name;
  type_ = type;
  help_ = help;
  header_written_ = false;
}

void TextWriter::header() {
  if (header_written_) return;
  header_written_ = true;
  out_ += "# HELP ";
  out_ += name_;
  out_ += ' ';
  for (char c : help_) {
    if (c == '\\')
      out_ += "\\\\";
    else if (c == '\n')
      out_ += "\\n";
    else
      out_ += c;
  }
  out_ += "\n# TYPE ";
  out_ += name_;
  switch (type_) {
    case MetricType::counter: out_ += " counter\n"; break;
    case MetricType::gauge: out_ += " gauge\n"; break;
    case MetricType::histogram: out_ += " histogram\n"; break;
  }
}

void TextWriter::series(std::string_view suffix, std::span<const Label> labels, const Label* extra) {
  header();
  out_ += name_;
  out_ += suffix;
  if (!labels.empty() || extra) {
    out_ += '{';
    bool first = true;
    const auto one = [&](const Label& l) {
      if (!first) out_ += ',';
      first = false;
      out_ += l.name;
      out_ += "=\"";
      append_label_value(out_, l.value);
      out_ += '"';
    };
    for (const Label& l : labels) one(l);
    if (extra) one(*extra);
    out_ += '}';
  }
  out_ += ' ';
}

void TextWriter::sample(std::span<const Label> labels, double value) {
  series({}, labels);
  append_number(out_, value);
  out_ += '\n';
}

void TextWriter::sample(std::span<const Label> labels, std::uint64_t value) {
  series({}, labels);
  append_number(out_, value);
  out_ += '\n';
}

void TextWriter::sample(std::span<const Label> labels, std::int64_t value) {
  series({}, labels);
  append_number(out_, value);
  out_ += '\n';
}

void TextWriter::histogram(std::span<const Label> labels, std::span<const double> bounds,
                           std::span<const std::uint64_t> counts, double sum) {
  std::uint64_t cumulative = 0;
  char le[kNumberChars];
  for (std::size_t b = 0; b < bounds.size(); ++b) {
    cumulative += b < counts.size() ? counts[b] : 0;
    // The bound as a label value, formatted like any number (nothing in
    // it needs escaping: digits, '.', 'e', '+', '-').
    const Label l{"le", std::string_view(le, format_double(le, bounds[b]))};
    series("_bucket", labels, &l);
    append_number(out_, cumulative);
    out_ += '\n';
  }
  for (std::size_t b = bounds.size(); b < counts.size(); ++b) cumulative += counts[b];
  const Label inf{"le", "+Inf"};
  series("_bucket", labels, &inf);
  append_number(out_, cumulative);
  out_ += "\n";
  series("_sum", labels);
  append_number(out_, sum);
  out_ += '\n';
  series("_count", labels);
  append_number(out_, cumulative);
  out_ += '\n';
}

}  // namespace llmproxy::metrics
