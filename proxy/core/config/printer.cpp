// print_config: the Config as YAML that loads back to the same Config.
// Every field is printed (the effective config, defaults included), strings
// double-quoted (so "123", "null" or "" stay strings) with "$" doubled (the
// loader expands ${VAR}), durations in Go syntax, sizes in bytes.
#include "proxy/core/config/print.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <type_traits>

#include "proxy/core/util/duration.h"
#include "proxy/core/util/env_expand.h"

namespace llmproxy::config {
namespace {

class Printer {
 public:
  Printer(YAML::Emitter& out, bool redact) : out_(out), redact_(redact) {}

  template <class T, class... Checks>
  void operator()(Key key, T& member, Checks&&...) {
    out_ << YAML::Key << std::string(key.name) << YAML::Value;
    print(member);
  }

  template <class T>
  void input_only(Key, T&) {}

  template <class T, class E>
  void only_if(Key key, E type, E wanted, T& member) {
    if (type == wanted) (*this)(key, member);
  }

  template <class T, class E, class... Checks>
  void only_for(Key key, std::string_view, E type, E wanted, T& member, Checks&&...) {
    if (type == wanted) (*this)(key, member);
  }

  template <class T>
  void print_struct(const T& s) {
    out_ << YAML::BeginMap;
    // visit() is non-const because the reader shares it; printing only reads.
    const_cast<T&>(s).visit(*this);
    out_ << YAML::EndMap;
  }

 private:
  void quoted(std::string_view s) { out_ << YAML::DoubleQuoted << util::escape_dollars(s); }

  void print(bool b) { out_ << (b ? "true" : "false"); }
  void print(int v) { out_ << std::to_string(v); }
  void print(std::int64_t v) { out_ << std::to_string(v); }
  void print(double v) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_ << std::string(buf, r.ptr);
  }
  void print(const std::string& s) { quoted(s); }
  void print(const Secret& s) {
    if (redact_ && !s.empty()) quoted(kRedacted);
    else quoted(s.value);
  }
  void print(Duration d) { out_ << util::format_duration(d); }
  void print(ByteSize s) { out_ << std::to_string(s.bytes); }
  void print(const HeaderMap& h) {
    if (h.empty()) {
      out_ << YAML::Flow << YAML::BeginMap << YAML::EndMap;
      return;
    }
    out_ << YAML::BeginMap;
    for (const auto& [name, value] : h.entries) {
      out_ << YAML::Key << YAML::DoubleQuoted << name << YAML::Value;
      if (redact_ && is_sensitive_header(name) && !value.empty()) quoted(kRedacted);
      else quoted(value);
    }
    out_ << YAML::EndMap;
  }
  template <class E>
    requires std::is_enum_v<E>
  void print(E e) {
    quoted(enum_name(e));
  }
  template <class T>
  void print(const std::vector<T>& v) {
    if (v.empty()) {
      out_ << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
      return;
    }
    out_ << YAML::BeginSeq;
    for (const auto& item : v) print(item);
    out_ << YAML::EndSeq;
  }
  template <class T>
    requires requires(T& t, Printer& p) { t.visit(p); }
  void print(const T& s) {
    print_struct(s);
  }

  YAML::Emitter& out_;
  bool redact_;
};

}  // namespace

std::string print_config(const Config& config, bool redact_secrets) {
  YAML::Emitter out;
  out.SetIndent(2);
  Printer p(out, redact_secrets);
  p.print_struct(config);
  std::string text = out.c_str();
  text += '\n';
  return text;
}

namespace {

void diff_nodes(const YAML::Node& a, const YAML::Node& b, const std::string& path,
                std::vector<std::string>& out) {
  if (a.Type() != b.Type()) {
    out.push_back(path);
    return;
  }
  if (a.IsMap()) {
    for (const auto& kv : a) {
      const auto key = kv.first.as<std::string>();
      const std::string sub = path.empty() ? key : path + "." + key;
      const YAML::Node other = b[key];
      if (!other) out.push_back(sub);
      else diff_nodes(kv.second, other, sub, out);
    }
    for (const auto& kv : b) {
      const auto key = kv.first.as<std::string>();
      if (!a[key]) out.push_back(path.empty() ? key : path + "." + key);
    }
  } else if (a.IsSequence()) {
    if (a.size() != b.size()) {
      out.push_back(path);
      return;
    }
    for (std::size_t i = 0; i < a.size(); ++i)
      diff_nodes(a[i], b[i], path + "[" + std::to_string(i) + "]", out);
  } else if (a.IsScalar() && a.Scalar() != b.Scalar()) {
    out.push_back(path);
  }
}

}  // namespace

std::vector<std::string> changed_keys(const Config& a, const Config& b) {
  std::vector<std::string> out;
  // Printed (every key, defaults included), then compared as documents:
  // the printer is the one place that knows every key.
  diff_nodes(YAML::Load(print_config(a, false)), YAML::Load(print_config(b, false)), "", out);
  return out;
}

}  // namespace llmproxy::config
