#include "proxy/core/config/reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "proxy/core/util/did_you_mean.h"
#include "proxy/core/util/duration.h"
#include "proxy/core/util/size.h"
#include "proxy/core/util/utf8.h"

namespace llmproxy::config::detail {
namespace {

std::string_view describe(const YAML::Node& n) {
  if (n.IsMap()) return "a map";
  if (n.IsSequence()) return "a list";
  if (n.IsNull()) return "nothing";
  return "a scalar";
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Text from the file as shown in a message: one line and short, since a key
// or value may be long (or repeated through aliases) and may hold controls.
std::string clip(std::string_view s) {
  constexpr std::size_t kMax = 60;
  std::string out;
  for (char c : s.substr(0, kMax)) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) out += '?';
    else out += c;
  }
  if (s.size() > kMax) out += "...";
  return out;
}

std::string quote(std::string_view s) { return "\"" + clip(s) + "\""; }

// A key's path for messages (the full path stays the key of marks_).
std::string shown_path(const std::string& path, std::string_view key) {
  return path.empty() ? clip(key) : path + "." + clip(key);
}

// What reading a node costs against the budget: 1, plus 1 per 16 bytes of a
// scalar, because aliases can repeat one long string many times (as a value
// or as a key).
std::size_t units(const YAML::Node& n) { return 1 + (n.IsScalar() ? n.Scalar().size() / 16 : 0); }

}  // namespace

const YAML::Node* Reader::lookup(Key key) {
  Frame& f = frame();
  f.known.push_back(key.name);
  Entry* main = f.find(key.name);
  Entry* alias = key.alias.empty() ? nullptr : f.find(key.alias);
  if (main != nullptr) main->consumed = true;
  if (alias != nullptr) alias->consumed = true;
  if (main != nullptr && alias != nullptr) {
    error(position(alias->key_node), child_path(key.alias) + ": '" + std::string(key.alias) +
                                         "' is an alias of '" + std::string(key.name) + "'; give only one");
  }
  Entry* e = main != nullptr ? main : alias;
  if (e == nullptr) return nullptr;
  marks_[child_path(key.name)] = FieldMarks{position(e->key_node), position(e->value)};
  return &e->value;
}

bool Reader::charge(const YAML::Node& at, const std::string& path, std::size_t units) {
  if (over_budget()) return false;
  spent_ += units;
  if (!over_budget()) return true;
  budget_error_ = diags_.size();
  fail(at, path, (path.empty() ? std::string("top level") : path) +
                     ": config too large (YAML aliases expand to more than " + std::to_string(kBudget) +
                     " values); reading stopped here");
  return false;
}

bool Reader::push_frame(const YAML::Node& n, const std::string& path) {
  if (!charge(n, path, 16)) return false;
  Frame f;
  f.path = path;
  for (auto it = n.begin(); it != n.end(); ++it) {
    const YAML::Node k = it->first;
    // Keys are charged like values: `*long_anchor : 1` repeated costs as
    // much to compare, copy and report as a repeated value.
    if (!charge(k, path, units(k))) return false;
    if (!k.IsScalar()) {
      error(position(k), (path.empty() ? std::string("top level") : path) + ": keys must be plain names");
      continue;
    }
    const std::string& name = k.Scalar();
    if (f.find(name) != nullptr) {
      error(position(k), shown_path(path, name) + ": duplicate key '" + clip(name) + "'");
      continue;
    }
    f.index.emplace(name, f.entries.size());
    f.entries.push_back(Entry{name, k, it->second, false});
  }
  frames_.push_back(std::move(f));
  return true;
}

void Reader::pop_frame() {
  Frame& f = frame();
  if (f.path.empty())
    for (auto k : extra_root_keys_) {
      if (Entry* e = f.find(k)) e->consumed = true;
      f.known.push_back(k);
    }
  // Once over budget nothing more is looked up: unread keys are not unknown.
  for (const auto& e : f.entries) {
    if (e.consumed || over_budget()) continue;
    // Top-level "x-…" keys are free for YAML anchors (as in docker-compose).
    if (f.path.empty() && e.key.rfind("x-", 0) == 0) continue;
    std::string message = f.path.empty() ? "unknown top-level key '" + clip(e.key) + "'"
                                         : f.path + ": unknown key '" + clip(e.key) + "'";
    if (auto s = util::did_you_mean(e.key, f.known)) message += " (did you mean '" + *s + "'?)";
    error(position(e.key_node), std::move(message));
  }
  frames_.pop_back();
}

void Reader::type_error(const YAML::Node& n, const std::string& path, std::string_view what) {
  fail(n, path, (path.empty() ? std::string("top level") : path) + ": expected " + std::string(what) + ", got " +
                   std::string(describe(n)));
}

void Reader::enum_error(const YAML::Node& n, const std::string& path, const std::string& text,
                        std::span<const std::string_view> names) {
  std::string valid;
  for (auto name : names) valid += (valid.empty() ? "" : ", ") + std::string(name);
  std::string message = path + ": unknown value " + quote(text);
  if (auto s = util::did_you_mean(text, names)) message += " (did you mean '" + *s + "'?)";
  fail(n, path, message + "; valid: " + valid);
}

bool Reader::scalar_text(const YAML::Node& n, const std::string& path, std::string_view what, std::string& out) {
  if (!charge(n, path, units(n))) return false;
  if (!n.IsScalar()) {
    type_error(n, path, what);
    return false;
  }
  if (!util::is_valid_utf8(n.Scalar())) {
    fail(n, path, path + ": value is not valid UTF-8");
    return false;
  }
  auto expanded = util::expand_env(n.Scalar(), env_);
  if (!expanded) {
    fail(n, path, path + ": " + expanded.error);
    return false;
  }
  out = std::move(*expanded.value);
  return true;
}

void Reader::read_value(const YAML::Node& n, bool& out, const std::string& path) {
  std::string text;
  if (!scalar_text(n, path, "true or false", text)) return;
  const std::string t = lower(text);
  if (t == "true" || t == "yes" || t == "on") out = true;
  else if (t == "false" || t == "no" || t == "off") out = false;
  else fail(n, path, path + ": expected true or false, got " + quote(text));
}

namespace {
template <class I>
bool parse_integer(std::string_view t, I& out) {
  if (!t.empty() && t.front() == '+') t.remove_prefix(1);
  auto r = std::from_chars(t.data(), t.data() + t.size(), out);
  return r.ec == std::errc() && r.ptr == t.data() + t.size() && !t.empty();
}
}  // namespace

void Reader::read_value(const YAML::Node& n, int& out, const std::string& path) {
  std::string text;
  if (!scalar_text(n, path, "an integer", text)) return;
  if (!parse_integer(text, out)) fail(n, path, path + ": expected an integer, got " + quote(text));
}

void Reader::read_value(const YAML::Node& n, std::int64_t& out, const std::string& path) {
  std::string text;
  if (!scalar_text(n, path, "an integer", text)) return;
  if (!parse_integer(text, out)) fail(n, path, path + ": expected an integer, got " + quote(text));
}

void Reader::read_value(const YAML::Node& n, double& out, const std::string& path) {
  std::string text;
  if (!scalar_text(n, path, "a number", text)) return;
  std::string_view t = text;
  if (!t.empty() && t.front() == '+') t.remove_prefix(1);
  double v = 0;
  auto r = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || r.ec != std::errc() || r.ptr != t.data() + t.size() || !std::isfinite(v)) {
    fail(n, path, path + ": expected a number, got " + quote(text));
    return;
  }
  out = v;
}

void Reader::read_value(const YAML::Node& n, std::string& out, const std::string& path) {
  scalar_text(n, path, "a string", out);
}

void Reader::read_value(const YAML::Node& n, Secret& out, const std::string& path) {
  scalar_text(n, path, "a string", out.value);
}

void Reader::read_value(const YAML::Node& n, Duration& out, const std::string& path) {
  std::string text;
  if (!scalar_text(n, path, "a duration", text)) return;
  auto d = util::parse_duration(text);
  if (!d) fail(n, path, path + ": " + d.error);
  else out = *d;
}

void Reader::read_value(const YAML::Node& n, ByteSize& out, const std::string& path) {
  std::string text;
  if (!scalar_text(n, path, "a size", text)) return;
  auto s = util::parse_size(text);
  if (!s) fail(n, path, path + ": " + s.error);
  else out.bytes = *s;
}

// Headers go verbatim into HTTP heads, so names and (expanded) values are
// checked here, where each key and value still has its own position.
void Reader::read_value(const YAML::Node& n, HeaderMap& out, const std::string& path) {
  if (!n.IsMap()) return type_error(n, path, "a map of header names to values");
  out.entries.clear();
  std::set<std::string> seen;
  for (auto it = n.begin(); it != n.end(); ++it) {
    const YAML::Node k = it->first;
    if (!charge(k, path, units(k))) return;
    if (!k.IsScalar() || k.Scalar().empty() || !util::is_valid_utf8(k.Scalar())) {
      error(position(k), path + ": header names must be non-empty UTF-8 strings");
      continue;
    }
    const std::string& name = k.Scalar();
    const std::string item_path = path + "." + name;
    const std::string shown = shown_path(path, name);
    if (std::string bad = check::header_name(name); !bad.empty()) {
      fail(k, item_path, shown + ": " + bad);
      continue;
    }
    if (!seen.insert(lower(name)).second) {  // header names are case-insensitive
      error(position(k), shown + ": duplicate header");
      continue;
    }
    marks_[item_path] = FieldMarks{position(k), position(it->second)};
    std::string value;
    if (it->second.IsNull()) {
      error(position(k), shown + ": header value missing");
      continue;
    }
    if (!scalar_text(it->second, shown, "a string", value)) continue;
    // After expansion: ${SECRET} from a file usually ends with a newline.
    if (std::string bad = check::header_value(value); !bad.empty()) {
      fail(it->second, item_path, shown + ": " + bad);  // never quotes the value: it may be a secret
      continue;
    }
    out.entries.emplace_back(name, std::move(value));
  }
}

void Reader::read_value(const YAML::Node& n, StaticKey& out, const std::string& path) {
  if (n.IsScalar()) {  // api_keys: ["sk-…"] shorthand
    scalar_text(n, path, "a string", out.key.value);
    return;
  }
  read_struct(n, out, path);
}

}  // namespace llmproxy::config::detail
