// Durations in Go's time.ParseDuration syntax, the syntax the config documents
// use: "500ms", "30s", "1h30m", "1.5s", "0". Units: ns, us (also µs and μs),
// ms, s, m, h. Negative durations are rejected (every configured duration is a
// timeout, interval or wait), as is a bare number other than 0.
#pragma once

#include <string>
#include <string_view>

#include "proxy/core/time.h"
#include "proxy/core/util/parsed.h"

namespace llmproxy::util {

Parsed<Duration> parse_duration(std::string_view text);

// Go's Duration.String() with ASCII "us": "1h30m0s", "1.5s", "500ms", "0s".
// parse_duration(format_duration(d)) == d for every non-negative d.
std::string format_duration(Duration d);

}  // namespace llmproxy::util
