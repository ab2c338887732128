// parse_duration never crashes; an accepted duration formats to text that
// parses back to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proxy/core/util/duration.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace llmproxy::util;
  const auto d = parse_duration(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!d) return 0;
  if (d->count() < 0) std::abort();
  const auto back = parse_duration(format_duration(*d));
  if (!back || *back != *d) std::abort();
  return 0;
}
