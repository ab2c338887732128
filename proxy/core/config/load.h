// Loading and validating a config file. Every problem is collected in one
// run (never thrown): YAML syntax, unknown keys (with "did you mean"), wrong
// types, bad values, dangling storage/backend names, missing or broken Lua
// scripts, unset ${VARS}, and features that are configured but not built.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/core/config/config.h"
#include "proxy/core/config/diagnostic.h"
#include "proxy/core/util/env_expand.h"

namespace llmproxy::config {

using EnvLookup = util::EnvLookup;

// A broken (or generated, or hostile) file can have a problem on every line;
// past this many, the rest are summed up in one last diagnostic,
// "... N more problems not shown", placed at the first one left out.
inline constexpr std::size_t kMaxDiagnostics = 50;

struct LoadResult {
  // Null when there is any schema diagnostic. Set (but not fit to serve)
  // when the only diagnostics are not_implemented ones: `serve` must refuse to
  // start unless ok(), `check-config --print` can still show it.
  std::shared_ptr<const Config> config;
  // Sorted by line, then column, without repeats (an alias repeats its
  // node's problems at the node's position). When there are more than
  // kMaxDiagnostics + 1, the first kMaxDiagnostics and then the summary.
  // Messages are one line each (control characters escaped). Exception: when
  // the file expands too much to be read ("config too large"), that one
  // comes first, since the others were found in a half-read file.
  std::vector<Diagnostic> diagnostics;
  std::size_t not_shown = 0;  // problems summed up in the last diagnostic

  bool ok() const { return config != nullptr && diagnostics.empty(); }
  bool has_schema_errors() const;
  // Every problem found, shown or not.
  std::size_t problem_count() const { return diagnostics.size() - (not_shown > 0 ? 1 : 0) + not_shown; }
};

// Reads the file; relative script paths resolve against its folder.
LoadResult load_config_file(const std::string& path, const EnvLookup& env);

// display_name is used as the file in diagnostics; base_dir resolves
// relative script paths (may be "" = current directory).
LoadResult load_config_string(std::string_view yaml, std::string_view display_name, std::string base_dir,
                              const EnvLookup& env);

// Schema-only read (no cross-checks, no files, no feature table): for the
// printer round-trip property. Diagnostics are appended to diags (sorted and
// capped like LoadResult's).
Config read_config_schema(std::string_view yaml, std::string_view display_name, const EnvLookup& env,
                          std::vector<Diagnostic>& diags);

}  // namespace llmproxy::config
