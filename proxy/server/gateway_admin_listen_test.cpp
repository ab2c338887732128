// Where the composition root puts the admin API's endpoints: the main
// listener's table without admin.listen, the admin listener's alone with
// it, and across a reload (admin.listen is restart-only) never onto the
// main listener once the config says the API is off it.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <string>

#include "proxy/core/config/load.h"
#include "proxy/core/config/test_env.h"
#include "proxy/env/real/real_env.h"
#include "proxy/server/gateway.h"

namespace {

using namespace llmproxy;
using Endpoints = std::vector<std::pair<std::string, std::shared_ptr<shell::EndpointHandler>>>;

std::shared_ptr<const server::Gateway> gateway(const std::string& admin_listen) {
  const std::string yaml = "server: {listen: \"127.0.0.1:8000\"}\n"
                           "backends:\n  - url: http://127.0.0.1:9001\n"
                           "admin: {enabled: true, token: t, listen: \"" + admin_listen + "\"}\n";
  const auto loaded = config::load_config_string(yaml, "test.yaml", "", config::testing::fake_env());
  EXPECT_TRUE(loaded.ok());
  if (!loaded.ok()) return nullptr;
  std::string error;
  server::BuildOptions o;
  o.simulated = true;  // the key store in memory
  auto g = server::Gateway::build(*loaded.config, error, o);
  EXPECT_TRUE(g) << error;
  return g;
}

bool has(const Endpoints& e, std::string_view path) {
  return std::any_of(e.begin(), e.end(), [&](const auto& p) { return p.first == path; });
}

struct Placement {
  bool main = false;
  bool admin = false;
};

Placement placed(const server::Gateway& g, const std::shared_ptr<server::Gateway::Process>& p) {
  boost::asio::io_context io;
  env::RealEnv env(io, 1);
  const auto o = g.worker_options(p, env, 0);
  return {has(o.endpoints, "/admin/keys/list"), has(o.admin_endpoints, "/admin/keys/list")};
}

TEST(GatewayAdminListen, WithoutItTheApiIsOnTheMainListener) {
  const auto g = gateway("");
  ASSERT_TRUE(g);
  EXPECT_FALSE(g->wants_admin_listener());
  const auto p = g->start_process();
  EXPECT_FALSE(p->admin_listener);
  const auto at = placed(*g, p);
  EXPECT_TRUE(at.main);
  EXPECT_FALSE(at.admin);
}

TEST(GatewayAdminListen, WithItTheApiIsOnTheAdminListenerOnly) {
  const auto g = gateway("127.0.0.1:9090");
  ASSERT_TRUE(g);
  EXPECT_TRUE(g->wants_admin_listener());
  const auto p = g->start_process();
  EXPECT_TRUE(p->admin_listener);
  const auto at = placed(*g, p);
  EXPECT_FALSE(at.main);
  EXPECT_TRUE(at.admin);
}

TEST(GatewayAdminListen, AReloadKeepsTheListenersOfTheProcess) {
  const auto with = gateway("127.0.0.1:9090");
  const auto without = gateway("");
  ASSERT_TRUE(with && without);
  const std::vector<std::string> changed{"admin.listen"};
  EXPECT_EQ(server::Gateway::restart_only_changes(changed), changed);

  // Started with the admin listener, reloaded without admin.listen: the API
  // stays on the admin listener until the restart.
  const auto started_with = with->start_process();
  const auto kept = without->reload_process(*with, *started_with, changed);
  EXPECT_TRUE(kept->admin_listener);
  auto at = placed(*without, kept);
  EXPECT_FALSE(at.main);
  EXPECT_TRUE(at.admin);

  // Started without, reloaded with admin.listen: off the main listener at
  // once, and nowhere else until the restart opens the admin listener.
  const auto started_without = without->start_process();
  const auto moved = with->reload_process(*without, *started_without, changed);
  EXPECT_FALSE(moved->admin_listener);
  at = placed(*with, moved);
  EXPECT_FALSE(at.main);
  EXPECT_FALSE(at.admin);
}

}  // namespace
