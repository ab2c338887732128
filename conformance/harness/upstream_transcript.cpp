#include "conformance/harness/upstream_transcript.h"

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <algorithm>

namespace llmproxy::harness {
namespace {

namespace bhttp = boost::beast::http;
using Marks = std::vector<std::pair<TimePoint, std::size_t>>;

// When the byte at `offset` crossed: the first mark whose cumulative size
// goes past it.
TimePoint time_of_byte(const Marks& marks, std::size_t offset) {
  const auto it = std::upper_bound(marks.begin(), marks.end(), offset,
                                   [](std::size_t o, const auto& m) { return o < m.second; });
  return it == marks.end() ? TimePoint{} : it->first;
}

}  // namespace

std::vector<UpstreamExchange> split_exchanges(const ConnectionTap& tap) {
  std::vector<UpstreamExchange> out;
  std::string_view w = tap.written;
  while (!w.empty()) {
    bhttp::request_parser<bhttp::string_body> p;
    p.eager(true);
    p.body_limit(boost::none);
    boost::system::error_code ec;
    const std::size_t used = p.put(boost::asio::buffer(w.data(), w.size()), ec);
    if (ec || !p.is_done()) break;
    UpstreamExchange x;
    x.tap = tap.id;
    x.peer = tap.peer;
    x.request_id = std::string(p.get()["X-Request-Id"]);
    x.method = std::string(p.get().method_string());
    x.target = std::string(p.get().target());
    const std::size_t end = static_cast<std::size_t>(w.data() - tap.written.data()) + used;
    x.sent = time_of_byte(tap.write_marks, end - 1);
    out.push_back(std::move(x));
    w.remove_prefix(used);
  }
  std::string_view r = tap.read;
  bool cut = false;
  for (auto& x : out) {
    if (cut || r.empty()) {
      x.reset = tap.was_reset;
      if (tap.is_closed) x.ended = tap.closed;
      cut = true;
      continue;
    }
    const std::size_t start = static_cast<std::size_t>(r.data() - tap.read.data());
    x.first_byte = time_of_byte(tap.read_marks, start);
    bhttp::response_parser<bhttp::string_body> p;
    p.eager(true);
    p.body_limit(boost::none);
    boost::system::error_code ec;
    std::size_t used = p.put(boost::asio::buffer(r.data(), r.size()), ec);
    if (ec == bhttp::error::need_more) ec = {};
    if (p.is_header_done()) {
      x.status = static_cast<int>(p.get().result_int());
      x.event_stream = std::string(p.get()["Content-Type"]).rfind("text/event-stream", 0) == 0;
      x.retry_after = std::string(p.get()["Retry-After"]);
    }
    if (!ec && !p.is_done() && tap.is_closed && p.is_header_done() && !p.chunked() &&
        !p.content_length()) {
      p.put_eof(ec);  // close-delimited
    }
    x.body = p.get().body();
    x.complete = !ec && p.is_done();
    if (x.complete) {
      x.ended = used ? time_of_byte(tap.read_marks, start + used - 1) : x.first_byte;
      r.remove_prefix(used);
    } else {
      x.reset = tap.was_reset;
      if (tap.is_closed) x.ended = tap.closed;
      cut = true;
    }
  }
  return out;
}

std::vector<UpstreamExchange> all_exchanges(const std::vector<ConnectionTap>& taps) {
  std::vector<UpstreamExchange> out;
  for (const auto& t : taps)
    for (auto& x : split_exchanges(t)) out.push_back(std::move(x));
  std::stable_sort(out.begin(), out.end(),
                   [](const UpstreamExchange& a, const UpstreamExchange& b) { return a.sent < b.sent; });
  return out;
}

}  // namespace llmproxy::harness
