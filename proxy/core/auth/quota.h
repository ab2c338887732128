// A key's token quota (BEHAVIOR §7): `total` tokens per period, `used` of
// them counted since `counted_since`. Pure; `now` is passed in.
//
// Periods are calendar periods in UTC, each starting at 00:00:00:
//   daily    every day;
//   weekly   every Monday (ISO 8601 weeks);
//   monthly  the 1st of every month;
//   never    one period for the key's whole life.
// `used` belongs to the period that contains `counted_since`; once `now` is
// in a later period it counts as 0 (the store resets the row itself on the
// next usage write: KeyStore::add_usage). So a reset needs no timer and is
// the same on every gateway instance.
//
// A request is refused while used_now + pending >= total (total > 0):
// the request that crosses the line is let through and charged what it
// used, so a key ends at most one request's tokens (per gateway instance,
// per request in flight) past its quota. `pending` is what this gateway
// has charged and not yet seen come back from the store.
#pragma once

#include <cstdint>
#include <optional>

#include "proxy/core/config/common.h"
#include "proxy/core/time.h"

namespace llmproxy::auth {

struct Quota {
  std::int64_t total = 0;  // tokens; 0 = unlimited
  std::int64_t used = 0;
  config::QuotaPeriod period = config::QuotaPeriod::never;
  WallTime counted_since{};  // the store's quota_reset_at, else the key's created_at

  bool limited() const { return total > 0; }
};

// The start of the period that contains `now`; nullopt for `never`.
std::optional<WallTime> period_start(config::QuotaPeriod period, WallTime now);

// Tokens of the current period: `used` when it was counted in the period
// that contains `now`, else 0.
std::int64_t used_now(const Quota& q, WallTime now);

// Refused: a limited quota with used_now + pending at or past total.
bool exhausted(const Quota& q, WallTime now, std::int64_t pending = 0);

}  // namespace llmproxy::auth
