#include "fake_backends/http_format.h"

#include <charconv>

namespace llmproxy::fake {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return status < 500 ? "Client Error" : "Server Error";
  }
}

void append_status_line(std::string& out, int status) {
  char buf[8];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, status);
  (void)ec;
  out += "HTTP/1.1 ";
  out.append(buf, end);
  out += ' ';
  out += reason_phrase(status);
  out += "\r\n";
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

void append_header(std::string& out, std::string_view name, std::size_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;
  append_header(out, name, std::string_view(buf, static_cast<std::size_t>(end - buf)));
}

void append_chunk_header(std::string& out, std::size_t size) {
  char buf[20];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, size, 16);
  (void)ec;
  out.append(buf, end);
  out += "\r\n";
}

void append_chunk(std::string& out, std::string_view data) {
  if (data.empty()) return;
  append_chunk_header(out, data.size());
  out += data;
  out += kChunkTrailer;
}

}  // namespace llmproxy::fake
