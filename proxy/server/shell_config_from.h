// Turns a validated configuration snapshot into the shell's runtime settings.
#pragma once

#include <memory>
#include <string>

#include "proxy/core/config/config.h"
#include "proxy/shell/shell_config.h"

namespace llmproxy::server {

// Splits server.listen (":8000", "127.0.0.1:8080", "[::]:8080") into host and
// port. Returns false for text the config check would have rejected.
bool split_listen(const std::string& listen, std::string& host, std::uint16_t& port);

std::shared_ptr<const shell::ShellConfig> shell_config_from(const config::Config& cfg);


}  // namespace llmproxy::server
