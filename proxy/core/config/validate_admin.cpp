// admin: an enabled admin API needs its token and, for its key store, the
// SQLite file db_path or a storage.databases entry (admin.storage);
// admin.listen (a listener of its own) must not take
// server.listen's address.
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

}  // namespace

void validate_admin(const Config& c, Context& ctx) {
  if (!c.admin.enabled) return;
  if (c.admin.token.empty())
    ctx.error("admin.token", "a token is required when admin is enabled", !ctx.present("admin.token"));
  if (!c.admin.storage.empty())
    check_database_ref(c, "admin.storage", c.admin.storage, ctx);
  else if (c.admin.db_path.empty())
    ctx.error("admin.db_path", "the key store's SQLite file is required when admin is enabled (or name a "
              "storage.databases entry in admin.storage)",
              !ctx.present("admin.db_path"));
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
