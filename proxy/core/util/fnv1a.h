// FNV-1a, 64 bit: a tiny, stable, non-cryptographic hash for seeds derived
// from names (the simulator's per-component sub-seeds), event-log digests and
// fuzz-input-derived choices. Its values are part of the simulator's replay
// contract: changing the constants changes every recorded run.
#pragma once

#include <cstdint>
#include <string_view>

namespace llmproxy::util {

inline constexpr std::uint64_t kFnv1aOffset = 0xcbf29ce484222325ULL;

// Continues hash `h` over `bytes` (start with kFnv1aOffset).
constexpr std::uint64_t fnv1a(std::string_view bytes, std::uint64_t h = kFnv1aOffset) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace llmproxy::util
