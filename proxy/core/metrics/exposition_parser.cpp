#include "proxy/core/metrics/exposition_parser.h"

#include <cmath>
#include <cstdlib>
#include <set>
#include <utility>

namespace llmproxy::metrics::testing {
namespace {

bool name_ok(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// Decodes code points and checks their ranges (a different route from the
// writer's byte-pattern check, so the two do not share a mistake).
bool utf8_ok(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    char32_t cp;
    if (c < 0x80) { n = 1; cp = c; }
    else if ((c >> 5) == 0x6) { n = 2; cp = c & 0x1F; }
    else if ((c >> 4) == 0xE) { n = 3; cp = c & 0x0F; }
    else if ((c >> 3) == 0x1E) { n = 4; cp = c & 0x07; }
    else return false;
    if (i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 0x2) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    const char32_t min = n == 1 ? 0 : n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

bool digits(std::string_view s, std::size_t& i) {
  const std::size_t start = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  return i > start;
}

// [-]digits[.digits][(e|E)[+-]digits], +Inf, -Inf, NaN.
bool value_ok(std::string_view s, double& v) {
  if (s == "+Inf") { v = INFINITY; return true; }
  if (s == "-Inf") { v = -INFINITY; return true; }
  if (s == "NaN") { v = NAN; return true; }
  std::size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (!digits(s, i)) return false;
  if (i < s.size() && s[i] == '.' && (++i, !digits(s, i))) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits(s, i)) return false;
  }
  if (i != s.size()) return false;
  v = std::strtod(std::string(s).c_str(), nullptr);
  return true;
}

class Parser {
 public:
  Exposition run(std::string_view text) {
    std::size_t pos = 0;
    while (pos < text.size() && ex_.error.empty()) {
      ++line_;
      const std::size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos) {
        fail("no newline at the end");
        break;
      }
      const std::string_view l = text.substr(pos, nl - pos);
      pos = nl + 1;
      if (l.starts_with("# HELP ")) help(l.substr(7));
      else if (l.starts_with("# TYPE ")) type(l.substr(7));
      else if (l.empty() || l[0] == '#') fail("empty line or unknown comment");
      else sample(l);
    }
    if (ex_.error.empty() && pending_help_) fail("HELP without TYPE");
    if (ex_.error.empty()) histograms();
    return std::move(ex_);
  }

 private:
  void fail(const std::string& msg) {
    if (ex_.error.empty()) ex_.error = "line " + std::to_string(line_) + ": " + msg;
  }

  void help(std::string_view rest) {
    const std::size_t sp = rest.find(' ');
    const std::string name(rest.substr(0, sp));
    if (!name_ok(name)) return fail("bad family name '" + name + "'");
    if (!names_.insert(name).second) return fail("family '" + name + "' announced twice");
    std::string text;
    const std::string_view raw = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '\\') { text += raw[i]; continue; }
      if (++i == raw.size()) return fail("HELP ends in a backslash");
      if (raw[i] == '\\') text += '\\';
      else if (raw[i] == 'n') text += '\n';
      else return fail("bad HELP escape");
    }
    ex_.families.push_back({name, "", text, {}});
    pending_help_ = true;
  }

  void type(std::string_view rest) {
    const std::size_t sp = rest.find(' ');
    if (!pending_help_ || sp == std::string_view::npos || rest.substr(0, sp) != ex_.families.back().name)
      return fail("TYPE does not follow its HELP");
    const std::string_view t = rest.substr(sp + 1);
    if (t != "counter" && t != "gauge" && t != "histogram") return fail("unknown TYPE " + std::string(t));
    ex_.families.back().type = t;
    pending_help_ = false;
  }

  void sample(std::string_view l) {
    if (ex_.families.empty() || pending_help_) return fail("sample before HELP and TYPE");
    Family& f = ex_.families.back();
    std::size_t i = 0;
    while (i < l.size() && l[i] != '{' && l[i] != ' ') ++i;
    Sample s;
    s.name = l.substr(0, i);
    if (!name_ok(s.name)) return fail("bad metric name '" + s.name + "'");
    const bool in_family = f.type == "histogram"
                               ? s.name == f.name + "_bucket" || s.name == f.name + "_sum" || s.name == f.name + "_count"
                               : s.name == f.name;
    if (!in_family) return fail("sample '" + s.name + "' outside family '" + f.name + "'");
    if (i < l.size() && l[i] == '{') {
      ++i;
      while (true) {
        const std::size_t eq = l.find('=', i);
        if (eq == std::string_view::npos) return fail("label without '='");
        const std::string name(l.substr(i, eq - i));
        if (!name_ok(name)) return fail("bad label name '" + name + "'");
        i = eq + 1;
        if (i >= l.size() || l[i] != '"') return fail("label value without opening quote");
        ++i;
        std::string value;
        while (true) {
          if (i >= l.size()) return fail("unterminated label value");
          const char c = l[i++];
          if (c == '"') break;
          if (c != '\\') { value += c; continue; }
          if (i >= l.size()) return fail("unterminated escape");
          const char e = l[i++];
          if (e == '\\') value += '\\';
          else if (e == '"') value += '"';
          else if (e == 'n') value += '\n';
          else return fail("bad escape in label value");
        }
        if (!utf8_ok(value)) return fail("label value is not UTF-8");
        if (!s.labels.emplace(name, value).second) return fail("label '" + name + "' repeated");
        if (i < l.size() && l[i] == ',') { ++i; continue; }
        if (i < l.size() && l[i] == '}') { ++i; break; }
        return fail("expected ',' or '}' after a label");
      }
    }
    if (i >= l.size() || l[i] != ' ') return fail("no space before the value");
    if (!value_ok(l.substr(i + 1), s.value)) return fail("bad value '" + std::string(l.substr(i + 1)) + "'");
    if (f.type == "counter" && !(s.value >= 0)) return fail("counter value below 0");
    std::string key = s.name;
    for (const auto& [k, v] : s.labels) key += '\0' + k + '\0' + v;
    if (!series_.insert(key).second) return fail("series repeated: " + std::string(l));
    f.samples.push_back(std::move(s));
  }

  void histograms() {
    for (const Family& f : ex_.families) {
      if (f.type != "histogram") continue;
      struct Series {
        std::vector<std::pair<double, double>> buckets;  // (le, cumulative count)
        double count = -1;
        bool sum = false;
      };
      std::map<LabelMap, Series> by;
      for (const Sample& s : f.samples) {
        LabelMap key = s.labels;
        if (s.name == f.name + "_bucket") {
          const auto le = key.find("le");
          double bound;
          if (le == key.end() || !value_ok(le->second, bound)) return fail(f.name + ": bucket without a numeric le");
          key.erase(le);
          by[key].buckets.emplace_back(bound, s.value);
        } else if (key.count("le")) {
          return fail(f.name + ": le on _sum or _count");
        } else if (s.name == f.name + "_count") {
          by[key].count = s.value;
        } else {
          by[key].sum = true;
        }
      }
      for (const auto& [labels, s] : by) {
        if (s.buckets.empty() || s.buckets.back().first != INFINITY) return fail(f.name + ": no +Inf bucket");
        for (std::size_t b = 1; b < s.buckets.size(); ++b) {
          if (!(s.buckets[b - 1].first < s.buckets[b].first)) return fail(f.name + ": le not ascending");
          if (s.buckets[b - 1].second > s.buckets[b].second) return fail(f.name + ": buckets not cumulative");
        }
        if (s.count != s.buckets.back().second) return fail(f.name + ": _count differs from the +Inf bucket");
        if (!s.sum) return fail(f.name + ": no _sum");
      }
    }
  }

  Exposition ex_;
  std::size_t line_ = 0;
  bool pending_help_ = false;
  std::set<std::string> names_;
  std::set<std::string> series_;
};

}  // namespace

const Family* Exposition::family(std::string_view name) const {
  for (const Family& f : families)
    if (f.name == name) return &f;
  return nullptr;
}

double Exposition::value(std::string_view name, const LabelMap& labels) const {
  for (const Family& f : families)
    for (const Sample& s : f.samples)
      if (s.name == name && s.labels == labels) return s.value;
  return -1;
}

double Exposition::sum(std::string_view name, const LabelMap& subset) const {
  double total = 0;
  for (const Family& f : families)
    for (const Sample& s : f.samples) {
      if (s.name != name) continue;
      bool match = true;
      for (const auto& [k, v] : subset) {
        const auto it = s.labels.find(k);
        if (it == s.labels.end() || it->second != v) match = false;
      }
      if (match) total += s.value;
    }
  return total;
}

Exposition parse_exposition(std::string_view text) { return Parser().run(text); }

}  // namespace llmproxy::metrics::testing
