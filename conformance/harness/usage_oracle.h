// The usage a record must carry, computed by the harness from outside: from
// the bytes the gateway received upstream (the tap) and the body the client
// sent, with Boost.JSON, never with the gateway's own scanner or record.
// It restates the rule of proxy/core/openai/usage_estimate.h independently.
#pragma once

#include <cstdint>
#include <string_view>

namespace llmproxy::harness {

struct ExpectedUsage {
  std::int64_t prompt = -1;      // -1: unknown (no record of usage expected)
  std::int64_t completion = -1;
  bool estimated = false;
};

// For an event stream (status < 300) the gateway relayed: the usage of the
// last event before the first malformed one that carried a `usage` object,
// else the estimate (completion = events with output, prompt =
// ceil(prompt_bytes / 4)). Only whole events (ended by a blank line) count.
ExpectedUsage expected_stream_usage(std::string_view upstream_body, std::string_view client_body);

// ceil(bytes / 4) of the raw JSON text of `messages`, `prompt` or `input`
// (the last present) of a request body; 0 when none.
std::int64_t prompt_estimate_of(std::string_view client_body);

}  // namespace llmproxy::harness
