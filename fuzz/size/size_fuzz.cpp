// parse_size never crashes; an accepted size printed in bytes parses back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proxy/core/util/size.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace llmproxy::util;
  const auto s = parse_size(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!s) return 0;
  const auto back = parse_size(std::to_string(*s));
  if (!back || *back != *s) std::abort();
  return 0;
}
