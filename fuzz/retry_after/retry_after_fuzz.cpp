// parse_retry_after never crashes, and whatever it accepts is a wait in
// [0, kMaxRetryAfter] — for a fixed "now", for a "now" taken from the input,
// and at both ends of the wall clock's range (overflow in the date arithmetic).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "proxy/core/routing/retry_policy.h"

namespace {

void check(std::string_view value, llmproxy::WallTime now) {
  const auto d = llmproxy::routing::parse_retry_after(value, now);
  if (!d) return;
  if (*d < llmproxy::Duration::zero() || *d > llmproxy::routing::kMaxRetryAfter) std::abort();
  if (llmproxy::routing::parse_retry_after(value, now) != d) std::abort();  // a pure function
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using llmproxy::Duration;
  using llmproxy::WallTime;
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  check(value, WallTime(std::chrono::seconds(784111777)));  // Sun, 06 Nov 1994 08:49:37 GMT
  check(value, WallTime::min());
  check(value, WallTime::max());
  check(value, WallTime{});
  // The last 8 bytes as "now", so the fuzzer explores that too.
  if (size >= 8) {
    std::int64_t ns = 0;
    std::memcpy(&ns, data + size - 8, sizeof ns);
    check(value, WallTime(Duration(ns)));
    check(value.substr(0, size - 8), WallTime(Duration(ns)));
  }
  return 0;
}
