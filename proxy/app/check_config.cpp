#include "proxy/app/check_config.h"

#include <iostream>
#include <string_view>

#include "proxy/app/commands.h"
#include "proxy/core/config/load.h"
#include "proxy/core/config/print.h"

namespace llmproxy::app {

int check_config(const std::string& file, bool print, const util::EnvLookup& env, std::ostream& out,
                 std::ostream& err) {
  const config::LoadResult result = config::load_config_file(file, env);
  for (const auto& d : result.diagnostics) err << config::format_diagnostic(d) << '\n';
  if (print && result.config) out << config::print_config(*result.config, /*redact_secrets=*/true);
  if (result.diagnostics.empty()) {
    err << file << ": OK\n";
    return kExitOk;
  }
  const std::size_t problems = result.problem_count();  // with those not shown
  err << file << ": " << problems << (problems == 1 ? " problem\n" : " problems\n");
  return kExitProblems;
}

int run_check_config(int argc, char** argv) {
  const Command* self = find_command("check-config");
  std::string file;
  bool print = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << self->usage;
      return kExitOk;
    }
    if (arg == "--print") {
      print = true;
    } else if (!arg.empty() && arg.front() == '-' && arg != "-") {
      std::cerr << "llmproxy check-config: unknown option '" << arg << "'\n" << self->usage;
      return kExitUsage;
    } else if (file.empty()) {
      file = std::string(arg);
    } else {
      std::cerr << "llmproxy check-config: only one FILE may be given\n" << self->usage;
      return kExitUsage;
    }
  }
  if (file.empty()) {
    std::cerr << "llmproxy check-config: missing FILE\n" << self->usage;
    return kExitUsage;
  }
  if (file == "-") file = "/dev/stdin";
  return check_config(file, print, util::process_env(), std::cout, std::cerr);
}

}  // namespace llmproxy::app
