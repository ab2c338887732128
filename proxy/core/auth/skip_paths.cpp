#include "proxy/core/auth/skip_paths.h"

namespace llmproxy::auth {
namespace {

// A "." or ".." segment, a percent escape or a backslash.
bool ambiguous(std::string_view path) {
  if (path.find_first_of("%\\") != std::string_view::npos) return true;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view seg = path.substr(start, end - start);
    if (seg == "." || seg == "..") return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

SkipPaths::SkipPaths(const std::vector<std::string>& entries) {
  for (std::string e : entries) {
    while (e.size() > 1 && e.back() == '/') e.pop_back();
    entries_.push_back(std::move(e));
  }
}

bool SkipPaths::matches(std::string_view path) const {
  if (entries_.empty() || ambiguous(path)) return false;
  for (const auto& e : entries_) {
    if (e == "/" && !path.empty() && path.front() == '/') return true;
    if (path.size() >= e.size() && path.compare(0, e.size(), e) == 0 &&
        (path.size() == e.size() || path[e.size()] == '/'))
      return true;
  }
  return false;
}

}  // namespace llmproxy::auth
