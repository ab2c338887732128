#include "proxy/core/auth/key_hash.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>

namespace llmproxy::auth {

KeyHash hash_key(std::string_view key) {
  KeyHash h;
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), h.data());
  return h;
}

bool hashes_equal(const KeyHash& a, const KeyHash& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string to_hex(const KeyHash& h) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(h.size() * 2, '0');
  for (std::size_t i = 0; i < h.size(); ++i) {
    out[2 * i] = kDigits[h[i] >> 4];
    out[2 * i + 1] = kDigits[h[i] & 15];
  }
  return out;
}

std::string key_prefix(std::string_view key) {
  if (key.empty()) return {};
  std::string out(key.substr(0, std::min<std::size_t>(8, key.size() / 4)));
  out += "\u2026";
  return out;
}

}  // namespace llmproxy::auth
