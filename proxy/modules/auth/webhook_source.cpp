#include "proxy/modules/auth/webhook_source.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <chrono>

#include "proxy/core/util/utf8.h"
#include "proxy/modules/auth/key_fields.h"
#include "proxy/shell/exchange.h"

namespace llmproxy::modules::auth {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool has(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Hop-by-hop headers (RFC 9110 §7.6.1): they describe the client's
// connection to the gateway, not its request.
constexpr std::array<std::string_view, 9> kHopByHop{
    "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
    "upgrade", "proxy-authorization", "proxy-authenticate"};

// The headers the Connection field names are hop-by-hop too.
std::vector<std::string> connection_tokens(const shell::ClientRequest& req) {
  std::vector<std::string> out;
  const auto range = req.equal_range(boost::beast::http::field::connection);
  for (auto it = range.first; it != range.second; ++it) {
    std::string_view v(it->value().data(), it->value().size());
    while (!v.empty()) {
      const std::size_t comma = v.find(',');
      std::string_view token = v.substr(0, comma);
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
      if (!token.empty()) out.push_back(lower(token));
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return out;
}

}  // namespace

WebhookSource::WebhookSource(env::Env& env, const config::WebhookProvider& config, util::Url url,
                             std::vector<std::string> key_headers)
    : env_(env), method_(config.method), timeout_(config.timeout), url_(std::move(url)) {
  bool content_type_set = false;
  for (const auto& [name, value] : config.headers.entries)
    content_type_set = content_type_set || lower(name) == "content-type";
  if (!content_type_set) headers_.emplace_back("Content-Type", "application/json");
  for (const auto& entry : config.headers.entries) headers_.push_back(entry);
  where_ = method_ + " " + url_.to_string();
  for (auto& h : key_headers) key_headers_.push_back(lower(h));
}

std::string WebhookSource::request_body(const LookupRequest& req) const {
  const shell::ClientRequest& client = req.exchange.request();
  const std::vector<std::string> dropped = connection_tokens(client);
  boost::json::object headers;
  for (const auto& field : client) {
    const std::string name = lower(std::string_view(field.name_string().data(), field.name_string().size()));
    if (has(key_headers_, name) || has(dropped, name) ||
        std::find(kHopByHop.begin(), kHopByHop.end(), name) != kHopByHop.end())
      continue;
    const std::string_view value(field.value().data(), field.value().size());
    if (!util::is_valid_utf8(value)) continue;  // JSON text is UTF-8; such a value cannot be sent as it is
    if (auto* seen = headers.if_contains(name)) {
      std::string joined(seen->as_string());
      joined.append(", ").append(value);
      *seen = joined;
    } else {
      headers.emplace(name, value);
    }
  }
  boost::json::object request;
  const auto method = client.method_string();
  request.emplace("method", std::string_view(method.data(), method.size()));
  request.emplace("path", req.exchange.path());
  if (req.client)
    request.emplace("client_ip", util::to_string(*req.client));
  else
    request.emplace("client_ip", nullptr);
  request.emplace("headers", std::move(headers));
  boost::json::object body;
  body.emplace("api_key", req.key);
  body.emplace("request", std::move(request));
  return boost::json::serialize(body);
}

env::Task<SourceAnswer> WebhookSource::lookup(const LookupRequest& req) {
  // JSON cannot carry it as it is, so the service cannot have issued it.
  if (!util::is_valid_utf8(req.key)) co_return SourceAnswer::unknown();
  const std::string body = request_body(req);
  shell::HttpCallRequest call;
  call.method = method_;
  call.url = &url_;
  call.headers = &headers_;
  call.body = body;
  shell::HttpCallResult result = co_await shell::http_call(env_, call, env_.now() + timeout_, kLimits);
  co_return answer(req, std::move(result));
}

SourceAnswer WebhookSource::answer(const LookupRequest& req, shell::HttpCallResult result) const {
  const std::string asked = "the webhook " + where_ + " (key " + llmproxy::auth::key_prefix(req.key) + ")";
  if (!result.ok()) {
    if (result.error.ends_with("timed out"))
      return SourceAnswer::failed(asked + " gave no answer within its timeout (" +
                                  std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout_).count()) +
                                  " ms): " + result.error);
    return SourceAnswer::failed(asked + " could not be asked: " + result.error);
  }
  const int status = result.status;
  if (status == 401) return SourceAnswer::unknown();
  KeyFields fields;
  if (status == 403) {
    fields.emplace_back("status", "disabled");
  } else if (status >= 200 && status < 300) {
    auto parsed = fields_from_json(result.body);
    if (!parsed)
      return SourceAnswer::failed(asked + " answered " + std::to_string(status) +
                                  " with a body that is not a JSON object of key fields: " + parsed.error);
    fields = std::move(*parsed.value);
  } else {
    return SourceAnswer::failed(asked + " answered " + std::to_string(status) +
                                " (2xx allows, 401 and 403 refuse; anything else is a failure)");
  }
  auto record = record_from_fields(fields, req.key, req.hash, req.provider, "", env_.wall_now());
  if (!record)
    return SourceAnswer::failed(asked + " answered " + std::to_string(status) +
                                " with a field that cannot be read: " + record.error);
  return SourceAnswer::known(std::move(*record.value));
}

env::Task<stores::keys::Status> WebhookSource::add_usage(const std::string&, std::int64_t,
                                                         std::optional<std::int64_t>) {
  co_return stores::keys::Status{};  // never called: the service keeps its own quota
}

}  // namespace llmproxy::modules::auth
