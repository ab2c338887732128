#include "proxy/core/config/load.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>

#include <yaml-cpp/yaml.h>

#include "proxy/core/config/reader.h"
#include "proxy/core/config/validate.h"

namespace llmproxy::config {
namespace {

constexpr std::size_t kMaxConfigBytes = 16u << 20;

// The root as the reader sees it: the Config plus top-level `listen`, an
// alias of server.listen that is folded in after reading (never printed).
struct RootDocument {
  Config& config;
  std::string listen;
  template <class V>
  void visit(V& v) {
    v("listen", listen, check::listen_address);
    config.visit(v);
  }
};

bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

// One diagnostic, one line: values from the file or from ${VARS} may carry
// line breaks and other controls into messages (e.g. a quoted bad URL).
void make_one_line(std::string& message) {
  if (std::none_of(message.begin(), message.end(), is_control)) return;
  std::string out;
  for (char c : message) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (is_control(c)) out += '?';
    else out += c;
  }
  message = std::move(out);
}

bool before(const Diagnostic& a, const Diagnostic& b) {
  return a.line != b.line ? a.line < b.line : a.column < b.column;
}

// An alias repeats its node's problems with the node's own position: the same
// message at the same place says nothing new. diags is sorted by position.
void drop_repeats(std::vector<Diagnostic>& diags) {
  std::set<std::string> seen;  // messages at the current position
  std::size_t kept = 0;
  for (std::size_t i = 0; i < diags.size(); ++i) {
    if (kept > 0 && before(diags[kept - 1], diags[i])) seen.clear();
    if (!seen.insert(diags[i].message).second) continue;
    if (kept != i) diags[kept] = std::move(diags[i]);
    ++kept;
  }
  diags.resize(kept);
}

// Keeps the first `room` and sums the rest up in one diagnostic at the first
// one left out; returns how many were left out.
std::size_t cap(std::vector<Diagnostic>& diags, std::size_t room) {
  if (diags.size() <= room + 1) return 0;  // a summary would save nothing
  const auto hidden = diags.begin() + static_cast<std::ptrdiff_t>(room);
  // Keep has_schema_errors() true when only hidden problems are schema ones.
  const bool schema = std::any_of(hidden, diags.end(),
                                  [](const Diagnostic& d) { return d.kind == Diagnostic::Kind::schema; });
  const std::size_t count = static_cast<std::size_t>(diags.end() - hidden);
  Diagnostic summary{hidden->file, hidden->line, hidden->column,
                     "... " + std::to_string(count) + " more problems not shown",
                     schema ? Diagnostic::Kind::schema : Diagnostic::Kind::not_implemented};
  diags.erase(hidden, diags.end());
  diags.push_back(std::move(summary));
  return count;
}

// Sorted (stable, so deterministic), one line each, repeats dropped, capped.
// `headline` (the index of the reason reading stopped, if it did) goes first
// whatever its position: everything else was found in a half-read file.
// Returns how many were left out.
std::size_t finish_diagnostics(std::vector<Diagnostic>& diags, std::optional<std::size_t> headline = {}) {
  std::optional<Diagnostic> first;
  if (headline && *headline < diags.size()) {
    first = std::move(diags[*headline]);
    diags.erase(diags.begin() + static_cast<std::ptrdiff_t>(*headline));
  }
  std::stable_sort(diags.begin(), diags.end(), before);
  for (auto& d : diags) make_one_line(d.message);
  drop_repeats(diags);
  const std::size_t not_shown = cap(diags, first ? kMaxDiagnostics - 1 : kMaxDiagnostics);
  if (first) {
    make_one_line(first->message);
    diags.insert(diags.begin(), std::move(*first));
  }
  return not_shown;
}

void add(std::vector<Diagnostic>& diags, std::string_view file, const YAML::Mark& m, std::string message) {
  diags.push_back(Diagnostic{std::string(file), m.line >= 0 ? m.line + 1 : 1, m.column >= 0 ? m.column + 1 : 1,
                             std::move(message), Diagnostic::Kind::schema});
}

// Parses the single YAML document; nullopt (with a diagnostic) on error.
std::optional<YAML::Node> parse_yaml(std::string_view yaml, std::string_view file, std::vector<Diagnostic>& diags) {
  if (yaml.size() > kMaxConfigBytes) {
    diags.push_back(Diagnostic{std::string(file), 1, 1, "config file is larger than 16 MiB", Diagnostic::Kind::schema});
    return std::nullopt;
  }
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(std::string(yaml));
    if (docs.empty()) return YAML::Node();
    if (docs.size() > 1) {
      add(diags, file, docs[1].Mark(), "only one YAML document is allowed");
      return std::nullopt;
    }
    return docs.front();
  } catch (const YAML::Exception& e) {
    add(diags, file, e.mark, "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    diags.push_back(Diagnostic{std::string(file), 1, 1, std::string("YAML error: ") + e.what(),
                               Diagnostic::Kind::schema});
  }
  return std::nullopt;
}

}  // namespace

bool LoadResult::has_schema_errors() const {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.kind == Diagnostic::Kind::schema; });
}

LoadResult load_config_string(std::string_view yaml, std::string_view display_name, std::string base_dir,
                              const EnvLookup& env) {
  LoadResult result;
  auto& diags = result.diagnostics;
  auto config = std::make_shared<Config>();
  try {
    if (auto root = parse_yaml(yaml, display_name, diags)) {
      detail::Reader reader(std::string(display_name), env, diags);
      RootDocument doc{*config, {}};
      reader.read_root(*root, doc, {});
      if (reader.over_budget()) {
        result.not_shown = finish_diagnostics(diags, reader.budget_error());
        return result;  // the half-read tree is not worth cross-checking
      }
      detail::Context ctx(std::string(display_name), reader.marks(), reader.failed(), std::move(base_dir), diags);
      if (!doc.listen.empty()) {
        if (ctx.present("server.listen") && config->server.listen != doc.listen)
          ctx.error("listen", "differs from server.listen (\"" + config->server.listen + "\"); give only one",
                    true);
        config->server.listen = doc.listen;
      }
      detail::validate(*config, ctx);
      detail::lint_scripts(*config, ctx);
      detail::check_features(*config, ctx);
    }
  } catch (const std::exception& e) {
    // yaml-cpp may throw on node access in corner cases; never let it escape.
    diags.push_back(Diagnostic{std::string(display_name), 1, 1,
                               std::string("internal error while reading config: ") + e.what(),
                               Diagnostic::Kind::schema});
  }
  result.not_shown = finish_diagnostics(diags);
  if (!result.has_schema_errors()) result.config = std::move(config);
  return result;
}

LoadResult load_config_file(const std::string& path, const EnvLookup& env) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::ifstream in(path, std::ios::binary);
  if (!in || fs::is_directory(path, ec)) {
    LoadResult r;
    r.diagnostics.push_back(Diagnostic{path, 1, 1,
                                       std::string("cannot read config file: ") +
                                           (fs::is_directory(path, ec) ? "is a directory" : std::strerror(errno)),
                                       Diagnostic::Kind::schema});
    return r;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string base = fs::path(path).parent_path().string();
  return load_config_string(text, path, base, env);
}

Config read_config_schema(std::string_view yaml, std::string_view display_name, const EnvLookup& env,
                          std::vector<Diagnostic>& diags) {
  Config config;
  try {
    if (auto root = parse_yaml(yaml, display_name, diags)) {
      detail::Reader reader(std::string(display_name), env, diags);
      reader.read_root(*root, config, {});
    }
  } catch (const std::exception& e) {
    diags.push_back(Diagnostic{std::string(display_name), 1, 1,
                               std::string("internal error while reading config: ") + e.what(),
                               Diagnostic::Kind::schema});
  }
  finish_diagnostics(diags);
  return config;
}

}  // namespace llmproxy::config
