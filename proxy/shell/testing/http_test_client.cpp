#include "proxy/shell/testing/http_test_client.h"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace llmproxy::testing {

namespace bhttp = boost::beast::http;
namespace asio = boost::asio;

std::string ClientResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() != name.size()) continue;
    bool eq = true;
    for (std::size_t i = 0; i < k.size() && eq; ++i)
      eq = std::tolower(static_cast<unsigned char>(k[i])) ==
           std::tolower(static_cast<unsigned char>(name[i]));
    if (eq) return v;
  }
  return {};
}

env::Task<ClientResponse> exchange(env::Env& env, env::Stream& stream, std::string request,
                                   TimePoint deadline,
                                   std::function<bool(const ClientResponse&)> stop) {
  std::string carry;
  co_return co_await exchange(env, stream, carry, std::move(request), deadline, std::move(stop));
}

env::Task<ClientResponse> exchange(env::Env& env, env::Stream& stream, std::string& carry,
                                   std::string request, TimePoint deadline,
                                   std::function<bool(const ClientResponse&)> stop) {
  ClientResponse r;
  env::error_code ec;
  co_await stream.write(asio::buffer(request), deadline, ec);
  if (ec) {
    r.error = ec;
    co_return r;
  }
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(boost::none);
  parser.eager(true);
  // The answer to HEAD has no body, whatever its Content-Length says.
  if (request.starts_with("HEAD ")) parser.skip(true);
  boost::beast::flat_buffer buf;
  if (!carry.empty()) {
    buf.commit(asio::buffer_copy(buf.prepare(carry.size()), asio::buffer(carry)));
    carry.clear();
  }
  bool header_seen = false;
  for (bool first = true;; first = false) {
    std::size_t n = 0;
    if (!first || buf.size() == 0) {
      n = co_await stream.read_some(buf.prepare(16384), deadline, ec);
      buf.commit(n);
    }
    if (ec == asio::error::eof && parser.is_header_done() && !parser.chunked() &&
        !parser.content_length()) {
      parser.put_eof(ec);
    }
    if (ec) {
      r.error = ec;
      break;
    }
    env::error_code pec;
    const std::size_t used = parser.put(buf.data(), pec);
    buf.consume(used);
    if (pec && pec != bhttp::error::need_more) {
      r.error = pec;
      break;
    }
    if (parser.is_header_done() && !header_seen) {
      header_seen = true;
      r.status = static_cast<int>(parser.get().result_int());
      for (const auto& f : parser.get())
        r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    if (const auto& b = parser.get().body(); b.size() > r.body.size()) {
      r.body.append(b, r.body.size());
      r.arrivals.emplace_back(env.now(), r.body.size());
    }
    if (parser.is_done()) {
      const auto rest = buf.data();
      carry.assign(static_cast<const char*>(rest.data()), rest.size());
      r.complete = true;
      r.keep_alive = parser.get().keep_alive();
      break;
    }
    if (stop && stop(r)) break;
  }
  if (const auto& b = parser.get().body(); header_seen && b.size() > r.body.size())
    r.body.append(b, r.body.size());
  co_return r;
}

std::string json_request(std::string_view method, std::string_view target, std::string_view body,
                         std::string_view extra_headers) {
  std::string s;
  s += method;
  s += ' ';
  s += target;
  s += " HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: ";
  s += std::to_string(body.size());
  s += "\r\n";
  s += extra_headers;
  s += "\r\n";
  s += body;
  return s;
}

}  // namespace llmproxy::testing
