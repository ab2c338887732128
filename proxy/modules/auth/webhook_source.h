// The webhook provider (BEHAVIOR §7, docs/auth.md "Keys checked by your own
// service"): the operator's HTTP service says whether a key may pass.
//
// Asked with `<method> <url>` (POST by default), the configured headers and
// Content-Type: application/json, body
//   {"api_key": KEY, "request": {"method", "path", "client_ip", "headers"}}
// describing the client's request: its path without the query, the client
// address auth judges (null when unknown), and its headers by lower-case
// name (repeats joined with ", ") without the key-carrying ones
// (auth.header_names: the key is sent once, as api_key) and without
// hop-by-hop headers (and values that are not UTF-8, which JSON cannot
// carry; a key that is not UTF-8 is unknown without a call).
// The answer:
//   2xx + a JSON object  the key is known; the object's members are its
//                        fields (key_fields.h: status, expires_at, quotas,
//                        IP lists...; {} = allowed, no rules)
//   401                  no such key (the client gets 401 invalid_api_key)
//   403                  a known key that is refused (403 key_disabled)
//   anything else        failed (503 auth_unavailable, fail closed): other
//                        statuses, a body that is not a JSON object of
//                        fields, over 64 KiB, malformed HTTP, no answer
//                        within `timeout`, no connection.
// The service keeps its own quota: no usage is written (keeps_usage false).
#pragma once

#include <string>
#include <vector>

#include "proxy/core/config/auth.h"
#include "proxy/core/util/url.h"
#include "proxy/modules/auth/key_source.h"
#include "proxy/shell/http_call.h"

namespace llmproxy::modules::auth {

class WebhookSource final : public KeySource {
 public:
  // `url`: the parsed config.url (http://). `key_headers`: auth.header_names,
  // left out of request.headers.
  WebhookSource(env::Env& env, const config::WebhookProvider& config, util::Url url,
                std::vector<std::string> key_headers);

  env::Task<SourceAnswer> lookup(const LookupRequest& req) override;
  bool keeps_usage() const override { return false; }
  env::Task<stores::keys::Status> add_usage(const std::string& store_ref, std::int64_t tokens,
                                            std::optional<std::int64_t> period_start) override;

  // The body sent for `req` (tests read it as the service would).
  std::string request_body(const LookupRequest& req) const;

  static constexpr shell::HttpCallLimits kLimits{16 * 1024, 64 * 1024};

 private:
  SourceAnswer answer(const LookupRequest& req, shell::HttpCallResult result) const;

  env::Env& env_;
  std::string method_;
  Duration timeout_;
  std::vector<std::pair<std::string, std::string>> headers_;  // Content-Type, then config.headers
  util::Url url_;
  std::string where_;  // "POST http://host:port/path", for the log
  std::vector<std::string> key_headers_;  // lower case
};

}  // namespace llmproxy::modules::auth
