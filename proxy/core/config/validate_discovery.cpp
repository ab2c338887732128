// discovery: each source's type and the fields its type requires.
#include "proxy/core/config/validate.h"
#include "proxy/core/util/url.h"

namespace llmproxy::config::detail {
namespace {

void check_static_backends(StaticSource& s, const std::string& p, Context& ctx) {
  for (std::size_t j = 0; j < s.backends.size(); ++j) {
    auto& b = s.backends[j];
    const std::string bp = idx(p + ".static.backends", j);
    if (b.url.empty()) {
      if (!ctx.failed(bp + ".url")) ctx.error(bp, "url is required", true);
    } else if (auto u = util::parse_url(b.url)) {
      b.parsed_url = *u;
    }
  }
}

void check_source(const Config& c, DiscoverySource& s, const std::string& p, Context& ctx) {
  switch (s.type) {
    case SourceType::unset:
      ctx.error(p + ".type", "type is required (static, database, consul, kubernetes, etcd or http)",
                !ctx.present(p + ".type"));
      break;
    case SourceType::database:
      check_database_ref(c, p + ".database.storage", s.database.storage, ctx);
      break;
    case SourceType::static_list:
      check_static_backends(s.static_list, p, ctx);
      break;
    case SourceType::consul:
      if (s.enabled) check_required(s.consul.service, p + ".consul.service", "service", ctx);
      break;
    case SourceType::kubernetes:
      if (s.enabled) check_required(s.kubernetes.service, p + ".kubernetes.service", "service", ctx);
      break;
    case SourceType::etcd:
      if (s.enabled && s.etcd.endpoints.empty()) ctx.error(p + ".etcd.endpoints", "at least one endpoint is required");
      break;
    case SourceType::http:
      if (s.enabled) check_required(s.http.url, p + ".http.url", "url", ctx);
      break;
  }
}

}  // namespace

void validate_discovery(Config& c, Context& ctx) {
  check_unique_names(c.discovery.sources, "discovery.sources", ctx, false);
  for (std::size_t i = 0; i < c.discovery.sources.size(); ++i)
    check_source(c, c.discovery.sources[i], idx("discovery.sources", i), ctx);
}

}  // namespace llmproxy::config::detail
