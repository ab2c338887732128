#include "proxy/shell/upstream_request.h"

#include <charconv>

#include "proxy/core/http/request_rules.h"

namespace llmproxy::shell {
namespace {

namespace bhttp = boost::beast::http;
constexpr std::string_view kCrlf = "\r\n";

std::string_view view(boost::beast::string_view s) { return {s.data(), s.size()}; }

bool names_key_header(const BackendTarget& b, std::string_view name) {
  for (const auto& k : b.key_headers)
    if (http::iequals(name, k)) return true;
  return false;
}

// Every value of the fields `match` accepts, joined with ", ".
template <class Match>
std::string_view joined(const ClientRequest& req, Match match, std::string& scratch) {
  std::string_view list;
  for (const auto& f : req)
    if (match(f)) http::join_list(list, view(f.value()), scratch);
  return list;
}

}  // namespace

void append_request_line(std::string& head, std::string_view method, const BackendTarget& b,
                         std::string_view target) {
  head += method;
  head += ' ';
  head += b.base_path;
  head += target;
  head += " HTTP/1.1\r\nHost: ";
  head += b.host_header;
  head += kCrlf;
}

void append_backend_headers(std::string& head, const BackendTarget& b) {
  for (const auto& [k, v] : b.headers) {
    head += k;
    head += ": ";
    head += v;
    head += kCrlf;
  }
}

void build_upstream_head(std::string& head, const ClientRequest& req, const BackendTarget& b,
                         const UpstreamRequestInfo& info, std::string& scratch) {
  head.clear();
  append_request_line(head, view(req.method_string()), b, info.target);
  // The Connection list (it may name any header) and the incoming
  // X-Forwarded-For list, each from all of their fields.
  std::string xff_scratch;
  const std::string_view connection =
      joined(req, [](const auto& f) { return f.name() == bhttp::field::connection; }, scratch);
  const std::string_view prior_xff = joined(
      req, [](const auto& f) { return http::iequals(view(f.name_string()), "x-forwarded-for"); },
      xff_scratch);
  for (const auto& f : req) {
    const std::string_view n = view(f.name_string());
    const std::string_view value = view(f.value());
    if (http::is_hop_by_hop(n, connection)) continue;
    switch (f.name()) {
      case bhttp::field::host:
      case bhttp::field::content_length:
      case bhttp::field::expect:
        continue;
      case bhttp::field::authorization:
        if (!b.forward_api_key) continue;
        break;
      default:
        // Set by the gateway itself below (Beast has no enum for these).
        if (http::iequals(n, "x-request-id") || http::iequals(n, "x-forwarded-proto") ||
            http::iequals(n, "x-forwarded-for"))
          continue;
        if (!b.forward_api_key && (http::iequals(n, "x-api-key") || names_key_header(b, n))) continue;
        break;
    }
    head += n;
    head += ": ";
    head += value;
    head += kCrlf;
  }
  head += "X-Forwarded-For: ";
  http::append_forwarded_for(head, prior_xff, info.client_ip);
  head += "\r\nX-Forwarded-Proto: http\r\nX-Request-Id: ";
  head += info.request_id;
  head += kCrlf;
  append_backend_headers(head, b);
  const auto m = req.method();
  if (info.body_size > 0 || m == bhttp::verb::post || m == bhttp::verb::put ||
      m == bhttp::verb::patch) {
    head += "Content-Length: ";
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, info.body_size);
    head.append(buf, r.ptr);
    head += kCrlf;
  }
  head += kCrlf;
}

}  // namespace llmproxy::shell
