// The config loader never crashes or throws on any bytes, and whenever it
// accepts a config, printing is a fixpoint: print(load(print(c))) == print(c).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/core/config/load.h"
#include "proxy/core/config/print.h"

namespace {

std::optional<std::string> fuzz_env(std::string_view name) {
  if (name == "PORT") return std::string("8080");
  if (name == "EMPTY") return std::string();
  return std::nullopt;
}

// Relative script paths resolve here; nothing exists, so file scripts fail.
constexpr const char* kBaseDir = "/nonexistent-llmproxy-fuzz";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace llmproxy::config;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const EnvLookup env = fuzz_env;
  const LoadResult first = load_config_string(text, "fuzz.yaml", kBaseDir, env);
  if (!first.config) return 0;
  const std::string printed = print_config(*first.config, false);
  const LoadResult second = load_config_string(printed, "printed.yaml", kBaseDir, env);
  if (!second.config) {
    std::fprintf(stderr, "printed config does not load:\n%s\n", printed.c_str());
    for (const auto& d : second.diagnostics) std::fprintf(stderr, "%s\n", format_diagnostic(d).c_str());
    std::abort();
  }
  const std::string reprinted = print_config(*second.config, false);
  if (reprinted != printed || !(*second.config == *first.config)) {
    std::fprintf(stderr, "print is not a fixpoint:\n--- first\n%s\n--- second\n%s\n", printed.c_str(),
                 reprinted.c_str());
    std::abort();
  }
  return 0;
}
