// API keys are kept only as SHA-256 digests: the gateway's key tables, the
// identity the rate limits key on, and (later) the database hold the
// digest, never the key. A key is shown in logs and messages as a short
// prefix at most (key_prefix).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace llmproxy::auth {

using KeyHash = std::array<std::uint8_t, 32>;

// SHA-256 of the key's bytes (OpenSSL).
KeyHash hash_key(std::string_view key);

// Equality that reads every byte whatever the first difference (OpenSSL's
// CRYPTO_memcmp), so the time a lookup takes says nothing about how much of
// a stored digest a guess matched.
bool hashes_equal(const KeyHash& a, const KeyHash& b);

// Lower-case hex of the digest (64 characters).
std::string to_hex(const KeyHash& h);
// The digest back from 64 hex digits (either case); nullopt for anything else.
std::optional<KeyHash> from_hex(std::string_view hex);

// What a log line or a message may show of a key: its first
// min(8, size / 4) characters and "…" (a 51-character OpenAI-style key shows
// "sk-proj-…", a 12-character one 3 characters); "" for an empty key.
// Counted in bytes, but never cut inside a UTF-8 sequence (fewer bytes then).
std::string key_prefix(std::string_view key);

// For hash tables: the digest is uniform, its first 8 bytes are a hash.
struct KeyHashHasher {
  std::size_t operator()(const KeyHash& h) const noexcept {
    std::size_t v;
    std::memcpy(&v, h.data(), sizeof v);
    return v;
  }
};
struct KeyHashEqual {
  bool operator()(const KeyHash& a, const KeyHash& b) const noexcept { return hashes_equal(a, b); }
};

}  // namespace llmproxy::auth
