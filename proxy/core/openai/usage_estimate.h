// The documented usage estimate for a stream whose usage never reached the
// gateway (docs/rate-limits.md "Tokens", docs/simulator.md "usage").
//
// An OpenAI-compatible server streams one SSE event per generated token
// (vLLM, TGI, SGLang and llama.cpp do), so the events that carried output
// count the completion tokens, and the prompt is estimated as the limiter
// already estimates it for its reservation. Exactly:
//
//   output event  — a dispatched SSE event whose data payload is a valid JSON
//                   object (read lax, as every upstream body) with a `choices`
//                   array of which at least one element has
//                     * a `delta` object with a non-empty string `content`,
//                       `reasoning_content` or `reasoning`, or a non-empty
//                       array `tool_calls` (chat), or
//                     * a non-empty string `text` (legacy completions).
//                   One event counts once, however many choices it carries.
//                   The role-only first chunk (`"content":""`), the final
//                   chunk (`"delta":{}`), the usage chunk and [DONE] do not.
//                   Only events the gateway received count: a partial event
//                   at the cut does not, nor anything after a malformed
//                   event (the relay reads no further).
//   estimate      — completion_tokens = output events,
//                   prompt_tokens     = ratelimit::prompt_token_estimate(prompt_bytes)
//                                       = ceil(prompt_bytes / 4), where
//                                       prompt_bytes is the raw JSON text of the
//                                       request's `messages`, `prompt` or `input`,
//                   total_tokens      = their sum; present = true.
//
// Applies to an event-stream response (status < 300) whose events carried no
// `usage` object — whether the stream was cut (reset, stall, malformed event,
// client gone, budget) or the backend ended it without usage. Usage the
// backend did report is always kept as reported. A non-stream response whose
// body did not complete has no estimate: its usage stays unknown and the
// limiter keeps the reservation (a non-streaming backend generated the whole
// answer before sending any of it, so the reservation bounds it better than
// the bytes that happened to arrive).
#pragma once

#include <cstdint>

#include "proxy/core/openai/json_scan.h"
#include "proxy/core/openai/usage.h"

namespace llmproxy::openai {

// True when a chunk's `choices` value (any JSON value, validated) has an
// element that carries output as defined above. No allocation.
bool choices_carry_output(const json::Value& choices);

// The estimate from the output events received and the prompt estimate.
// Negative inputs count as 0.
Usage estimate_stream_usage(std::uint64_t output_events, std::int64_t prompt_tokens_estimate);

}  // namespace llmproxy::openai
