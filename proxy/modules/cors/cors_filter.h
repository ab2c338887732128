// The CORS module (server.cors, BEHAVIOR §13): the rules are pure
// (proxy/core/http/cors.h); this filter runs them at the pipeline's cors
// phase, before the method check and the body, for every /v1 request:
//   - an allowed preflight is answered by the gateway: 204 with the
//     Access-Control-Allow-* lines; a refused one is a 403
//     cors_preflight_refused without CORS headers (the browser blocks it);
//   - an actual request from an allowed origin gets Allow-Origin,
//     Expose-Headers, Vary (as cors.h decides) on every response of the
//     request: relayed answers, streams and the gateway's own errors alike,
//     and the backend's own Access-Control-* headers are dropped;
//   - a request from an origin that is not allowed is served without CORS
//     headers (the browser then hides the answer from the page).
#pragma once

#include <memory>

#include "proxy/core/http/cors.h"
#include "proxy/shell/pipeline.h"

namespace llmproxy::modules::cors {

class CorsFilter final : public shell::Filter {
 public:
  explicit CorsFilter(std::shared_ptr<const http::CorsPolicy> policy) : policy_(std::move(policy)) {}
  shell::FilterPhase phase() const override { return shell::FilterPhase::cors; }
  env::Task<shell::FilterVerdict> on_request(shell::Exchange& ex) override;

 private:
  std::shared_ptr<const http::CorsPolicy> policy_;
};

}  // namespace llmproxy::modules::cors
