// Test support: random JSON text for property tests (RapidCheck). Covers the
// awkward corners on purpose: escapes, surrogate pairs, UTF-8, -0, exponents,
// whitespace everywhere, nesting, duplicate keys.
#pragma once

#include <rapidcheck.h>

#include <string>
#include <vector>

namespace llmproxy::json::testgen {

inline std::string pick(const std::vector<std::string>& options) {
  return options[*rc::gen::inRange<std::size_t>(0, options.size())];
}

inline std::string ws() { return pick({"", "", "", " ", "\n", "\t", " \r\n "}); }

inline std::string string_literal() {
  return pick({R"("")", R"("a")", R"("hello world")", R"("q\"uote")", R"("line\nbreak")",
               R"("\u00e9t\u00e9")", "\"\xc3\xa9t\xc3\xa9\"", R"("\ud83d\ude00")", R"("\/\\")",
               R"("choices")", R"("[DONE]")", R"("{\"x\":[]}")"});
}

inline std::string key_literal() {
  return pick({R"("a")", R"("b")", R"("\u0061")", R"("choices")", R"("usage")", R"("model")",
               R"("stream")", R"("id")", R"("k\"ey")", R"("")"});
}

inline std::string number_literal() {
  return pick({"0", "-0", "1", "42", "-17", "3.25", "1e3", "-2.5E-7", "9223372036854775807",
               "-9223372036854775808", "18446744073709551616", "0.0", "1E+2"});
}

inline std::string value(int depth) {
  const int kind = *rc::gen::inRange(0, depth > 0 ? 7 : 5);
  switch (kind) {
    case 0: return "null";
    case 1: return pick({"true", "false"});
    case 2: return number_literal();
    case 3: return string_literal();
    case 4: return std::to_string(*rc::gen::arbitrary<int>());
    case 5: {
      const int n = *rc::gen::inRange(0, 4);
      std::string s = "[" + ws();
      for (int i = 0; i < n; ++i) s += (i ? "," + ws() : "") + value(depth - 1) + ws();
      return s + "]";
    }
    default: {
      const int n = *rc::gen::inRange(0, 4);
      std::string s = "{" + ws();
      for (int i = 0; i < n; ++i)
        s += (i ? "," + ws() : "") + key_literal() + ws() + ":" + ws() + value(depth - 1) + ws();
      return s + "}";
    }
  }
}

}  // namespace llmproxy::json::testgen
