// Points in time as a config or a key store writes them (expires_at,
// starts_at): RFC 3339 or unix seconds. One parser, so check-config accepts
// exactly what the gateway can enforce.
#pragma once

#include <string_view>

#include "proxy/core/time.h"
#include "proxy/core/util/parsed.h"

namespace llmproxy::util {

// Accepted, and nothing else:
//   unix seconds   1 to 12 ASCII digits ("1767225600"), UTC by definition;
//   RFC 3339       YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM), with `t` or a
//                  space for `T` and `z` for `Z` (RFC 3339 §5.6 allows them).
//                  Fields are range-checked against the calendar (month
//                  1-12, the month's days with leap years, hour 0-23, minute
//                  and second 0-59: a leap second "60" is refused, as Go's
//                  time.Parse refuses it); offset hours 0-23, minutes 0-59.
//                  Fraction digits beyond nanoseconds are truncated.
// The result is the instant on the wall clock (unix nanoseconds). Those
// span 1677-09-21 to 2262-04-11: an instant past either end is read as that
// end (WallTime::max() / min()), so an expiry in the year 3000 never comes.
Parsed<WallTime> parse_timestamp(std::string_view text);

}  // namespace llmproxy::util
