#include "fake_backends/test_client.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include <array>

namespace llmproxy::fake::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;

std::string ClientResponse::header(std::string_view name) const {
  const auto it = msg.find(boost::beast::string_view(name.data(), name.size()));
  if (it == msg.end()) return {};
  return std::string(it->value().data(), it->value().size());
}

std::string make_request(std::string_view method, std::string_view target, std::string_view body,
                         std::string_view extra_headers) {
  std::string r;
  r += method;
  r += ' ';
  r += target;
  r += " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!body.empty() || method == "POST") {
    r += "Content-Type: application/json\r\nContent-Length: ";
    r += std::to_string(body.size());
    r += "\r\n";
  }
  r += extra_headers;
  r += "\r\n";
  r += body;
  return r;
}

env::Task<ClientResponse> read_response(env::Stream& stream, TimePoint deadline, std::string& leftover) {
  ClientResponse out;
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(64 * 1024 * 1024);
  std::string in = std::move(leftover);
  leftover.clear();
  std::array<char, 4096> buf;
  for (;;) {
    while (!in.empty()) {
      boost::system::error_code pec;
      const std::size_t used = parser.put(asio::buffer(in.data(), in.size()), pec);
      out.raw.append(in.data(), used);
      in.erase(0, used);
      if (parser.is_done()) {
        out.complete = true;
        out.header_done = true;
        out.msg = parser.release();
        leftover = std::move(in);
        co_return out;
      }
      if (pec && pec != http::error::need_more) {
        out.ec = pec;
        out.header_done = parser.is_header_done();
        out.msg = parser.release();
        co_return out;
      }
      if (used == 0) break;
    }
    boost::system::error_code ec;
    const std::size_t n = co_await stream.read_some(asio::buffer(buf), deadline, ec);
    if (n > 0) in.append(buf.data(), n);
    if (ec && n == 0) {
      // A body delimited by the end of the connection is complete at EOF.
      if (ec == asio::error::eof && parser.is_header_done()) {
        boost::system::error_code pec;
        parser.put_eof(pec);
        if (!pec && parser.is_done()) {
          out.complete = true;
          out.header_done = true;
          out.msg = parser.release();
          co_return out;
        }
      }
      out.ec = ec;
      out.header_done = parser.is_header_done();
      out.msg = parser.release();
      co_return out;
    }
  }
}

env::Task<ClientResponse> roundtrip(env::Env& env, std::uint16_t port, std::string request,
                                    TimePoint deadline) {
  boost::system::error_code ec;
  auto stream = co_await env.connect("127.0.0.1", port, deadline, ec);
  if (ec) {
    ClientResponse r;
    r.ec = ec;
    co_return r;
  }
  co_await stream->write(asio::buffer(request), deadline, ec);
  if (ec) {
    ClientResponse r;
    r.ec = ec;
    co_return r;
  }
  std::string leftover;
  ClientResponse r = co_await read_response(*stream, deadline, leftover);
  stream->close();
  co_return r;
}

std::vector<std::string> sse_payloads(std::string_view body) {
  std::vector<std::string> out;
  while (!body.empty()) {
    const auto end = body.find("\n\n");
    std::string_view event = body.substr(0, end);
    if (event.substr(0, 6) == "data: ") event.remove_prefix(6);
    out.emplace_back(event);
    if (end == std::string_view::npos) break;
    body.remove_prefix(end + 2);
  }
  return out;
}

}  // namespace llmproxy::fake::testing
