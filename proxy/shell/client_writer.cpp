#include "proxy/shell/client_writer.h"

#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

#include <array>
#include <charconv>

#include "proxy/shell/worker.h"

namespace llmproxy::shell {
namespace {

namespace bhttp = boost::beast::http;
constexpr std::string_view kCrlf = "\r\n";


}  // namespace

void append_decimal(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

env::Task<bool> ClientWriter::write(std::span<const boost::asio::const_buffer> bufs) {
  env::error_code ec;
  co_await client_.write(bufs, deadline_after(worker_.env().now(), worker_.config().write_timeout), ec);
  co_return !ec;
}

void ClientWriter::append_head(const Exchange& ex, std::string& out, int status,
                               std::string_view reason) {
  out += "HTTP/1.1 ";
  append_decimal(out, static_cast<std::uint64_t>(status));
  out += ' ';
  if (reason.empty()) {
    const auto standard = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
    out.append(standard.data(), standard.size());
  } else {
    out += reason;
  }
  out += "\r\nx-request-id: ";
  out += ex.request_id;
  out += kCrlf;
  out += ex.response_headers;
}

void ClientWriter::append_connection(const Exchange& ex, std::string& out) const {
  if (!ex.keep_alive || worker_.draining()) out += "Connection: close\r\n";
}

env::Task<void> ClientWriter::send_simple(Exchange& ex, int status, std::string_view content_type,
                                          std::string_view body, std::string_view extra_headers) {
  if (ex.responding()) co_return;
  const bool head_only = ex.phase() != Exchange::Phase::idle &&
                         ex.request().method() == bhttp::verb::head;
  if (ex.phase() != Exchange::Phase::idle) ex.mark_responding();
  ex.record.status = status;
  if (ex.request_id.empty()) http::generate_request_id(worker_.env().rng(), ex.request_id);
  head_.clear();
  append_head(ex, head_, status, {});
  head_ += "Content-Type: ";
  head_ += content_type;
  head_ += "\r\nContent-Length: ";
  append_decimal(head_, body.size());
  head_ += kCrlf;
  head_ += extra_headers;
  append_connection(ex, head_);
  head_ += kCrlf;
  // A HEAD request gets the headers of the GET answer, without its body.
  const boost::asio::const_buffer out[2] = {
      boost::asio::buffer(head_), boost::asio::buffer(head_only ? std::string_view() : body)};
  ex.record.client_body_bytes = head_only ? 0 : body.size();
  const bool written = co_await write(std::span<const boost::asio::const_buffer>(out, 2));
  if (!written) ex.keep_alive = false;
}

env::Task<void> ClientWriter::send_empty(Exchange& ex, int status,
                                         std::string_view extra_headers) {
  if (ex.responding()) co_return;
  if (ex.phase() != Exchange::Phase::idle) ex.mark_responding();
  ex.record.status = status;
  head_.clear();
  append_head(ex, head_, status, {});
  if (status != 204) head_ += "Content-Length: 0\r\n";
  head_ += extra_headers;
  append_connection(ex, head_);
  head_ += kCrlf;
  const boost::asio::const_buffer out[1] = {boost::asio::buffer(std::string_view(head_))};
  const bool written = co_await write(std::span<const boost::asio::const_buffer>(out, 1));
  if (!written) ex.keep_alive = false;
}

env::Task<void> ClientWriter::send_error(Exchange& ex, openai::ErrorId id,
                                         std::string_view message,
                                         std::string_view extra_headers) {
  const auto& info = openai::error_info(id);
  ex.record.error_code = std::string(info.code);
  ex.record.error_id = static_cast<int>(id);
  body_.clear();
  openai::append_error_body(body_, id, message);
  co_await send_simple(ex, info.http_status, "application/json", body_, extra_headers);
}

}  // namespace llmproxy::shell
