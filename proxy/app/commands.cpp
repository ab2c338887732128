#include "proxy/app/commands.h"

#include <array>

namespace llmproxy::app {
namespace {

constexpr std::string_view kCheckConfigUsage =
    "usage: llmproxy check-config FILE [--print]\n"
    "\n"
    "Loads FILE and reports every problem as file:line:col: message on stderr:\n"
    "YAML syntax, unknown keys, wrong types or values, dangling storage or\n"
    "backend names, missing or broken Lua scripts, unset ${VARIABLES}, and\n"
    "features that are configured but not implemented in this build.\n"
    "\n"
    "  --print   write the effective config (defaults filled in, secrets\n"
    "            redacted) to stdout\n"
    "\n"
    "Exit status: 0 no problems, 1 problems found, 2 bad command line.\n";

constexpr std::string_view kServeUsage =
    "usage: llmproxy serve --config FILE\n"
    "\n"
    "Checks FILE like check-config (any problem is printed and the gateway\n"
    "does not start), then serves on server.listen with server.workers event\n"
    "loop threads. Prints 'llmproxy listening on HOST:PORT' once ready.\n"
    "\n"
    "Signals: SIGTERM/SIGINT drain (stop accepting, /ready answers 503,\n"
    "in-flight requests finish within server.drain_timeout, then exit 0);\n"
    "a second signal stops at once. SIGHUP is logged and ignored (config\n"
    "reload is not built yet).\n";

constexpr std::array kCommands{
    Command{"serve", "run the gateway", kServeUsage, &run_serve},
    Command{"check-config", "validate a config file", kCheckConfigUsage, &run_check_config},
};

}  // namespace

std::span<const Command> commands() { return kCommands; }

const Command* find_command(std::string_view name) {
  for (const auto& c : kCommands)
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace llmproxy::app
