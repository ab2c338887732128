// Internal: the checks that need more than one field (names that must exist
// or be unique, required fields of enabled items, Lua scripts, the feature
// table), run after the reader.
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

// Cross-field checks; also fills derived fields (BackendConfig::parsed_url).
void validate(Config& c, Context& ctx);
// Every enabled Lua script: path xor code, file readable, compiles.
void lint_scripts(const Config& c, Context& ctx);
// Configured-and-enabled features that this build lacks.
void check_features(const Config& c, Context& ctx);

}  // namespace llmproxy::config::detail
