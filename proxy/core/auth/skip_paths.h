// auth.skip_paths (BEHAVIOR §7): paths served without an API key, matched
// by whole path segments.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llmproxy::auth {

class SkipPaths {
 public:
  SkipPaths() = default;
  // Entries as configured (each starts with '/'; check-config says so). A
  // trailing '/' is ignored ("/v1/models/" = "/v1/models"); "/" skips
  // every path.
  explicit SkipPaths(const std::vector<std::string>& entries);

  // True when `path` (no query) is an entry or lies under one:
  // "/health" skips "/health" and "/health/x", not "/healthz". A path a
  // server could read as another path is never skipped: one with a "." or
  // ".." segment, a '%' escape or a backslash ("/health/../v1/chat/…"
  // needs a key, whatever the backend makes of it).
  bool matches(std::string_view path) const;
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<std::string> entries_;
};

}  // namespace llmproxy::auth
