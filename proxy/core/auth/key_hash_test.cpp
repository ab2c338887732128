#include "proxy/core/auth/key_hash.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

using namespace llmproxy::auth;

TEST(KeyHash, Sha256) {
  // FIPS 180-2 test vector.
  EXPECT_EQ(to_hex(hash_key("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(hash_key("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(KeyHash, Equality) {
  EXPECT_TRUE(hashes_equal(hash_key("sk-1"), hash_key("sk-1")));
  EXPECT_FALSE(hashes_equal(hash_key("sk-1"), hash_key("sk-2")));
  KeyHash a = hash_key("x"), b = a;
  b[31] ^= 1;  // differs only in the last byte
  EXPECT_FALSE(hashes_equal(a, b));
}

TEST(KeyHash, PrefixShowsAQuarterAtMostEight) {
  EXPECT_EQ(key_prefix(""), "");
  EXPECT_EQ(key_prefix("abc"), "\u2026");
  EXPECT_EQ(key_prefix("sk-test-key1"), "sk-\u2026");
  EXPECT_EQ(key_prefix("sk-proj-0123456789abcdef0123456789abcdef0123456789ab"), "sk-proj-\u2026");
}

TEST(KeyHash, PrefixNeverCutsAUtf8Character) {
  // 9 bytes: a quarter is 2, which would split the first "é" (found by
  // fuzz/admin_request: the admin answer was not valid JSON).
  EXPECT_EQ(key_prefix("a\u00e9\u00e9\u00e9\u00e9"), "a\u2026");
  EXPECT_EQ(key_prefix("\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"), "\u00e9\u00e9\u2026");  // 16 bytes: 4, whole
  EXPECT_EQ(key_prefix("\U0001F600\U0001F600\U0001F600"), "\u2026");  // 12 bytes: 3 would cut the first one
}

TEST(KeyHash, HexRoundTripsAndRefusesWhatIsNotADigest) {
  const auto h = hash_key("sk-test");
  EXPECT_EQ(from_hex(to_hex(h)), h);
  std::string upper = to_hex(h);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(from_hex(upper), h);
  EXPECT_EQ(from_hex(to_hex(h).substr(1)), std::nullopt);
  EXPECT_EQ(from_hex(to_hex(h) + "0"), std::nullopt);
  EXPECT_EQ(from_hex(std::string(64, 'g')), std::nullopt);
  EXPECT_EQ(from_hex(""), std::nullopt);
}
