// Rate limits (BEHAVIOR §6) as a pipeline filter: one store round trip per
// request (admit), the verdict's x-ratelimit-* headers on every response of
// the request, and the concurrency slot always given back at the end with
// the request's actual tokens (finish). The key is the API key the client
// presented (Authorization: Bearer …, else x-api-key; "" = anonymous), or,
// when the auth filter ran (Exchange::caller.checked), the authenticated
// key's identity: then a header nobody verified never names a limit's key,
// and a path auth skips counts as anonymous.
#pragma once

#include <memory>

#include "proxy/shell/pipeline.h"
#include "proxy/stores/limiter_store.h"

namespace llmproxy::shell {

class RateLimitFilter final : public Filter {
 public:
  explicit RateLimitFilter(std::shared_ptr<stores::LimiterStore> store) : store_(std::move(store)) {}

  FilterPhase phase() const override { return FilterPhase::rate_limit; }
  env::Task<FilterVerdict> on_request(Exchange& ex) override;
  env::Task<void> on_end(Exchange& ex) override;

 private:
  // Nothing per request is kept here (requests of a worker interleave):
  // on_end recomputes the key and the reservation from the exchange.
  std::shared_ptr<stores::LimiterStore> store_;
};

}  // namespace llmproxy::shell
