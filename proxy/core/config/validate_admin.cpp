// admin: an enabled admin API needs its token and, for its key store, the
// SQLite file db_path or a storage.databases entry (admin.storage); so do
// static keys with a quota in force, whose usage is counted in the same
// database, admin enabled or not. admin.listen (a listener of its own)
// must not take server.listen's address.
#include <algorithm>

#include "proxy/core/config/validate.h"
#include "proxy/core/util/url.h"

namespace llmproxy::config::detail {
namespace {

bool all_interfaces(const std::string& host) { return host.empty() || host == "0.0.0.0" || host == "::"; }

// Both addresses would bind the same port on some interface: the second
// listener could not start (or, with SO_REUSEPORT, would share the first's
// connections). Names are not resolved: a clash between a name and an
// address is reported by serve when it cannot listen.
bool same_socket(const util::HostPort& a, const util::HostPort& b) {
  return a.port == b.port && (a.host == b.host || all_interfaces(a.host) || all_interfaces(b.host));
}

bool has_quota(const std::vector<StaticKey>& keys) {
  return std::any_of(keys.begin(), keys.end(), [](const StaticKey& k) { return k.total_quota > 0; });
}

// A static key with a quota is in force (as auth::Authenticator builds
// them): its usage needs the admin key store's database.
bool static_quotas_in_force(const Config& c) {
  if (has_quota(c.api_keys)) return true;
  if (!c.auth.enabled) return false;
  return std::any_of(c.auth.pipeline.begin(), c.auth.pipeline.end(), [](const AuthProvider& p) {
    return p.enabled && p.type == ProviderType::static_keys && has_quota(p.static_keys.keys);
  });
}

}  // namespace

void validate_admin(const Config& c, Context& ctx) {
  if (!c.admin.enabled && !static_quotas_in_force(c)) return;
  const char* who = c.admin.enabled ? "admin is enabled" : "static keys have quotas (their usage is kept there)";
  if (c.admin.enabled && c.admin.token.empty())
    ctx.error("admin.token", "a token is required when admin is enabled", !ctx.present("admin.token"));
  if (!c.admin.storage.empty())
    check_database_ref(c, "admin.storage", c.admin.storage, ctx);
  else if (c.admin.db_path.empty())
    ctx.error("admin.db_path", "the key store's SQLite file is required when " + std::string(who) +
                                   " (or name a storage.databases entry in admin.storage)",
              !ctx.present("admin.db_path"));
  if (!c.admin.enabled) return;
  if (c.admin.listen.empty()) return;
  // A malformed address was reported by the reader (check::listen_address).
  const auto admin = util::parse_host_port(c.admin.listen);
  const auto main = util::parse_host_port(c.server.listen);
  if (admin && main && same_socket(*admin, *main))
    ctx.error("admin.listen",
              "\"" + c.admin.listen + "\" is server.listen's address (\"" + c.server.listen +
                  "\"); the admin API needs a port of its own, or leave admin.listen empty to "
                  "serve it under /admin/ on the main listener");
}

}  // namespace llmproxy::config::detail
