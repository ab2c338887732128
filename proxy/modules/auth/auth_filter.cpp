#include "proxy/modules/auth/auth_filter.h"

namespace llmproxy::modules::auth {
namespace {

using openai::ErrorId;

// RFC 9110 §11.6.1: a 401 names the scheme that would work.
constexpr std::string_view kChallenge = "WWW-Authenticate: Bearer\r\n";
constexpr std::string_view kMissing =
    "You didn't provide an API key. Send it in an Authorization header using Bearer auth "
    "(Authorization: Bearer YOUR_KEY).";
constexpr std::string_view kUnknown = "Incorrect API key provided.";

shell::FilterVerdict refuse(ErrorId id, std::string_view message = {}) {
  return shell::FilterVerdict::reject(id, std::string(message),
                                      id == ErrorId::invalid_api_key ? std::string(kChallenge) : std::string());
}

}  // namespace

shell::FilterVerdict AuthFilter::judge(shell::Exchange& ex) const {
  ex.caller.checked = true;
  if (auth_->skip_paths().matches(ex.path())) return shell::FilterVerdict::proceed();
  const auto& req = ex.request();
  const auto key = llmproxy::auth::extract_key(auth_->key_headers(), [&](std::string_view name) {
    const auto v = req[name];
    return std::string_view(v.data(), v.size());
  });
  if (!key) return refuse(ErrorId::invalid_api_key, kMissing);
  const auto client = util::parse_ip(ex.client_ip);
  const auto r = auth_->check(*key, client.value, ex.record.wall_start);
  if (!r.decision.allowed())
    return refuse(*r.decision.error, *r.decision.error == ErrorId::invalid_api_key ? kUnknown : "");
  ex.caller.id = r.caller->id;
  ex.caller.name = r.caller->name;
  ex.caller.user_id = r.caller->user_id;
  ex.caller.key_prefix = r.caller->prefix;
  return shell::FilterVerdict::proceed();
}

env::Task<shell::FilterVerdict> AuthFilter::on_request(shell::Exchange& ex) { co_return judge(ex); }

}  // namespace llmproxy::modules::auth
