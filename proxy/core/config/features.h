// Which configurable features this build implements. The loader turns a
// feature that is configured and enabled but not built into a Diagnostic of
// kind not_implemented, so nobody believes a limit or an auth check is in
// force when it is not. Flip `built` here when a feature lands.
#pragma once

#include <span>
#include <string_view>

namespace llmproxy::config {

enum class Feature {
  server_tls,
  server_cors,
  log_file_output,
  load_balance_strategies,  // anything but round_robin
  retry,
  fallback,
  circuit_breaker,
  request_timeout,
  backend_models,
  https_backends,  // backends[].url with https:// (TLS to upstreams)
  health_check,
  rate_limit,
  auth,            // the auth filter with static providers
  api_keys,
  auth_providers,  // auth.pipeline[].type lua (the other types are built)
  key_quota,       // total_quota, used_quota, quota_reset_period of a static key
  key_metric_labels,  // metrics.custom_labels api_key / user_id
  discovery,
  logging,
  metrics,
  usage,
  lua_scripts,  // every enabled script: block, scripts.*, hooks.*
  admin,
  admin_listen,  // admin.listen: the admin API on a listener of its own
};

struct FeatureInfo {
  Feature feature;
  std::string_view name;
  bool built;
  std::string_view reference;  // where the behaviour is specified / tracked
};

std::span<const FeatureInfo> feature_table();
const FeatureInfo& feature_info(Feature f);
inline bool is_built(Feature f) { return feature_info(f).built; }

}  // namespace llmproxy::config
