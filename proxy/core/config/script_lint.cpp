// Lua scripts are compiled (never run) at load time so a syntax error or a
// missing file is a config error, not a failure on the first request.
#include <lua.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <type_traits>

#include "proxy/core/config/validate.h"

namespace llmproxy::config::detail {
namespace {

struct ScriptRef {
  std::string path;  // config path of the block, e.g. "hooks.on_request"
  const ScriptConfig* script;
};

// Walks the config through visit() and lists every script block, skipping
// the `lua:` block of disabled auth providers.
class ScriptCollector {
 public:
  explicit ScriptCollector(std::vector<ScriptRef>& out) : out_(out) {}

  template <class T, class... Checks>
  void operator()(Key key, T& member, Checks&&...) {
    visit_value(join(key.name), member);
  }
  template <class T>
  void input_only(Key, T&) {}

  template <class T, class E>
  void only_if(Key key, E type, E wanted, T& member) {
    if (type != wanted) return;
    if constexpr (std::is_same_v<T, ScriptConfig>)
      if (skip_lua_) return;
    (*this)(key, member);
  }

  template <class T, class E, class... Checks>
  void only_for(Key key, std::string_view, E type, E wanted, T& member, Checks&&...) {
    if (type == wanted) (*this)(key, member);
  }

  template <class T>
  void walk(T& root) {
    root.visit(*this);
  }

 private:
  std::string join(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
  }
  void visit_value(const std::string& path, ScriptConfig& s) { out_.push_back(ScriptRef{path, &s}); }
  template <class T>
  void visit_value(const std::string& path, std::vector<T>& v) {
    for (std::size_t i = 0; i < v.size(); ++i) visit_value(path + "[" + std::to_string(i) + "]", v[i]);
  }
  template <class T>
  void visit_value(const std::string& path, T& s) {
    if constexpr (requires { s.visit(*this); }) {
      const std::string saved = prefix_;
      const bool saved_skip = skip_lua_;
      prefix_ = path;
      if constexpr (std::is_same_v<T, AuthProvider>) skip_lua_ = !s.enabled;
      s.visit(*this);
      prefix_ = saved;
      skip_lua_ = saved_skip;
    }
  }

  std::vector<ScriptRef>& out_;
  std::string prefix_;
  bool skip_lua_ = false;
};

// Compiles Lua text in a fresh state without running it; "" when it compiles.
std::string compile_error(const std::string& code, const std::string& chunk_name) {
  lua_State* L = luaL_newstate();
  if (L == nullptr) return "cannot create a Lua state";
  std::string message;
  if (luaL_loadbufferx(L, code.data(), code.size(), chunk_name.c_str(), "t") != LUA_OK) {
    const char* m = lua_tostring(L, -1);
    message = m != nullptr ? m : "unknown Lua error";
  }
  lua_close(L);
  return message;
}

constexpr std::uintmax_t kMaxScriptBytes = 16u << 20;

}  // namespace

void lint_scripts(const Config& c, Context& ctx) {
  std::vector<ScriptRef> scripts;
  ScriptCollector collector(scripts);
  collector.walk(const_cast<Config&>(c));  // the collector only reads
  for (const auto& ref : scripts) {
    const ScriptConfig& s = *ref.script;
    if (!s.enabled) continue;
    if (!s.path.empty() && !s.code.empty()) {
      ctx.error(ref.path + ".code", "give either path or code, not both", true);
      continue;
    }
    if (s.path.empty() && s.code.empty()) {
      ctx.error(ref.path, "script is enabled but has neither path nor code", true);
      continue;
    }
    if (!s.code.empty()) {
      const std::string err = compile_error(s.code, "=" + ref.path + ".code");
      if (!err.empty()) ctx.error(ref.path + ".code", "Lua syntax error: " + err);
      continue;
    }
    namespace fs = std::filesystem;
    fs::path file(s.path);
    if (file.is_relative() && !ctx.base_dir().empty()) file = fs::path(ctx.base_dir()) / file;
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
      ctx.error(ref.path + ".path", "script file '" + s.path + "' not found" +
                                        (fs::path(s.path).is_relative() ? " (relative to the config file)" : ""));
      continue;
    }
    if (fs::file_size(file, ec) > kMaxScriptBytes) {
      ctx.error(ref.path + ".path", "script file '" + s.path + "' is larger than 16 MiB");
      continue;
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      ctx.error(ref.path + ".path", "cannot read script file '" + s.path + "': " + std::strerror(errno));
      continue;
    }
    const std::string code((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string err = compile_error(code, "@" + s.path);
    if (!err.empty()) ctx.error(ref.path + ".path", "Lua syntax error: " + err);
  }
}

}  // namespace llmproxy::config::detail
