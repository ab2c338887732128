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

constexpr std::string_view kConformUsage =
    "usage: llmproxy conform [--config FILE] --scenario PATH... [--seeds N | --seed S]\n"
    "                        [--report junit.xml] [--baseline OLD.yaml]\n"
    "\n"
    "Runs each scenario (a YAML file, or every *.yaml in a folder) against the\n"
    "gateway of FILE, unmodified, in the simulator: every backend URL of the\n"
    "config is served by a fake that behaves as the scenario says, on virtual\n"
    "time. Prints a pass/fail table; for a failure, what failed, the request's\n"
    "attempt trace and the command that replays it. See docs/conform.md.\n"
    "\n"
    "  --config FILE      the gateway config (default: the scenario's `config:`)\n"
    "  --scenario PATH... scenario files or folders\n"
    "  --seeds N          run seeds 1..N (default: the scenario's `seeds:`)\n"
    "  --seed S           run seed S only (replay)\n"
    "  --report FILE      also write JUnit XML\n"
    "  --baseline OLD     run the same seeds on config OLD and print the\n"
    "                     behavioural difference (errors, shares, failover,\n"
    "                     429s, latency)\n"
    "\n"
    "Exit status: 0 every run passed, 1 a run failed, 2 bad command line,\n"
    "scenario or config.\n";

constexpr std::array kCommands{
    Command{"serve", "run the gateway", kServeUsage, &run_serve},
    Command{"check-config", "validate a config file", kCheckConfigUsage, &run_check_config},
    Command{"conform", "run failure scenarios against a config in the simulator", kConformUsage, &run_conform},
};

}  // namespace

std::span<const Command> commands() { return kCommands; }

const Command* find_command(std::string_view name) {
  for (const auto& c : kCommands)
    if (c.name == name) return &c;
  return nullptr;
}

}  // namespace llmproxy::app
