// Printing a Config back to YAML (check-config --print, reload diffs, tests).
#pragma once

#include <string>
#include <vector>

#include "proxy/core/config/config.h"

namespace llmproxy::config {

// YAML that load_config_string() turns back into an equal Config, so
// print(load(print(c))) == print(c). With redact_secrets, passwords, tokens,
// DSNs, API keys and sensitive header values print as "<redacted>".
std::string print_config(const Config& config, bool redact_secrets);

// The keys whose values differ between `a` and `b`, as dotted paths in
// document order ("server.listen", "backends[1].weight"; a list whose
// length changed is one path, "backends"). Secrets compare by value but
// never appear in the result beyond their key. For reload logs and for
// settings that take effect only at restart.
std::vector<std::string> changed_keys(const Config& a, const Config& b);

}  // namespace llmproxy::config
