// expand_env never crashes; escaping an expansion's result and expanding it
// again gives the same text back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/core/util/env_expand.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace llmproxy::util;
  const EnvLookup env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "A") return std::string("a$b");
    if (name == "EMPTY") return std::string();
    return std::nullopt;
  };
  const auto r = expand_env(std::string_view(reinterpret_cast<const char*>(data), size), env);
  if (!r) return 0;
  const auto again = expand_env(escape_dollars(*r), env);
  if (!again || *again != *r) std::abort();
  return 0;
}
