// parse_url/parse_host_port never crash; an accepted URL's canonical text
// parses back to the same URL.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proxy/core/util/url.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace llmproxy::util;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)parse_host_port(text);
  const auto u = parse_url(text);
  if (!u) return 0;
  const auto back = parse_url(u->to_string());
  if (!back || !(*back == *u)) std::abort();
  return 0;
}
