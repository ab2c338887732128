// key_in_value, extract_key and SkipPaths::matches never crash, and their
// answers keep the rules their headers state, for any bytes.
//
// Also client_address (forwarded_for.h) on the value as X-Forwarded-For.
//
// Input: byte 0 picks the mode (bit 0: the value is read as Authorization,
// i.e. Bearer; bit 1: the peer is a trusted proxy); the rest is split at the first NUL into a header value and a
// request path.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <algorithm>
#include <vector>

#include "proxy/core/auth/forwarded_for.h"
#include "proxy/core/auth/key_header.h"
#include "proxy/core/auth/skip_paths.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "auth header invariant violated: %s\n", what);
    std::abort();
  }
}

bool blank(char c) { return c == ' ' || c == '\t'; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

void check_key(std::string_view value, bool bearer) {
  const auto key = llmproxy::auth::key_in_value(value, bearer);
  if (!key) return;
  // A non-empty slice of the value, without surrounding blanks.
  check(!key->empty(), "empty key");
  check(key->data() >= value.data() && key->data() + key->size() <= value.data() + value.size(),
        "key outside the value");
  check(!blank(key->front()) && !blank(key->back()), "key has surrounding blanks");
  if (!bearer) return;
  for (char c : *key) check(!blank(c), "bearer key with a blank inside");
  std::size_t i = 0;
  while (blank(value[i])) ++i;
  const std::string_view scheme = value.substr(i, 6);
  check(scheme.size() == 6, "no scheme");
  for (std::size_t j = 0; j < 6; ++j) check(lower(scheme[j]) == "bearer"[j], "scheme is not bearer");
  check(blank(value[i + 6]), "no blank after the scheme");
}

void check_skip(std::string_view path) {
  const llmproxy::auth::SkipPaths skip({"/health", "/v1/models/", "/a/b"});
  if (!skip.matches(path)) return;
  check(path.find_first_of("%\\") == std::string_view::npos, "skipped a path with % or \\");
  check(path.find("/./") == std::string_view::npos && path.find("/../") == std::string_view::npos &&
            !path.ends_with("/.") && !path.ends_with("/.."),
        "skipped a dot segment");
  bool under = false;
  for (std::string_view e : {"/health", "/v1/models", "/a/b"})
    under = under || path == e || (path.starts_with(e) && path[e.size()] == '/');
  check(under, "skipped a path under no entry");
}

// client_address on the value as X-Forwarded-For: the answer is unknown,
// the peer, or an entry of the header; an untrusted peer is always itself.
void check_forwarded(std::string_view value, bool peer_trusted) {
  static const std::vector<llmproxy::util::Cidr> trusted = {*llmproxy::util::parse_cidr("10.0.0.0/8").value,
                                                            *llmproxy::util::parse_cidr("fd00::/8").value};
  const std::string_view peer = peer_trusted ? "10.0.0.1" : "203.0.113.5";
  const std::string_view lines[] = {value, value.substr(value.size() / 2)};
  const auto ip = llmproxy::auth::client_address(peer, lines, trusted);
  if (!peer_trusted) {
    check(ip && llmproxy::util::to_string(*ip) == peer, "an untrusted peer was not the client");
    return;
  }
  if (!ip) return;
  // Behind a trusted peer the client is one of the header's entries.
  bool named = false;
  for (std::string_view line : lines) {
    for (std::size_t start = 0; start <= line.size();) {
      const std::size_t comma = std::min(line.find(',', start), line.size());
      std::string_view entry = line.substr(start, comma - start);
      while (!entry.empty() && blank(entry.front())) entry.remove_prefix(1);
      while (!entry.empty() && blank(entry.back())) entry.remove_suffix(1);
      const auto parsed = llmproxy::util::parse_ip(entry);
      named = named || (parsed && *parsed.value == *ip);
      start = comma + 1;
    }
  }
  check(named, "the client is not named in the header");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool bearer = (data[0] & 1) != 0;
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t nul = input.find('\0');
  const std::string_view value = std::string_view(input).substr(0, nul);
  const std::string_view path = nul == std::string::npos ? std::string_view() : std::string_view(input).substr(nul + 1);
  check_key(value, bearer);
  const auto headers = llmproxy::auth::key_headers({"Authorization", "X-API-Key"});
  const auto key = llmproxy::auth::extract_key(headers, [&](std::string_view name) {
    return (name == "authorization") == bearer ? value : std::string_view();
  });
  if (key) check(*key == *llmproxy::auth::key_in_value(value, bearer), "extract_key disagrees");
  check_skip(path);
  check_forwarded(value, (data[0] & 2) != 0);
  return 0;
}
