// Printing a Config back to YAML (check-config --print, reload diffs, tests).
#pragma once

#include <string>

#include "proxy/core/config/config.h"

namespace llmproxy::config {

// YAML that load_config_string() turns back into an equal Config, so
// print(load(print(c))) == print(c). With redact_secrets, passwords, tokens,
// DSNs, API keys and sensitive header values print as "<redacted>".
std::string print_config(const Config& config, bool redact_secrets);

}  // namespace llmproxy::config
