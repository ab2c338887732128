// One HTTP/1.1 exchange with a service the gateway asks something (the
// webhook auth provider; BEHAVIOR §7): connect, send one request with
// `Connection: close`, read one response, close. No pooling: a caller that
// asks often caches the answers instead (the auth filter's KeyCache).
//
// The service is not trusted: the response head and body are bounded
// (Limits), a malformed response is an error, and the whole call —
// resolving, connecting, writing and reading — ends by `deadline` on the
// environment's clock (virtual in the simulator). Only http:// (the
// gateway has no TLS client yet).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/core/util/url.h"
#include "proxy/env/env.h"

namespace llmproxy::shell {

struct HttpCallRequest {
  std::string_view method;      // "POST"
  const util::Url* url = nullptr;  // http://; its base_path is the target ("/" when empty)
  // Sent after Host, Content-Length and Connection, in order (checked
  // names and values: the config reader refuses CR/LF).
  const std::vector<std::pair<std::string, std::string>>* headers = nullptr;
  std::string_view body;
};

struct HttpCallLimits {
  std::size_t head_bytes = 16 * 1024;
  std::size_t body_bytes = 64 * 1024;
};

struct HttpCallResult {
  int status = 0;      // the response's status; 0 when the call failed
  std::string body;    // the whole body (at most Limits::body_bytes)
  std::string error;   // why the call failed (for the log; no request data)
  bool ok() const { return error.empty(); }
};

env::Task<HttpCallResult> http_call(env::Env& env, const HttpCallRequest& req, TimePoint deadline,
                                    HttpCallLimits limits = {});

}  // namespace llmproxy::shell
