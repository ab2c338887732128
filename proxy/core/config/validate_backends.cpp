// backends: every backend has a URL (parsed once here for the others), and
// there is at least one unless discovery may find them; a backend's
// `headers` may not set what the gateway writes itself or what frames the
// message.
#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

#include "proxy/core/config/validate.h"
#include "proxy/core/util/url.h"

namespace llmproxy::config::detail {
namespace {

// The gateway writes these on every upstream request (Host from the url,
// Content-Length from the body, the forwarding headers), or they frame or
// steer the connection (hop-by-hop, RFC 9110 §7.6.1): a second copy from
// `headers` would make the request ambiguous to the upstream (two
// Content-Lengths, a Transfer-Encoding next to one) or say something the
// gateway does not do.
constexpr std::array<std::string_view, 14> kGatewayHeaders = {
    "host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection", "te",
    "trailer", "upgrade", "expect", "x-forwarded-for", "x-forwarded-proto", "x-request-id", "proxy-authorization"};

bool is_gateway_header(std::string_view name) {
  return std::any_of(kGatewayHeaders.begin(), kGatewayHeaders.end(), [&](std::string_view g) {
    return g.size() == name.size() && std::equal(g.begin(), g.end(), name.begin(), [](char a, char b) {
             return a == std::tolower(static_cast<unsigned char>(b));
           });
  });
}

}  // namespace

void validate_backends(Config& c, Context& ctx) {
  check_unique_names(c.backends, "backends", ctx, false);
  for (std::size_t i = 0; i < c.backends.size(); ++i) {
    auto& b = c.backends[i];
    if (b.url.empty()) {
      if (!ctx.failed(idx("backends", i) + ".url")) ctx.error(idx("backends", i), "url is required", true);
      continue;
    }
    if (auto u = util::parse_url(b.url)) b.parsed_url = *u;
    for (const auto& [name, value] : b.headers.entries)
      if (is_gateway_header(name))
        ctx.error(idx("backends", i) + ".headers." + name,
                  "the gateway sets " + name + " itself (or it frames the message); it cannot come from headers",
                  true);
  }
  if (c.backends.empty() && !c.discovery.enabled)
    ctx.error("backends", "at least one backend is required (or enable discovery)", true);
}

}  // namespace llmproxy::config::detail
