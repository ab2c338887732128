// Fuzz target http_request. The input is split at '\n' into fields: method,
// path, metrics path, header name, Connection value, X-Request-Id,
// X-Forwarded-For, peer address (missing fields are empty). Every rule must
// run without crashing and keep its invariants.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proxy/core/http/request_rules.h"

namespace {

namespace h = llmproxy::http;

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::array<std::string_view, 8> f{};
  for (auto& field : f) {
    const std::size_t nl = rest.find('\n');
    field = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  }
  const auto [method, path, metrics, name, connection, request_id, xff, peer] = f;

  const h::RouteMatch m = h::classify(method, path, metrics);
  check(h::route_name(m.route) != nullptr);
  if (!m.method_allowed) check(!m.allow.empty());
  if (h::needs_json_body(m.route)) check(m.route != h::Route::not_found);
  // A path that is not absolute never matches a route (metrics.path is
  // validated as absolute by the config layer).
  const bool metrics_absolute = metrics.empty() || metrics[0] == '/';
  if (metrics_absolute && (path.empty() || path[0] != '/')) check(m.route == h::Route::not_found);

  const bool hop = h::is_hop_by_hop(name, connection);
  if (name.empty()) check(!hop);
  check(h::is_hop_by_hop("Transfer-Encoding", connection));

  if (h::valid_request_id(request_id)) {
    check(!request_id.empty() && request_id.size() <= 128);
    for (unsigned char c : request_id) check(c > 0x20 && c < 0x7f);
  }
  llmproxy::Rng rng(size);
  check(h::valid_request_id(h::generate_request_id(rng)));

  std::string out;
  h::append_forwarded_for(out, xff, peer);
  check(out.ends_with(peer));
  for (unsigned char c : out.substr(0, out.size() - peer.size()))
    check(c >= 0x20 || c == '\t');
  return 0;
}
