#include "proxy/shell/upstream_request.h"

#include <charconv>

#include "proxy/core/http/request_rules.h"

namespace llmproxy::shell {
namespace {

namespace bhttp = boost::beast::http;
constexpr std::string_view kCrlf = "\r\n";

std::string_view view(boost::beast::string_view s) { return {s.data(), s.size()}; }

// Every value of the fields named `name`, joined with ", " (RFC 9110 §5.3):
// a view of the only one without copying, or `scratch` holding them all.
std::string_view joined(const ClientRequest& req, bhttp::field name, std::string_view name_text,
                        std::string& scratch) {
  std::string_view first;
  bool several = false;
  for (const auto& f : req) {
    const bool match = name != bhttp::field::unknown
                           ? f.name() == name
                           : http::iequals(view(f.name_string()), name_text);
    if (!match) continue;
    if (first.data() == nullptr) {
      first = view(f.value());
      continue;
    }
    if (!several) {
      several = true;
      scratch.assign(first);
    }
    scratch += ", ";
    scratch += view(f.value());
  }
  return several ? std::string_view(scratch) : first;
}

}  // namespace

void build_upstream_head(std::string& head, const ClientRequest& req, const BackendTarget& b,
                         const UpstreamRequestInfo& info, std::string& scratch) {
  head.clear();
  head += view(req.method_string());
  head += ' ';
  head += b.base_path;
  head += info.target;
  head += " HTTP/1.1\r\nHost: ";
  head += b.host_header;
  head += kCrlf;
  // The Connection list first (it may name later headers), then XFF, which
  // needs its own joined copy while the Connection list is in use.
  std::string xff_scratch;
  const std::string_view connection = joined(req, bhttp::field::connection, {}, scratch);
  std::string_view prior_xff;
  bool several_xff = false;
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
        if (http::iequals(n, "x-request-id") || http::iequals(n, "x-forwarded-proto")) continue;
        if (http::iequals(n, "x-forwarded-for")) {
          if (prior_xff.data() == nullptr) {
            prior_xff = value;
          } else {
            if (!several_xff) xff_scratch.assign(prior_xff);
            several_xff = true;
            xff_scratch += ", ";
            xff_scratch += value;
          }
          continue;
        }
        if (!b.forward_api_key && http::iequals(n, "x-api-key")) continue;
        break;
    }
    head += n;
    head += ": ";
    head += value;
    head += kCrlf;
  }
  if (several_xff) prior_xff = xff_scratch;
  head += "X-Forwarded-For: ";
  http::append_forwarded_for(head, prior_xff, info.client_ip);
  head += "\r\nX-Forwarded-Proto: http\r\nX-Request-Id: ";
  head += info.request_id;
  head += kCrlf;
  for (const auto& [k, v] : b.headers) {
    head += k;
    head += ": ";
    head += v;
    head += kCrlf;
  }
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
