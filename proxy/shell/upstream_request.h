// The request head the gateway sends to a backend for a client's request:
// the client's method and target (under the backend's base path), its
// end-to-end headers in order, and the gateway's own:
//   dropped: hop-by-hop headers (RFC 9110 §7.6.1) and every header named in
//     any Connection field; Host, Content-Length, Transfer-Encoding and
//     Expect (the gateway frames the body itself); the client's key
//     (Authorization, X-Api-Key and the backend's key_headers, i.e.
//     auth.header_names) unless the backend forwards it; the
//     client's X-Request-Id, X-Forwarded-Proto and X-Forwarded-For;
//   set: Host (the backend's), X-Forwarded-For (every incoming
//     X-Forwarded-For value joined with ", ", then the client's address),
//     X-Forwarded-Proto, X-Request-Id, the backend's configured headers,
//     and Content-Length when there is a body (or the method has one).
// conformance/harness/header_property_test.cpp checks this from the bytes.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>
#include <string_view>

#include "proxy/shell/shell_config.h"

namespace llmproxy::shell {

using ClientRequest = boost::beast::http::request<boost::beast::http::string_body>;

struct UpstreamRequestInfo {
  std::string_view target;       // the client's target (path and query)
  std::size_t body_size = 0;     // what follows the head
  std::string_view client_ip;    // appended to X-Forwarded-For
  std::string_view request_id;
};

// Writes the head into `head` (cleared first; capacity reused). `scratch`
// holds joined values when a header appears more than once (rare); nothing
// is allocated otherwise once the strings are warm.
void build_upstream_head(std::string& head, const ClientRequest& req, const BackendTarget& b,
                         const UpstreamRequestInfo& info, std::string& scratch);

// The parts every request to a backend starts with, shared with the health
// prober: "<method> <base_path><target> HTTP/1.1", Host (the backend's);
// and the backend's configured headers.
void append_request_line(std::string& head, std::string_view method, const BackendTarget& b,
                         std::string_view target);
void append_backend_headers(std::string& head, const BackendTarget& b);

}  // namespace llmproxy::shell
