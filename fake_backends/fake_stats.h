// Counters a fake backend keeps for tests and the simulator's invariants.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "fake_backends/openai_request.h"

namespace llmproxy::fake {

struct FakeStats {
  // Complete requests received, by endpoint (Endpoint::unknown = any other
  // path), whatever their outcome.
  std::array<std::uint64_t, kEndpointCount> requests_by_endpoint{};
  std::uint64_t requests_total = 0;

  // Inference requests (chat, completions, embeddings) between arrival and
  // the end of their response, including queued and hanging ones.
  std::uint64_t in_flight = 0;
  std::uint64_t max_in_flight = 0;
  // Requests holding a generation slot (see Profile::max_concurrency).
  std::uint64_t active = 0;
  std::uint64_t max_active = 0;
  // Requests waiting for a slot.
  std::uint64_t queued = 0;
  std::uint64_t max_queued = 0;

  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_open = 0;
  // The peer closed or reset the connection while a response was pending
  // (queued, generating, hanging or being written): a client cancel.
  std::uint64_t client_cancels = 0;
  // Content tokens written to clients (stream events or non-stream bodies).
  std::uint64_t tokens_sent = 0;
  // Inference responses written completely with status 200.
  std::uint64_t completed = 0;
  // Requests on which at least one fault acted (status, reset, hang, stall,
  // malformed, no_done, slow_headers, health).
  std::uint64_t faults_injected = 0;
  // Connections reset on purpose (reset_before_headers, reset_after).
  std::uint64_t resets_sent = 0;
  // Exceptions caught in connection coroutines (should stay 0).
  std::uint64_t internal_errors = 0;

  std::uint64_t requests(Endpoint e) const {
    return requests_by_endpoint[static_cast<std::size_t>(e)];
  }
  // By request path, e.g. requests("/v1/chat/completions").
  std::uint64_t requests(std::string_view path) const { return requests(classify_target(path)); }
};

}  // namespace llmproxy::fake
