#include "proxy/modules/cors/cors_filter.h"

#include <boost/beast/http/field.hpp>

namespace llmproxy::modules::cors {
namespace {

namespace bhttp = boost::beast::http;

std::string_view field(const shell::ClientRequest& req, bhttp::field f) {
  const auto v = req[f];
  return {v.data(), v.size()};
}

}  // namespace

env::Task<shell::FilterVerdict> CorsFilter::on_request(shell::Exchange& ex) {
  const auto& req = ex.request();
  const auto method = req.method_string();
  const std::string_view origin = field(req, bhttp::field::origin);
  const std::string_view acr_method = field(req, bhttp::field::access_control_request_method);
  const std::string_view acr_headers = field(req, bhttp::field::access_control_request_headers);
  const http::CorsKind kind =
      policy_->judge(std::string_view(method.data(), method.size()), origin, acr_method, acr_headers);
  switch (kind) {
    case http::CorsKind::not_cors:
    case http::CorsKind::simple_refused:
      co_return shell::FilterVerdict::proceed();
    case http::CorsKind::simple_allowed:
      policy_->append_response_headers(origin, ex.response_headers);
      ex.cors_headers_owned = true;
      co_return shell::FilterVerdict::proceed();
    case http::CorsKind::preflight_allowed: {
      std::string headers;
      policy_->append_preflight_headers(origin, acr_method, acr_headers, headers);
      co_return shell::FilterVerdict::respond(http::kPreflightAllowedStatus, std::move(headers));
    }
    case http::CorsKind::preflight_refused:
      co_return shell::FilterVerdict::reject(openai::ErrorId::cors_preflight_refused,
                                             "CORS preflight refused: origin, method or headers "
                                             "not allowed by server.cors");
  }
  co_return shell::FilterVerdict::proceed();
}

}  // namespace llmproxy::modules::cors
