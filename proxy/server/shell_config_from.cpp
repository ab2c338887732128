#include "proxy/server/shell_config_from.h"

#include <charconv>

#include "proxy/core/auth/authenticator.h"

namespace llmproxy::server {

bool split_listen(const std::string& listen, std::string& host, std::uint16_t& port) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned value = 0;
  const char* first = listen.data() + colon + 1;
  const char* last = listen.data() + listen.size();
  auto r = std::from_chars(first, last, value);
  if (r.ec != std::errc() || r.ptr != last || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

namespace {

// auth.header_names other than Authorization and X-Api-Key (the shell drops
// those always), when auth reads them.
std::vector<std::string> key_headers_beyond_defaults(const config::Config& cfg) {
  std::vector<std::string> out;
  if (!auth::auth_required(cfg)) return out;
  for (const auto& h : auth::key_headers(cfg.auth.header_names))
    if (h.name != "authorization" && h.name != "x-api-key") out.push_back(h.name);
  return out;
}

}  // namespace

std::shared_ptr<const shell::ShellConfig> shell_config_from(const config::Config& cfg) {
  auto out = std::make_shared<shell::ShellConfig>();
  split_listen(cfg.server.listen, out->listen_host, out->listen_port);
  out->read_timeout = cfg.server.read_timeout;
  out->idle_timeout = cfg.server.idle_timeout;
  // write_timeout bounds one write to a slow client; streams write often, so
  // it is a per-write bound, not a whole-response one.
  out->write_timeout = cfg.server.write_timeout;
  out->max_header_bytes = cfg.server.max_header_bytes.bytes;
  out->max_body_size = cfg.server.max_body_size.bytes;
  out->max_connections = static_cast<std::size_t>(cfg.server.max_connections);
  out->buffer_memory_budget = cfg.server.buffer_memory_budget.bytes;
  out->drain_timeout = cfg.server.drain_timeout;
  out->metrics_path = cfg.metrics.path;

  const auto& r = cfg.routing;
  for (const auto& b : cfg.backends) {
    shell::BackendTarget t;
    const auto& u = b.parsed_url;
    t.name = b.name.empty() ? u.to_string() : b.name;
    t.host = u.host;
    t.port = u.port;
    // Every proxied path starts with /v1, so a base URL that already ends in
    // /v1 (the OpenAI SDK's convention) must not repeat it.
    t.base_path = u.base_path;
    if (t.base_path.size() >= 3 && t.base_path.compare(t.base_path.size() - 3, 3, "/v1") == 0)
      t.base_path.resize(t.base_path.size() - 3);
    t.host_header = u.authority();
    t.headers = b.headers.entries;
    t.weight = b.weight;
    t.timeout = b.timeout.count() > 0 ? b.timeout : r.timeout;
    t.connect_timeout = b.connect_timeout.count() > 0 ? b.connect_timeout : r.connect_timeout;
    t.first_byte_timeout =
        b.first_byte_timeout.count() > 0 ? b.first_byte_timeout : r.first_byte_timeout;
    t.stream_idle_timeout =
        b.stream_idle_timeout.count() > 0 ? b.stream_idle_timeout : r.stream_idle_timeout;
    t.max_idle_conns = static_cast<std::size_t>(b.max_idle_conns);
    t.forward_api_key = b.forward_api_key;
    t.key_headers = key_headers_beyond_defaults(cfg);
    t.url = b.url;
    t.models = b.models;
    out->backends.push_back(std::move(t));
  }

  // Routing (BEHAVIOR §4). `routing.enabled: false` keeps plain round robin
  // with one attempt per request.
  auto& rs = out->routing;
  if (r.enabled) {
    rs.strategy = routing::strategy_from(r.load_balance);
    rs.retry = routing::RetryPolicy::from(r.retry);
    std::vector<std::string> names, urls;
    for (const auto& t : out->backends) {
      names.push_back(t.name);
      urls.push_back(t.url);
    }
    rs.fallback = routing::FallbackChains(r.fallback, names, urls);
    rs.circuit_breaker = r.circuit_breaker;
    rs.request_timeout = r.request_timeout;
  }

  // Active health checks (BEHAVIOR §5).
  const auto& hc = cfg.health_check;
  auto& hs = out->health;
  hs.enabled = hc.enabled;
  hs.interval = hc.interval;
  hs.timeout = hc.timeout;
  hs.method = hc.method;
  hs.path = hc.path;
  hs.expected_status = hc.expected_status;
  hs.unhealthy_threshold = hc.unhealthy_threshold;
  hs.healthy_threshold = hc.healthy_threshold;
  return out;
}

}  // namespace llmproxy::server
