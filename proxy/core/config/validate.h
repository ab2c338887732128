// Internal: the checks that need more than one field (names that must exist
// or be unique, required fields of enabled items, Lua scripts, the feature
// table), run after the reader. Each module's checks live beside it, in
// validate_<module>.cpp (the module's struct is in <module>.h), so a module
// is read, checked and changed in one place; validate() runs them in order.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/core/config/config.h"
#include "proxy/core/config/diagnostic.h"
#include "proxy/core/config/features.h"
#include "proxy/core/config/reader.h"

namespace llmproxy::config::detail {

class Context {
 public:
  Context(std::string file, const std::map<std::string, FieldMarks>& marks, const std::set<std::string>& failed,
          std::string base_dir, std::vector<Diagnostic>& diags)
      : file_(std::move(file)), marks_(marks), failed_(failed), base_dir_(std::move(base_dir)), diags_(diags) {}

  // Position of a field's value (or key), or of its nearest ancestor that
  // appears in the file.
  Position at(std::string_view path, bool key = false) const;
  bool present(std::string_view path) const { return marks_.count(std::string(path)) != 0; }
  // True when the reader already reported path or one of its ancestors;
  // error() then stays quiet to avoid follow-on noise.
  bool failed(std::string_view path) const;
  void error(std::string_view path, const std::string& message, bool at_key = false);
  void not_implemented(std::string_view where, std::string_view label, Feature f);
  const std::string& base_dir() const { return base_dir_; }

 private:
  std::string file_;
  const std::map<std::string, FieldMarks>& marks_;
  const std::set<std::string>& failed_;
  std::string base_dir_;
  std::vector<Diagnostic>& diags_;
};

// "list[i]", the path of a list's item.
inline std::string idx(std::string_view base, std::size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}

// Names that must be unique within one list (and present, when required).
template <class T>
void check_unique_names(const std::vector<T>& items, std::string_view list_path, Context& ctx, bool required) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string& name = items[i].name;
    if (name.empty()) {
      if (required) ctx.error(idx(list_path, i), "name is required", true);
      continue;
    }
    if (!seen.insert(name).second) ctx.error(idx(list_path, i) + ".name", "duplicate name '" + name + "'");
  }
}

void check_required(const std::string& value, const std::string& path, std::string_view what, Context& ctx);

// A module's `storage:` naming a database or a cache of storage.* (defined
// in validate_storage.cpp, with the default-name rules they explain).
void check_database_ref(const Config& c, const std::string& path, const std::string& name, Context& ctx);
void check_cache_ref(const Config& c, const std::string& path, const std::string& name, Context& ctx,
                     bool need_redis);

// Each module's checks (validate_<module>.cpp), in the order validate() runs
// them: storage first (it folds storage.database/cache into the lists the
// others' references resolve against), backends and discovery before routing
// (fallback entries name their backends; backends get parsed_url), the rest
// in the order they always ran, so two problems at one position keep their
// order in the output (diagnostics are stably sorted by position).
void validate_storage(Config& c, Context& ctx);
void validate_backends(Config& c, Context& ctx);
void validate_discovery(Config& c, Context& ctx);
void validate_admin(const Config& c, Context& ctx);
void validate_auth(const Config& c, Context& ctx);
void validate_metrics(const Config& c, Context& ctx);
void validate_server(const Config& c, Context& ctx);
void validate_system_log(const Config& c, Context& ctx);
void validate_logging(const Config& c, Context& ctx);
void validate_rate_limit(const Config& c, Context& ctx);
void validate_routing(const Config& c, Context& ctx);
void validate_usage(const Config& c, Context& ctx);

// Cross-field checks of every module; also fills derived fields
// (BackendConfig::parsed_url).
void validate(Config& c, Context& ctx);
// Every enabled Lua script: path xor code, file readable, compiles.
void lint_scripts(const Config& c, Context& ctx);
// Configured-and-enabled features that this build lacks.
void check_features(const Config& c, Context& ctx);

}  // namespace llmproxy::config::detail
