#include "fake_backends/redis_lua_values.h"

#include <lua.hpp>

#include <cstdint>

namespace llmproxy::fake {
namespace {

constexpr int kMaxReplyDepth = 128;

RespValue to_reply(lua_State* L, int idx, int depth) {
  switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
      std::size_t n = 0;
      const char* s = lua_tolstring(L, idx, &n);
      return RespValue::bulk(std::string(s, n));
    }
    case LUA_TBOOLEAN:
      return lua_toboolean(L, idx) != 0 ? RespValue::integer_of(1) : RespValue::nil();
    case LUA_TNUMBER: {
      if (lua_isinteger(L, idx) != 0) return RespValue::integer_of(lua_tointeger(L, idx));
      const double d = lua_tonumber(L, idx);
      // Redis casts to long long; x86 gives INT64_MIN for what does not fit.
      if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return RespValue::integer_of(INT64_MIN);
      return RespValue::integer_of(static_cast<std::int64_t>(d));
    }
    case LUA_TTABLE: {
      // Redis puts this error element where its C stack runs out (about
      // 2,000 levels down); the fake does it sooner.
      if (depth >= kMaxReplyDepth || lua_checkstack(L, 3) == 0)
        return RespValue::error("ERR reached lua stack limit");
      std::string text;
      if (lua_string_field(L, idx, "err", text)) return RespValue::error(std::move(text));
      if (lua_string_field(L, idx, "ok", text)) return RespValue::simple(std::move(text));
      RespValue out = RespValue::array({});
      for (lua_Integer j = 1;; ++j) {
        lua_rawgeti(L, idx, j);
        if (lua_isnil(L, -1)) {
          lua_pop(L, 1);
          break;
        }
        out.elements.push_back(to_reply(L, lua_gettop(L), depth + 1));
        lua_pop(L, 1);
      }
      return out;
    }
    default: return RespValue::nil();
  }
}

}  // namespace

RespValue lua_to_reply(lua_State* L, int idx) { return to_reply(L, idx, 0); }

void push_lua_error_table(lua_State* L, const std::string& text) {
  lua_newtable(L);
  lua_pushlstring(L, text.data(), text.size());
  lua_setfield(L, -2, "err");
}

void push_lua_reply(lua_State* L, const RespValue& v) {
  luaL_checkstack(L, 4, "reply too deep");
  switch (v.type) {
    case RespValue::Type::integer:
      lua_pushnumber(L, static_cast<lua_Number>(v.integer));  // a double, as in Lua 5.1
      return;
    case RespValue::Type::bulk: lua_pushlstring(L, v.text.data(), v.text.size()); return;
    case RespValue::Type::nil:
    case RespValue::Type::nil_array: lua_pushboolean(L, 0); return;
    case RespValue::Type::simple:
      lua_newtable(L);
      lua_pushlstring(L, v.text.data(), v.text.size());
      lua_setfield(L, -2, "ok");
      return;
    case RespValue::Type::error: push_lua_error_table(L, v.text); return;
    case RespValue::Type::array:
      lua_createtable(L, static_cast<int>(v.elements.size()), 0);
      for (std::size_t i = 0; i < v.elements.size(); ++i) {
        push_lua_reply(L, v.elements[i]);
        lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
      }
      return;
  }
}

bool lua_string_field(lua_State* L, int idx, const char* name, std::string& out) {
  lua_pushstring(L, name);
  lua_rawget(L, idx);
  const bool found = lua_type(L, -1) == LUA_TSTRING;
  if (found) {
    std::size_t n = 0;
    const char* s = lua_tolstring(L, -1, &n);
    out.assign(s, n);
  }
  lua_pop(L, 1);
  return found;
}

std::string normalise_script_error(std::string_view s) {
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  if (s.find(' ') == std::string_view::npos) return "ERR " + std::string(s);
  return std::string(s);
}

}  // namespace llmproxy::fake
