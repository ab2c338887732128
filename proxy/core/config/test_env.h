// Test helpers: a fixed environment so tests never read the process's.
#pragma once

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>

#include "proxy/core/util/env_expand.h"

namespace llmproxy::config::testing {

inline util::EnvLookup fake_env(std::map<std::string, std::string> vars = {{"LLMPROXY_TEST_PORT", "8080"}}) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// A directory or file path from a variable meson sets for the test.
inline std::string test_path(const char* var) {
  const char* v = std::getenv(var);
  return v != nullptr ? v : "";
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace llmproxy::config::testing
