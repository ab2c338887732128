// The scenario-file loader of `llmproxy conform` takes files users write:
// whatever the bytes, it either returns a scenario or at least one
// "file:line: message" error, never crashes, and answers the same twice.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "conformance/scenario/scenario_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> errors;
  const auto first = llmproxy::conform::load_scenario_text(text, "fuzz.yaml", errors);
  if (!first && errors.empty()) std::abort();  // a refusal always says why
  std::vector<std::string> again;
  const auto second = llmproxy::conform::load_scenario_text(text, "fuzz.yaml", again);
  if (first.has_value() != second.has_value() || errors != again) std::abort();
  return 0;
}
