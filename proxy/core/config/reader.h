// Internal: the visitor that reads a YAML tree into the config structs,
// collecting every problem (never throwing) and remembering where each value
// came from so later cross-checks can point at the right line.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "proxy/core/config/config.h"
#include "proxy/core/config/diagnostic.h"
#include "proxy/core/util/env_expand.h"

namespace llmproxy::config::detail {

struct Position {
  int line = 1;
  int column = 1;
};

// Where a field's key and its value are (both 1-based).
struct FieldMarks {
  Position key;
  Position value;
};

class Reader;
template <class T>
concept Visitable = requires(T& t, Reader& r) { t.visit(r); };

class Reader {
 public:
  Reader(std::string file, const util::EnvLookup& env, std::vector<Diagnostic>& diags)
      : file_(std::move(file)), env_(env), diags_(diags) {}

  // Reads a root map into out. extra_keys are accepted at the root without
  // being read (the loader handles them itself).
  template <class T>
  void read_root(const YAML::Node& root, T& out, std::span<const std::string_view> extra_keys) {
    extra_root_keys_ = extra_keys;
    read_struct(root, out, "");
  }

  // ---- the visit() vocabulary
  template <class T, class... Checks>
  void operator()(Key key, T& member, Checks&&... checks) {
    if (over_budget()) return;
    const YAML::Node* found = lookup(key);
    if (found == nullptr) return;
    const YAML::Node value = *found;  // lookup's storage may move while reading
    const std::string path = child_path(key.name);
    if (value.IsNull()) return;  // `key:` or `key: null` = not set
    const std::size_t errors_before = diags_.size();
    read_value(value, member, path);
    if (diags_.size() != errors_before) return;
    (run_check(value, path, member, checks), ...);
  }

  // The shorthand blocks hold one store; read it as a one-element list.
  template <class T>
  void input_only(Key key, std::vector<T>& member) {
    if (over_budget()) return;
    const YAML::Node* found = lookup(key);
    if (found == nullptr || found->IsNull()) return;
    const YAML::Node value = *found;
    member.assign(1, T{});
    read_value(value, member.front(), child_path(key.name));
  }

  template <class T, class E>
  void only_if(Key key, E type, E wanted, T& member) {
    const bool present = frame().find(key.name) != nullptr;
    (*this)(key, member);
    if (present && type != wanted && type != E{}) {
      const auto& m = marks_[child_path(key.name)];
      error(m.key, child_path(key.name) + ": block '" + std::string(key.name) +
                       "' does not apply to type '" + std::string(enum_name(type)) + "'");
    }
  }

  template <class T, class E, class... Checks>
  void only_for(Key key, std::string_view type_key, E type, E wanted, T& member, Checks&&... checks) {
    const bool present = frame().find(key.name) != nullptr;
    (*this)(key, member, std::forward<Checks>(checks)...);
    if (!present || type == wanted || failed_.count(child_path(type_key)) != 0) return;
    const std::string path = child_path(key.name);
    failed_.insert(path);
    error(marks_[path].key, path + ": `" + std::string(key.name) + "` applies only when " + std::string(type_key) +
                                " is '" + std::string(enum_name(wanted)) + "', not '" + std::string(enum_name(type)) +
                                "'");
  }

  // ---- results
  const std::map<std::string, FieldMarks>& marks() const { return marks_; }
  // Paths whose value could not be read or failed a check; later
  // cross-checks stay quiet about them (no "url is required" after "bad url").
  const std::set<std::string>& failed() const { return failed_; }

  void error(Position p, std::string message) {
    diags_.push_back(Diagnostic{file_, p.line, p.column, std::move(message), Diagnostic::Kind::schema});
  }

  void fail(const YAML::Node& at, const std::string& path, std::string message) {
    failed_.insert(path);
    error(position(at), std::move(message));
  }

  static Position position(const YAML::Node& n) {
    const YAML::Mark m = n.Mark();
    return Position{m.line >= 0 ? m.line + 1 : 1, m.column >= 0 ? m.column + 1 : 1};
  }

 private:
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
    bool consumed = false;
  };
  struct Frame {
    std::string path;
    std::vector<Entry> entries;
    std::vector<std::string_view> known;
    std::map<std::string, std::size_t, std::less<>> index;  // key → entries position
    Entry* find(std::string_view k) {
      auto it = index.find(k);
      return it == index.end() ? nullptr : &entries[it->second];
    }
  };

  Frame& frame() { return frames_.back(); }
  std::string child_path(std::string_view key) {
    const std::string& p = frame().path;
    return p.empty() ? std::string(key) : p + "." + std::string(key);
  }

  const YAML::Node* lookup(Key key);

  template <class T, class Check>
  void run_check(const YAML::Node& value, const std::string& path, const T& member, Check& check) {
    std::string message = check(member);
    if (!message.empty()) {
      // List checks report "[i]: …"; glue them to the path without a space.
      const bool indexed = message.front() == '[';
      fail(value, path, path + (indexed ? "" : ": ") + message);
    }
  }

  // ---- scalars (reader.cpp)
  bool scalar_text(const YAML::Node& n, const std::string& path, std::string_view what, std::string& out);
  void read_value(const YAML::Node& n, bool& out, const std::string& path);
  void read_value(const YAML::Node& n, int& out, const std::string& path);
  void read_value(const YAML::Node& n, std::int64_t& out, const std::string& path);
  void read_value(const YAML::Node& n, double& out, const std::string& path);
  void read_value(const YAML::Node& n, std::string& out, const std::string& path);
  void read_value(const YAML::Node& n, Secret& out, const std::string& path);
  void read_value(const YAML::Node& n, Duration& out, const std::string& path);
  void read_value(const YAML::Node& n, ByteSize& out, const std::string& path);
  void read_value(const YAML::Node& n, HeaderMap& out, const std::string& path);
  void read_value(const YAML::Node& n, StaticKey& out, const std::string& path);
  void enum_error(const YAML::Node& n, const std::string& path, const std::string& text,
                  std::span<const std::string_view> names);
  void type_error(const YAML::Node& n, const std::string& path, std::string_view what);

  template <class E>
    requires std::is_enum_v<E>
  void read_value(const YAML::Node& n, E& out, const std::string& path) {
    std::string text;
    if (!scalar_text(n, path, "a name", text)) return;
    std::vector<std::string_view> names;
    for (const auto& e : enum_entries(E{})) {
      if (e.name == text) {
        out = e.value;
        return;
      }
      if (!e.name.empty()) names.push_back(e.name);
    }
    enum_error(n, path, text, names);
  }

  template <class T>
  void read_value(const YAML::Node& n, std::vector<T>& out, const std::string& path) {
    if (!n.IsSequence()) return type_error(n, path, "a list");
    out.clear();
    if (!charge(n, path, n.size())) return;
    out.resize(n.size());
    for (std::size_t i = 0; i < n.size() && !over_budget(); ++i) {
      const YAML::Node item = n[i];
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      const Position p = position(item);
      marks_[item_path] = FieldMarks{p, p};
      if (item.IsNull()) {
        fail(item, item_path, item_path + ": empty list item");
        continue;
      }
      read_value(item, out[i], item_path);
    }
  }

  template <class T>
    requires Visitable<T>
  void read_value(const YAML::Node& n, T& out, const std::string& path) {
    read_struct(n, out, path);
  }

  template <class T>
  void read_struct(const YAML::Node& n, T& out, const std::string& path) {
    if (!n.IsMap()) {
      if (n.IsNull() && path.empty()) return;  // empty document: all defaults
      return type_error(n, path, "a map");
    }
    if (!push_frame(n, path)) return;
    out.visit(*this);
    pop_frame();
  }

  bool push_frame(const YAML::Node& n, const std::string& path);

  // YAML aliases can make a small file expand into a huge tree ("billion
  // laughs"); reading stops with one error once this many units (a map 16,
  // each of its keys and each value 1 + its bytes / 16, a list item 1) have
  // been read. Keys count because an alias can be a key too. Real configs use
  // a few thousand.
  static constexpr std::size_t kBudget = 200'000;

 public:
  bool over_budget() const { return spent_ > kBudget; }
  // When over_budget(): the index in diags of the "config too large" one.
  std::size_t budget_error() const { return budget_error_; }

 private:
  bool charge(const YAML::Node& at, const std::string& path, std::size_t units);
  void pop_frame();  // reports unknown keys

  std::string file_;
  const util::EnvLookup& env_;
  std::vector<Diagnostic>& diags_;
  std::vector<Frame> frames_;
  std::map<std::string, FieldMarks> marks_;
  std::set<std::string> failed_;
  std::size_t spent_ = 0;
  std::size_t budget_error_ = 0;
  std::span<const std::string_view> extra_root_keys_;
};

}  // namespace llmproxy::config::detail
