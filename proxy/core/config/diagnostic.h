// A problem found in a config file, with its 1-based position.
#pragma once

#include <string>

namespace llmproxy::config {

struct Diagnostic {
  enum class Kind { schema, not_implemented };
  std::string file;  // as given to the loader (display name)
  int line = 1;      // 1-based
  int column = 1;    // 1-based
  std::string message;
  Kind kind = Kind::schema;

  bool operator==(const Diagnostic&) const = default;
};

// "file:line:col: message", the format of compilers and of `check-config`.
std::string format_diagnostic(const Diagnostic& d);

}  // namespace llmproxy::config
