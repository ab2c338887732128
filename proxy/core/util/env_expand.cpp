#include "proxy/core/util/env_expand.h"

#include <cstdlib>

namespace llmproxy::util {
namespace {

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

}  // namespace

Parsed<std::string> expand_env(std::string_view text, const EnvLookup& env) {
  using R = Parsed<std::string>;
  if (text.find('$') == std::string_view::npos) return R::success(std::string(text));
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '$' || i + 1 == text.size()) {
      out += c;
      ++i;
      continue;
    }
    const char next = text[i + 1];
    if (next == '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next != '{') {
      out += '$';
      ++i;
      continue;
    }
    const std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos)
      return R::failure("unterminated \"${\" (write \"$$\" for a literal \"$\")");
    const std::string_view inner = text.substr(i + 2, close - i - 2);
    const std::size_t sep = inner.find(":-");
    const std::string_view name = inner.substr(0, sep);
    if (name.empty() || !is_name_start(name.front()))
      return R::failure("invalid variable name in \"${" + std::string(inner) + "}\"");
    for (char n : name)
      if (!is_name_char(n)) return R::failure("invalid variable name in \"${" + std::string(inner) + "}\"");
    std::optional<std::string> value = env ? env(name) : std::nullopt;
    if (sep != std::string_view::npos) {
      if (!value || value->empty()) value = std::string(inner.substr(sep + 2));
    } else if (!value) {
      return R::failure("environment variable " + std::string(name) +
                        " is not set (set it, or write ${" + std::string(name) + ":-default})");
    }
    out += *value;
    i = close + 1;
  }
  return R::success(std::move(out));
}

std::string escape_dollars(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '$') out += '$';
    out += c;
  }
  return out;
}

EnvLookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const std::string n(name);
    const char* v = std::getenv(n.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

}  // namespace llmproxy::util
