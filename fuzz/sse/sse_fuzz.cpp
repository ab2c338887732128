// Fuzz target sse. The input is an upstream SSE body as is (corpus files are
// readable streams). Each mode (pass-through, strip) runs three ways: whole,
// one byte at a time, and cut at points drawn from a generator seeded by a
// hash of the input. Any difference in forwarded bytes, [DONE], usage, event
// counts, malformed or ended_mid_event aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proxy/core/openai/sse_relay.h"
#include "proxy/core/random.h"
#include "proxy/core/util/fnv1a.h"

namespace {

namespace oa = llmproxy::openai;

void check(bool ok) {
  if (!ok) std::abort();
}

struct Result {
  std::string out;
  bool done, malformed, mid_event;
  oa::Usage usage;
  std::uint64_t events, stripped;

  bool operator==(const Result&) const = default;
};

template <class NextCut>
Result run(std::string_view input, bool strip, std::size_t max_event, NextCut next_cut) {
  oa::SseRelayFilter f(strip, max_event);
  oa::StringSink sink;
  std::size_t pos = 0;
  while (pos < input.size()) {
    const std::size_t len = next_cut(input.size() - pos);
    f.feed(input.substr(pos, len), sink);
    pos += len;
  }
  f.finish(sink);
  check(f.held_bytes() == 0);
  return {sink.out, f.saw_done(), f.malformed(), f.ended_mid_event(),
          f.usage(), f.events(), f.stripped_events()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Sometimes a small event limit, so the oversize paths are split-tested too.
  const std::uint64_t h = llmproxy::util::fnv1a(input);
  const std::size_t max_event = h % 4 == 0 ? 16 + h / 4 % 512 : std::size_t{1} << 16;
  for (const bool strip : {false, true}) {
    const Result whole = run(input, strip, max_event, [](std::size_t rest) { return rest; });
    const Result bytes = run(input, strip, max_event, [](std::size_t) { return std::size_t{1}; });
    llmproxy::Rng rng(h + strip);
    const Result cuts = run(input, strip, max_event, [&](std::size_t rest) {
      return std::size_t{1} + static_cast<std::size_t>(rng.below(rest < 64 ? rest : 64));
    });
    check(whole == bytes);
    check(whole == cuts);
    check(whole.out.size() <= input.size());
    if (!strip) {
      // Pass-through: exact, or an exact prefix when the stream turned bad.
      check(whole.malformed ? input.substr(0, whole.out.size()) == whole.out : whole.out == input);
    } else if (whole.stripped == 0 && !whole.malformed) {
      check(whole.out == input);
    }
  }
  return 0;
}
