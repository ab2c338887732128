#include "proxy/core/config/features.h"

#include <array>

namespace llmproxy::config {
namespace {

constexpr std::array kFeatures{
    FeatureInfo{Feature::server_tls, "server.tls", false, "BEHAVIOR §13"},
    FeatureInfo{Feature::server_cors, "server.cors", true, "BEHAVIOR §13"},
    FeatureInfo{Feature::log_file_output, "log.output: file", true, "BEHAVIOR §10"},
    FeatureInfo{Feature::load_balance_strategies, "routing.load_balance other than round_robin", true,
                "BEHAVIOR §4"},
    FeatureInfo{Feature::retry, "routing.retry", true, "BEHAVIOR §4"},
    FeatureInfo{Feature::fallback, "routing.fallback", true, "BEHAVIOR §4"},
    FeatureInfo{Feature::circuit_breaker, "routing.circuit_breaker", true, "BEHAVIOR §4"},
    FeatureInfo{Feature::request_timeout, "routing.request_timeout", true, "BEHAVIOR §3"},
    FeatureInfo{Feature::backend_models, "backends[].models", true, "BEHAVIOR §4"},
    FeatureInfo{Feature::https_backends, "https:// backends", false, "BEHAVIOR §13"},
    FeatureInfo{Feature::health_check, "health_check", true, "BEHAVIOR §5"},
    FeatureInfo{Feature::rate_limit, "rate_limit", true, "BEHAVIOR §6"},
    FeatureInfo{Feature::auth, "auth", true, "BEHAVIOR §7"},
    FeatureInfo{Feature::api_keys, "api_keys", true, "BEHAVIOR §7"},
    FeatureInfo{Feature::auth_providers, "the lua auth provider", false, "BEHAVIOR §7, issue #13"},
    FeatureInfo{Feature::key_quota, "quotas of static keys (counted in the admin key store's database)", true, "BEHAVIOR §7, issue #13"},
    FeatureInfo{Feature::key_metric_labels, "metrics.custom_labels api_key / user_id", true, "BEHAVIOR §10"},
    FeatureInfo{Feature::discovery, "discovery", false, "BEHAVIOR §12"},
    FeatureInfo{Feature::logging, "logging", false, "BEHAVIOR §10"},
    FeatureInfo{Feature::metrics, "metrics", true, "BEHAVIOR §10"},
    FeatureInfo{Feature::usage, "usage", false, "BEHAVIOR §10"},
    FeatureInfo{Feature::lua_scripts, "Lua scripts", false, "BEHAVIOR §11"},
    FeatureInfo{Feature::admin, "admin", true, "BEHAVIOR §9"},
    FeatureInfo{Feature::admin_listen, "admin.listen (a listener of its own)", true, "BEHAVIOR §9, issue #13"},
};

}  // namespace

std::span<const FeatureInfo> feature_table() { return kFeatures; }

const FeatureInfo& feature_info(Feature f) {
  for (const auto& info : kFeatures)
    if (info.feature == f) return info;
  return kFeatures[0];  // unreachable: every enumerator has a row (tested)
}

}  // namespace llmproxy::config
