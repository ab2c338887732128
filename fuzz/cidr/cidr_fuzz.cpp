// parse_cidr/parse_ip never crash; an accepted block prints to text that
// parses back to the same block, and it contains its own network address.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "proxy/core/util/cidr.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace llmproxy::util;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto ip = parse_ip(text)) {
    const auto back = parse_ip(to_string(*ip));
    if (!back || !(*back == *ip)) std::abort();
  }
  const auto c = parse_cidr(text);
  if (!c) return 0;
  const auto back = parse_cidr(to_string(*c));
  if (!back || !(*back == *c)) std::abort();
  if (!c->contains(c->network)) std::abort();
  return 0;
}
