// Redis's conversions between RESP replies and Lua values, for the fake
// Redis server's scripting (redis_lua.h states the rules). Each function
// works on the stack of `L` and must run inside a protected call: pushing
// can raise a Lua memory error.
#pragma once

#include <string>
#include <string_view>

#include "fake_backends/redis_resp.h"

struct lua_State;

namespace llmproxy::fake {

// A reply as redis.call returns it: integer → number (a double, as in Lua
// 5.1), bulk → string, nil → false, status → {ok=…}, error → {err=…},
// array → table.
void push_lua_reply(lua_State* L, const RespValue& v);
// {err = text}: how a script sees an error reply.
void push_lua_error_table(lua_State* L, const std::string& text);
// The value at `idx` as the reply of a script: number → integer (truncated;
// out of range → INT64_MIN), string → bulk, true → 1, false and nil → nil,
// {err=s} → error, {ok=s} → status, other tables → array up to the first
// nil, at most 128 levels deep (deeper: an error element).
RespValue lua_to_reply(lua_State* L, int idx);
// The string field `name` of the table at `idx`, read raw (no metamethod
// runs); false when it is not a string.
bool lua_string_field(lua_State* L, int idx, const char* name, std::string& out);
// redis.error_reply's rule: a leading '-' is dropped, a message without an
// error code (no space) gets "ERR ", trailing CR/LF go.
std::string normalise_script_error(std::string_view s);

}  // namespace llmproxy::fake
