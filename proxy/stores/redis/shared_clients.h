// One worker's Redis clients: one per storage.caches entry, shared by every
// module of the worker that names the entry (the rate limiter, each redis
// auth provider), so a process keeps one pipelined connection per cache per
// worker whatever the number of modules on it. storage.caches pool_size
// caps that number (server.workers ≤ pool_size, checked by check-config and
// by serve), and min_idle_conns says how many of them open when the worker
// starts: worker i connects at once when i < min_idle_conns, the others at
// their first command (redis_client.h).
//
// Every module that got a client from get() calls its close() once; the
// connection closes at the last one (RedisClient::add_user).
// Built and used on the worker's executor, like the clients.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "proxy/stores/redis/redis_client.h"

namespace llmproxy::stores::redis {

class SharedClients {
 public:
  SharedClients(env::Env& env, unsigned worker_index) : env_(env), worker_(worker_index) {}

  // The client of `cache` (driver redis); null and ec (errc::bad_address)
  // when its addr cannot be used.
  std::shared_ptr<RedisClient> get(const config::CacheConfig& cache, error_code& ec) {
    for (auto& [name, client] : clients_) {
      if (name != cache.name) continue;
      client->add_user();
      return client;
    }
    auto cfg = ClientConfig::from(cache, ec);
    if (ec) return nullptr;
    auto client = std::make_shared<RedisClient>(env_, std::move(cfg));
    if (static_cast<long long>(worker_) < cache.min_idle_conns) client->connect_now();
    clients_.emplace_back(cache.name, client);
    return client;
  }

 private:
  env::Env& env_;
  unsigned worker_;
  std::vector<std::pair<std::string, std::shared_ptr<RedisClient>>> clients_;
};

}  // namespace llmproxy::stores::redis
