#include "fake_backends/redis_resp.h"

namespace llmproxy::fake {
namespace {

void line(std::string& out, char prefix, std::string_view text) {
  out += prefix;
  const std::size_t start = out.size();
  out += text;
  // A CR or LF would end the line early and desynchronise the client.
  for (std::size_t i = start; i < out.size(); ++i)
    if (out[i] == '\r' || out[i] == '\n') out[i] = ' ';
  out += "\r\n";
}

void number_line(std::string& out, char prefix, std::int64_t n) {
  out += prefix;
  out += std::to_string(n);
  out += "\r\n";
}

}  // namespace

void encode(const RespValue& v, std::string& out) {
  switch (v.type) {
    case RespValue::Type::simple: line(out, '+', v.text); return;
    case RespValue::Type::error: line(out, '-', v.text); return;
    case RespValue::Type::integer: number_line(out, ':', v.integer); return;
    case RespValue::Type::bulk:
      number_line(out, '$', static_cast<std::int64_t>(v.text.size()));
      out += v.text;
      out += "\r\n";
      return;
    case RespValue::Type::nil: out += "$-1\r\n"; return;
    case RespValue::Type::nil_array: out += "*-1\r\n"; return;
    case RespValue::Type::array:
      number_line(out, '*', static_cast<std::int64_t>(v.elements.size()));
      for (const RespValue& e : v.elements) encode(e, out);
      return;
  }
}

std::string encode(const RespValue& v) {
  std::string out;
  encode(v, out);
  return out;
}

RespValue wrong_arity(std::string_view command) {
  return RespValue::error("ERR wrong number of arguments for '" + std::string(command) +
                          "' command");
}

RespValue not_an_integer() { return RespValue::error("ERR value is not an integer or out of range"); }

RespValue wrong_type() {
  return RespValue::error("WRONGTYPE Operation against a key holding the wrong kind of value");
}

RespValue syntax_error() { return RespValue::error("ERR syntax error"); }

}  // namespace llmproxy::fake
