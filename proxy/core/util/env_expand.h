// ${VAR} and ${VAR:-default} expansion in config values. "$$" is a literal
// "$"; a "$" followed by anything else is kept as is. ${VAR:-default} uses
// the default when VAR is unset or empty (as in POSIX shells); the default
// is taken literally. An unset ${VAR} without default is an error naming it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/core/util/parsed.h"

namespace llmproxy::util {

// Looks a variable up; nullopt when unset. Tests pass a map, the binary
// passes a wrapper of getenv (process_env()).
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

Parsed<std::string> expand_env(std::string_view text, const EnvLookup& env);

// The inverse for literal text: every "$" doubled, so expand_env gives it back.
std::string escape_dollars(std::string_view text);

// Reads the real process environment (only for the binaries' main()).
EnvLookup process_env();

}  // namespace llmproxy::util
