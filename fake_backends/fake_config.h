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
};

}  // namespace llmproxy::fake
