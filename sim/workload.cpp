#include "sim/workload.h"

#include <boost/asio/error.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace llmproxy::sim {

namespace asio = boost::asio;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool contains_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// Size of a complete chunked body starting at `body`, or nullopt if more
// bytes are needed. Sets malformed on nonsense.
std::optional<std::size_t> chunked_size(std::string_view body, bool& malformed) {
  std::size_t pos = 0;
  for (;;) {
    const std::size_t eol = body.find("\r\n", pos);
    if (eol == std::string_view::npos) return std::nullopt;
    std::string_view line = body.substr(pos, eol - pos);
    line = line.substr(0, line.find(';'));  // chunk extensions
    line = trim(line);
    std::size_t size = 0;
    const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
    if (ec != std::errc() || end != line.data() + line.size() || line.empty()) {
      malformed = true;
      return std::nullopt;
    }
    pos = eol + 2;
    if (size == 0) {
      // Trailers, then an empty line.
      for (;;) {
        const std::size_t t = body.find("\r\n", pos);
        if (t == std::string_view::npos) return std::nullopt;
        const bool empty = t == pos;
        pos = t + 2;
        if (empty) return pos;
      }
    }
    if (body.size() < pos + size + 2) return std::nullopt;
    if (body.substr(pos + size, 2) != "\r\n") {
      malformed = true;
      return std::nullopt;
    }
    pos += size + 2;
  }
}

}  // namespace

ResponseFraming frame_response(std::string_view bytes) {
  ResponseFraming f;
  const std::size_t head_end = bytes.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return f;
  f.head_complete = true;
  f.head_size = head_end + 4;
  std::string_view head = bytes.substr(0, head_end);

  const std::size_t first_eol = head.find("\r\n");
  const std::string_view status_line = head.substr(0, first_eol);
  if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/") {
    f.malformed = true;
    return f;
  }
  const auto [p, ec] = std::from_chars(status_line.data() + 9, status_line.data() + 12, f.status);
  if (ec != std::errc() || p != status_line.data() + 12) {
    f.malformed = true;
    return f;
  }

  bool chunked = false;
  std::optional<std::size_t> content_length;
  std::string_view rest = first_eol == std::string_view::npos ? std::string_view{}
                                                              : head.substr(first_eol + 2);
  while (!rest.empty()) {
    const std::size_t eol = rest.find("\r\n");
    const std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = trim(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "transfer-encoding") && contains_token(value, "chunked")) chunked = true;
    if (iequals(name, "content-length")) {
      std::size_t n = 0;
      const auto [e, err] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (err != std::errc() || e != value.data() + value.size()) {
        f.malformed = true;
        return f;
      }
      content_length = n;
    }
  }

  if ((f.status >= 100 && f.status < 200) || f.status == 204 || f.status == 304) {
    f.total_size = f.head_size;
  } else if (chunked) {
    if (auto body = chunked_size(bytes.substr(f.head_size), f.malformed)) {
      f.total_size = f.head_size + *body;
    }
  } else if (content_length) {
    if (bytes.size() >= f.head_size + *content_length) {
      f.total_size = f.head_size + *content_length;
    }
  } else {
    f.close_delimited = true;
  }
  return f;
}

std::string_view HttpExchange::raw_body() const {
  const std::size_t head_end = response.find("\r\n\r\n");
  if (head_end == std::string::npos) return {};
  return std::string_view(response).substr(head_end + 4);
}

std::string http_post_json(std::string_view target, std::string_view host, std::string_view body,
                           std::string_view extra_headers) {
  std::string r;
  r.reserve(128 + target.size() + host.size() + body.size() + extra_headers.size());
  r += "POST ";
  r += target;
  r += " HTTP/1.1\r\nHost: ";
  r += host;
  r += "\r\nContent-Type: application/json\r\nContent-Length: ";
  r += std::to_string(body.size());
  r += "\r\n";
  r += extra_headers;
  r += "\r\n";
  r += body;
  return r;
}

env::Task<HttpExchange> FakeClient::send(std::string request,
                                         std::optional<Duration> cancel_after) {
  HttpExchange x;
  x.request = std::move(request);
  x.started = env_.now();
  auto stream = co_await env_.connect(options_.host, options_.port,
                                      env_.now() + options_.connect_timeout, x.connect_error);
  if (x.connect_error) {
    x.finished = env_.now();
    co_return x;
  }
  x.connected = env_.now();
  // The span overload with a buffer array in this frame: env::Stream's
  // single-buffer convenience overload hands the coroutine a span over a
  // temporary (see the report on proxy/env/env.h).
  const asio::const_buffer request_buffers[] = {asio::buffer(x.request)};
  co_await stream->write(std::span<const asio::const_buffer>(request_buffers),
                         env_.now() + options_.response_timeout, x.error);
  if (x.error) {
    stream->reset();
    x.finished = env_.now();
    co_return x;
  }

  TimePoint deadline = env_.now() + options_.response_timeout;
  bool cancel = false;
  if (cancel_after && env_.now() + *cancel_after < deadline) {
    deadline = env_.now() + *cancel_after;
    cancel = true;
  }
  std::string buf(options_.read_buffer, '\0');
  for (;;) {
    env::error_code ec;
    const std::size_t n = co_await stream->read_some(asio::buffer(buf), deadline, ec);
    if (n > 0) {
      if (x.response.empty()) x.first_byte = env_.now();
      x.response.append(buf.data(), n);
      x.reads.emplace_back(env_.now(), n);
      const ResponseFraming f = frame_response(x.response);
      x.status = f.status;
      if (f.malformed) {
        x.error = asio::error::invalid_argument;
        break;
      }
      if (f.total_size && x.response.size() >= *f.total_size) {
        x.complete = true;
        break;
      }
    }
    if (ec) {
      const ResponseFraming f = frame_response(x.response);
      if (ec == asio::error::eof && f.head_complete && f.close_delimited) {
        x.complete = true;
      } else if (ec == asio::error::timed_out && cancel) {
        x.cancelled = true;
      } else {
        x.error = ec;
      }
      break;
    }
  }
  x.finished = env_.now();
  if (x.cancelled) {
    stream->reset();
  } else {
    stream->close();
  }
  co_return x;
}

}  // namespace llmproxy::sim
