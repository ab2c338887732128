#include "fake_backends/redis_lua.h"

#include <lua.hpp>

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "fake_backends/redis_lua_values.h"
#include "proxy/stores/redis/redis_client.h"  // Script: the gateway's SHA1 of a script

namespace llmproxy::fake {

// The script running now: what its redis.call commands work on.
struct RedisLua::Run {
  CommandContext* ctx;
};

namespace {

constexpr int kHookEvery = 1000;  // instructions between budget checks
constexpr const char* kChunkName = "@user_script";

// Run once in every new VM: Lua 5.1's number look (see redis_lua.h) and a
// seeded math.random. Gets the seed.
constexpr std::string_view kPrelude = R"lua(
local seed = ...
local tonumber54, tostring54, load54, mtype, format = tonumber, tostring, load, math.type, string.format
math.randomseed(seed)
function tonumber(...)
  local v = tonumber54(...)
  if mtype(v) == 'integer' then return v + 0.0 end
  return v
end
function tostring(v)
  if mtype(v) == 'float' then return format('%.14g', v) end
  return tostring54(v)
end
function load(chunk, name, _, ...) return load54(chunk, name, 't', ...) end
unpack = table.unpack
print, dofile, loadfile = nil, nil, nil
)lua";

bool is_forbidden_in_scripts(std::string_view name) {
  std::string l(name);
  for (char& c : l)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  for (const char* f : {"eval", "evalsha", "eval_ro", "evalsha_ro", "script", "auth", "select",
                        "quit", "multi", "exec", "watch", "fcall", "function", "hello"})
    if (l == f) return true;
  return false;
}

std::string sha1_of(std::string_view source) {
  return stores::redis::Script(std::string(source)).sha1();
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Runs `f(L)` as a protected call with the message handler `handler` (or
// none): Lua errors anywhere inside, memory errors included, come back as
// a status with the error object on top of the stack.
template <class F>
int protected_call(lua_State* L, F& f, lua_CFunction handler) {
  const int base = lua_gettop(L);
  if (handler != nullptr) lua_pushcfunction(L, handler);
  lua_pushcfunction(L, [](lua_State* S) -> int {
    F* fn = static_cast<F*>(lua_touserdata(S, 1));
    lua_remove(S, 1);
    return (*fn)(S);
  });
  lua_pushlightuserdata(L, &f);
  const int status = lua_pcall(L, 1, 0, handler != nullptr ? base + 1 : 0);
  if (handler != nullptr) lua_remove(L, base + 1);
  return status;
}

}  // namespace

// The C functions the VM calls.
struct LuaCallbacks {
  static RedisLua& self(lua_State* L) {
    RedisLua* p = nullptr;
    std::memcpy(&p, lua_getextraspace(L), sizeof p);
    return *p;
  }

  [[noreturn]] static int panic(lua_State* L) {
    // Only reachable through a bug here (an error outside a protected call).
    const char* msg = lua_tostring(L, -1);
    throw std::runtime_error(std::string("fake redis: unprotected Lua error: ") +
                             (msg != nullptr ? msg : "?"));
  }

  static void count_hook(lua_State* L, lua_Debug*) {
    RedisLua& s = self(L);
    if (s.current_ == nullptr) return;
    s.steps_ += kHookEvery;
    if (s.steps_ > s.limits_.instruction_budget) {
      lua_pushstring(L, "fake redis: script exceeded its instruction budget");
      lua_error(L);
    }
  }

  // Message handler: turns any error into Redis's error table, with where it
  // happened (the Lua function, not the C function it called).
  static int on_error(lua_State* L) {
    lua_Debug ar;
    bool have_line = false;
    if (lua_getstack(L, 1, &ar) != 0 && lua_getinfo(L, "Sl", &ar) != 0) {
      if (std::strcmp(ar.what, "C") == 0)
        have_line = lua_getstack(L, 2, &ar) != 0 && lua_getinfo(L, "Sl", &ar) != 0;
      else
        have_line = true;
    }
    if (!lua_istable(L, 1)) {
      const char* msg = lua_tostring(L, 1);
      lua_newtable(L);
      lua_pushstring(L, "ERR ");
      lua_pushstring(L, msg != nullptr ? msg : "execution failure");
      lua_concat(L, 2);
      lua_setfield(L, -2, "err");
      lua_replace(L, 1);
    }
    if (have_line && ar.currentline > 0) {
      lua_pushstring(L, ar.source);
      lua_setfield(L, 1, "source");
      lua_pushinteger(L, ar.currentline);
      lua_setfield(L, 1, "line");
    }
    lua_settop(L, 1);
    return 1;
  }

  // The metatable of each run's globals: reads fall through to _G, and as
  // in Redis 7 an unknown name or a write is an error. In C, so the error
  // is reported at the script's line (level 1 is the script's caller frame).
  static int global_index(lua_State* L) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    if (!lua_isnil(L, -1)) return 1;
    const char* name = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?";
    return luaL_error(L, "Script attempted to access nonexistent global variable '%s'", name);
  }

  static int global_newindex(lua_State* L) { return luaL_error(L, "Attempt to modify a readonly table"); }

  static void push_env_metatable(lua_State* L) {
    lua_newtable(L);
    lua_pushcfunction(L, global_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, global_newindex);
    lua_setfield(L, -2, "__newindex");
  }

  static int call_impl(lua_State* L, bool raise) {
    RedisLua& s = self(L);
    if (s.current_ == nullptr) return luaL_error(L, "redis.call outside a script");
    const int argc = lua_gettop(L);
    RespValue reply;
    std::string error;
    if (argc == 0) {
      error = "ERR Please specify at least one argument for this redis lib call";
    } else {
      std::vector<std::string> argv;
      argv.reserve(static_cast<std::size_t>(argc));
      for (int i = 1; i <= argc && error.empty(); ++i) {
        const int t = lua_type(L, i);
        if (t == LUA_TNUMBER) {
          // Redis formats numbers itself (%.17g): Lua's own conversion
          // would print "1500.0" for a float.
          argv.push_back(format_double(lua_tonumber(L, i)));
        } else if (t == LUA_TSTRING) {
          std::size_t n = 0;
          const char* p = lua_tolstring(L, i, &n);
          argv.emplace_back(p, n);
        } else {
          error = "ERR Lua redis lib command arguments must be strings or integers";
        }
      }
      if (error.empty()) {
        const DataCommand* c = find_data_command(argv[0]);
        if (c == nullptr)
          error = is_forbidden_in_scripts(argv[0])
                      ? "ERR This Redis command is not allowed from script"
                      : "ERR Unknown Redis command called from script";
        else if (!arity_ok(*c, argv.size()))
          error = "ERR Wrong number of args calling Redis command from script";
        else
          reply = c->run(*s.current_->ctx, argv);
      }
    }
    if (!error.empty()) reply = RespValue::error(std::move(error));
    if (reply.is_error()) {
      push_lua_error_table(L, reply.text);
      if (raise) return lua_error(L);
      return 1;
    }
    push_lua_reply(L, reply);
    return 1;
  }

  static int call(lua_State* L) { return call_impl(L, true); }
  static int pcall(lua_State* L) { return call_impl(L, false); }

  static int error_reply(lua_State* L) {
    if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING)
      return luaL_error(L, "wrong number or type of arguments");
    push_lua_error_table(L, normalise_script_error(lua_tostring(L, 1)));
    return 1;
  }

  static int status_reply(lua_State* L) {
    if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING)
      return luaL_error(L, "wrong number or type of arguments");
    lua_newtable(L);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "ok");
    return 1;
  }

  static int sha1hex(lua_State* L) {
    if (lua_gettop(L) != 1) return luaL_error(L, "wrong number of arguments");
    std::size_t n = 0;
    const char* p = luaL_checklstring(L, 1, &n);
    const std::string sha = sha1_of(std::string_view(p, n));
    lua_pushlstring(L, sha.data(), sha.size());
    return 1;
  }

  static int log(lua_State* L) {
    if (lua_gettop(L) < 2) return luaL_error(L, "redis.log() requires two arguments or more.");
    return 0;
  }

  static int replicate_commands(lua_State* L) {
    lua_pushboolean(L, 1);
    return 1;
  }

  static void install_redis_table(lua_State* L) {
    lua_newtable(L);
    const luaL_Reg fns[] = {{"call", call},
                            {"pcall", pcall},
                            {"error_reply", error_reply},
                            {"status_reply", status_reply},
                            {"sha1hex", sha1hex},
                            {"log", log},
                            {"replicate_commands", replicate_commands},
                            {nullptr, nullptr}};
    luaL_setfuncs(L, fns, 0);
    const std::pair<const char*, int> levels[] = {
        {"LOG_DEBUG", 0}, {"LOG_VERBOSE", 1}, {"LOG_NOTICE", 2}, {"LOG_WARNING", 3}};
    for (const auto& [name, v] : levels) {
      lua_pushinteger(L, v);
      lua_setfield(L, -2, name);
    }
    lua_setglobal(L, "redis");
  }
};

// ---------------------------------------------------------------- the VM

RedisLua::RedisLua(std::uint64_t seed, LuaLimits limits) : seed_(seed), limits_(limits) { open(); }

RedisLua::~RedisLua() { close(); }

void* RedisLua::allocate(void* ud, void* ptr, std::size_t old_size, std::size_t new_size) {
  auto* self = static_cast<RedisLua*>(ud);
  if (ptr == nullptr) old_size = 0;  // Lua passes the type tag here for new blocks
  if (new_size == 0) {
    std::free(ptr);
    self->memory_ -= old_size;
    return nullptr;
  }
  // Refusing is how a Lua allocator reports "out of memory": the script
  // fails with a memory error, deterministically.
  if (new_size > old_size && self->memory_ + (new_size - old_size) > self->limits_.memory_limit)
    return nullptr;
  void* p = std::realloc(ptr, new_size);
  if (p != nullptr) self->memory_ = self->memory_ - old_size + new_size;
  return p;
}

void RedisLua::open() {
  L_ = lua_newstate(&RedisLua::allocate, this);
  if (L_ == nullptr) throw std::runtime_error("fake redis: cannot create a Lua VM");
  RedisLua* me = this;
  std::memcpy(lua_getextraspace(L_), &me, sizeof me);
  lua_atpanic(L_, LuaCallbacks::panic);
  // A different seed for every VM of this server, all derived from `seed_`.
  const auto seed = static_cast<lua_Integer>(seed_ ^ (0x9e3779b97f4a7c15ULL * ++generation_));
  auto setup = [this, seed](lua_State* L) -> int {
    for (const luaL_Reg lib : {luaL_Reg{LUA_GNAME, luaopen_base}, luaL_Reg{LUA_TABLIBNAME, luaopen_table},
                               luaL_Reg{LUA_STRLIBNAME, luaopen_string},
                               luaL_Reg{LUA_MATHLIBNAME, luaopen_math}}) {
      luaL_requiref(L, lib.name, lib.func, 1);
      lua_pop(L, 1);
    }
    LuaCallbacks::install_redis_table(L);
    if (luaL_loadbufferx(L, kPrelude.data(), kPrelude.size(), "=prelude", "t") != LUA_OK)
      return lua_error(L);
    lua_pushinteger(L, seed);
    lua_call(L, 1, 0);
    LuaCallbacks::push_env_metatable(L);
    env_metatable_ = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
  };
  if (protected_call(L_, setup, nullptr) != LUA_OK) {
    const std::string msg = lua_tostring(L_, -1) != nullptr ? lua_tostring(L_, -1) : "?";
    close();
    throw std::runtime_error("fake redis: Lua setup failed: " + msg);
  }
  lua_sethook(L_, LuaCallbacks::count_hook, LUA_MASKCOUNT, kHookEvery);
}

void RedisLua::close() {
  if (L_ != nullptr) lua_close(L_);
  L_ = nullptr;
  scripts_.clear();
}

void RedisLua::flush() {
  close();
  open();
}

bool RedisLua::exists(std::string_view sha) const { return scripts_.count(lowercase(sha)) != 0; }

RespValue RedisLua::load(std::string_view source) {
  std::string sha = sha1_of(source);
  if (scripts_.count(sha) != 0) return RespValue::bulk(std::move(sha));
  std::string error;
  int ref = 0;
  auto compile = [&](lua_State* L) -> int {
    if (luaL_loadbufferx(L, source.data(), source.size(), kChunkName, "t") != LUA_OK) {
      std::size_t n = 0;
      const char* m = lua_tolstring(L, -1, &n);
      error.assign(m != nullptr ? m : "?", m != nullptr ? n : 1);
      return 0;
    }
    ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
  };
  if (protected_call(L_, compile, nullptr) != LUA_OK)
    error = lua_type(L_, -1) == LUA_TSTRING ? lua_tostring(L_, -1) : "not enough memory";
  lua_settop(L_, 0);
  if (!error.empty()) {
    // Lua 5.1 quotes the end of input in its messages ("near '<eof>'").
    for (std::size_t p = error.find("near <eof>"); p != std::string::npos; p = error.find("near <eof>", p))
      error.replace(p, 10, "near '<eof>'");
    return RespValue::error("ERR Error compiling script (new function): " + error);
  }
  scripts_.emplace(sha, ref);
  return RespValue::bulk(std::move(sha));
}

RespValue RedisLua::run(std::string_view sha, std::span<const std::string> keys,
                        std::span<const std::string> args, CommandContext& ctx) {
  const auto it = scripts_.find(sha);
  if (it == scripts_.end()) return RespValue::error("NOSCRIPT No matching script. Please use EVAL.");
  const int ref = it->second;
  Run run{&ctx};
  RespValue result;
  auto body = [&](lua_State* L) -> int {
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    const int fn = lua_gettop(L);
    // This run's globals: KEYS, ARGV and, read-only, everything else.
    lua_newtable(L);
    for (const auto& [name, list] : {std::pair{"KEYS", keys}, std::pair{"ARGV", args}}) {
      lua_createtable(L, static_cast<int>(list.size()), 0);
      for (std::size_t i = 0; i < list.size(); ++i) {
        lua_pushlstring(L, list[i].data(), list[i].size());
        lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
      }
      lua_setfield(L, -2, name);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, env_metatable_);
    lua_setmetatable(L, -2);
    lua_setupvalue(L, fn, 1);  // the chunk's _ENV
    lua_call(L, 0, 1);
    result = lua_to_reply(L, lua_gettop(L));
    return 0;
  };
  current_ = &run;
  steps_ = 0;
  const int status = protected_call(L_, body, LuaCallbacks::on_error);
  current_ = nullptr;
  if (status != LUA_OK) {
    // The handler made a table {err, source, line}; a memory error skips it
    // and leaves a string.
    std::string err, source;
    if (lua_istable(L_, -1)) {
      const int top = lua_gettop(L_);
      if (!lua_string_field(L_, top, "err", err)) err = "ERR unknown error";
      lua_string_field(L_, top, "source", source);
      lua_pushstring(L_, "line");
      lua_rawget(L_, top);
      const lua_Integer line = lua_isinteger(L_, -1) != 0 ? lua_tointeger(L_, -1) : 0;
      if (line > 0 && !source.empty())
        err += " script: " + std::string(sha) + ", on " + source + ":" + std::to_string(line) + ".";
    } else {
      // A string (LUA_ERRMEM, or an error inside the handler); no conversion
      // of other types here, which could allocate outside a protected call.
      const char* m = lua_type(L_, -1) == LUA_TSTRING ? lua_tostring(L_, -1) : nullptr;
      err = std::string("ERR ") + (m != nullptr ? m : "execution failure");
    }
    result = RespValue::error(std::move(err));
  }
  lua_settop(L_, 0);
  return result;
}

}  // namespace llmproxy::fake
