#include "proxy/shell/http_call.h"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
#include <memory>

namespace llmproxy::shell {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using env::error_code;

std::string request_text(const HttpCallRequest& req) {
  const util::Url& url = *req.url;
  std::string out;
  out.reserve(256 + req.body.size());
  out.append(req.method).append(" ").append(url.base_path.empty() ? "/" : url.base_path);
  out.append(" HTTP/1.1\r\nHost: ").append(url.authority());
  out.append("\r\nContent-Length: ").append(std::to_string(req.body.size()));
  out.append("\r\nConnection: close\r\n");
  if (req.headers)
    for (const auto& [name, value] : *req.headers) out.append(name).append(": ").append(value).append("\r\n");
  out.append("\r\n").append(req.body);
  return out;
}

// The operator's reading of a transport error.
std::string transport_error(std::string_view step, const error_code& ec) {
  if (ec == asio::error::timed_out) return std::string(step) + ": timed out";
  return std::string(step) + ": " + ec.message();
}

std::string parse_error(const error_code& ec, const HttpCallLimits& limits) {
  if (ec == bhttp::error::header_limit)
    return "the response head is over " + std::to_string(limits.head_bytes) + " bytes";
  if (ec == bhttp::error::body_limit)
    return "the response body is over " + std::to_string(limits.body_bytes) + " bytes";
  return "malformed HTTP response: " + ec.message();
}

HttpCallResult failure(std::string why) {
  HttpCallResult r;
  r.error = std::move(why);
  return r;
}

}  // namespace

env::Task<HttpCallResult> http_call(env::Env& env, const HttpCallRequest& req, TimePoint deadline,
                                    HttpCallLimits limits) {
  error_code ec;
  std::unique_ptr<env::Stream> s = co_await env.connect(req.url->host, req.url->port, deadline, ec);
  if (ec || !s) co_return failure(transport_error("connect", ec ? ec : asio::error::not_connected));
  const std::string text = request_text(req);
  co_await s->write(asio::buffer(text), deadline, ec);
  if (ec) {
    s->close();
    co_return failure(transport_error("sending the request", ec));
  }

  bhttp::response_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limits.head_bytes));
  parser.body_limit(limits.body_bytes);
  // Bytes read and not yet taken by the parser: at most a partial head
  // (bounded by header_limit) or a partial chunk-size line.
  std::string pending;
  std::array<char, 4096> chunk;
  std::string error;
  while (!parser.is_done() && error.empty()) {
    const std::size_t n = co_await s->read_some(asio::buffer(chunk), deadline, ec);
    if (ec == asio::error::eof) {
      // Beast asserts on put_eof before any part of a head was taken.
      if (!parser.got_some()) {
        error = pending.empty() ? "the connection closed without an answer"
                                : "the connection closed within the response head";
        break;
      }
      error_code pec;
      parser.put_eof(pec);
      if (pec) error = parse_error(pec, limits);
      break;
    }
    if (ec) {
      error = transport_error("reading the response", ec);
      break;
    }
    pending.append(chunk.data(), n);
    while (!pending.empty() && !parser.is_done()) {
      error_code pec;
      const std::size_t used = parser.put(asio::buffer(pending), pec);
      pending.erase(0, used);
      if (pec == bhttp::error::need_more) {
        // The head must be read whole; a partial one is bounded here too.
        if (!parser.is_header_done() && pending.size() > limits.head_bytes)
          error = parse_error(bhttp::error::header_limit, limits);
        break;
      }
      if (pec) {
        error = parse_error(pec, limits);
        break;
      }
    }
  }
  s->close();
  if (!error.empty()) co_return failure(std::move(error));
  HttpCallResult r;
  r.status = static_cast<int>(parser.get().result_int());
  r.body = std::move(parser.get().body());
  co_return r;
}

}  // namespace llmproxy::shell
