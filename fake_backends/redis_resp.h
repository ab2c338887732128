// RESP2 replies as the fake Redis server builds and sends them.
//
// A RespValue is one reply: simple string (+OK), error (-ERR …), integer
// (:5), bulk string ($3 abc), nil bulk ($-1), array (*n …) or nil array
// (*-1). encode() writes the exact RESP2 bytes Redis would send for it.
// Written for the fake and independently of the gateway's own RESP code
// (proxy/stores/redis/reply.h, hiredis), so the fake does not share the
// client's parsing bugs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmproxy::fake {

struct RespValue {
  enum class Type : std::uint8_t { simple, error, integer, bulk, nil, array, nil_array };

  Type type = Type::nil;
  std::int64_t integer = 0;
  std::string text;                 // simple, error (without the '-'), bulk
  std::vector<RespValue> elements;  // array

  static RespValue simple(std::string s) { return {Type::simple, 0, std::move(s), {}}; }
  static RespValue ok() { return simple("OK"); }
  // `message` starts with the error code: "ERR …", "WRONGTYPE …", "NOSCRIPT …".
  static RespValue error(std::string message) { return {Type::error, 0, std::move(message), {}}; }
  static RespValue integer_of(std::int64_t v) { return {Type::integer, v, {}, {}}; }
  static RespValue bulk(std::string s) { return {Type::bulk, 0, std::move(s), {}}; }
  static RespValue nil() { return {}; }
  static RespValue array(std::vector<RespValue> items) { return {Type::array, 0, {}, std::move(items)}; }

  bool is_error() const { return type == Type::error; }
  bool operator==(const RespValue&) const = default;
};

// Appends the RESP2 encoding. CR and LF inside simple strings and errors
// (which RESP cannot carry) are sent as spaces, as Redis does.
void encode(const RespValue& v, std::string& out);
std::string encode(const RespValue& v);

// The error every command answers with wrong arguments, etc. (Redis's texts).
RespValue wrong_arity(std::string_view command);  // "ERR wrong number of arguments for 'x' command"
RespValue not_an_integer();                       // "ERR value is not an integer or out of range"
RespValue wrong_type();                           // "WRONGTYPE Operation against a key …"
RespValue syntax_error();                         // "ERR syntax error"

}  // namespace llmproxy::fake
