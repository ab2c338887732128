// Configuration of one fake backend: its behaviour profile and its faults.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "fake_backends/fault_spec.h"
#include "proxy/core/time.h"

namespace llmproxy::fake {

// How a healthy backend behaves.
struct Profile {
  Duration ttft = std::chrono::milliseconds(50);  // request admitted -> first token
  Duration itl = std::chrono::milliseconds(10);   // between tokens
  std::uint32_t output_tokens = 16;  // answer length (max_tokens may cut it)
  // Requests generating at once; beyond it they wait in a FIFO queue.
  // 0 = unlimited.
  std::uint32_t max_concurrency = 0;
  // Models served; "*" accepts any model name (and is not listed).
  std::vector<std::string> models{"fake-model"};
  std::uint32_t embedding_dim = 8;
  // Close a keep-alive connection idle this long (0 = never), as servers
  // such as uvicorn do; exercises the proxy pool's stale-connection handling.
  Duration idle_timeout{0};
};

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;

// The backend's own account of one inference answer (FakeConfig::on_answer):
// what it wrote, as opposed to what reached the peer. The simulator's usage
// invariant judges the gateway's records against it and the upstream tap,
// never against the gateway's own reading of the stream.
struct AnswerLog {
  std::string request_id;  // the request's X-Request-Id ("" when none)
  TimePoint received{};    // when the whole request had arrived
  bool stream = false;
  // Token events handed to the connection (streams; one that then failed
  // counts, since part of it may have arrived), or tokens in the body.
  std::uint32_t token_events = 0;
  // A usage object was handed to the connection: the stream's usage event
  // (include_usage), or a JSON body not cut by a fault. Whether it arrived
  // is the upstream tap's to say.
  bool usage_sent = false;
  std::uint32_t prompt_tokens = 0;
  std::uint32_t completion_tokens = 0;
};

struct FakeConfig {
  std::string name = "fake";  // sent as `x-fake-backend` on every response
  Profile profile;
  // Fault timeline: windows relative to the moment run() starts. Every
  // window active at a request's arrival applies (later ones win on
  // conflicts), then the request's `x-fake-fault` header.
  std::vector<FaultWindow> faults;
  bool allow_fault_header = true;
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  // Diagnostics (exceptions, accept errors). Null = standard error.
  std::function<void(std::string_view)> log;
  // Called for every complete request before it is handled (tests and the
  // simulator inspect what the proxy forwarded). Null = nothing.
  std::function<void(const HttpRequest&)> on_request;
  // Called when an inference request (chat, completions, embeddings) ends,
  // however it ends, with what was written for it. Null = nothing (nothing
  // is kept, so a long-running fake does not grow).
  std::function<void(const AnswerLog&)> on_answer;
};

}  // namespace llmproxy::fake
