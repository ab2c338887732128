// The gateway's own endpoints that every worker has (BEHAVIOR §2):
//   GET /health  liveness: answers while the event loop runs, touches
//                nothing external
//   GET /ready   200 while some backend is routable and the worker is not
//                draining; else 503 (draining / no_backend_available)
// Registered by the Worker itself; modules register theirs (metrics.path,
// the admin API) through the composition root.
#pragma once

#include "proxy/shell/pipeline.h"

namespace llmproxy::shell {

class Worker;

class HealthEndpoint final : public EndpointHandler {
 public:
  EndpointResponse handle(const Exchange& ex, std::string& body) override;
};

class ReadyEndpoint final : public EndpointHandler {
 public:
  explicit ReadyEndpoint(const Worker& worker) : worker_(worker) {}
  EndpointResponse handle(const Exchange& ex, std::string& body) override;

 private:
  const Worker& worker_;
};

}  // namespace llmproxy::shell
