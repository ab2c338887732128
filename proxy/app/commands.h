// The llmproxy sub-commands. main() dispatches on argv[1] through commands();
// each command gets its own argc/argv with argv[0] = the command's name.
// Adding a command = one row in commands.cpp plus its run function.
#pragma once

#include <span>
#include <string_view>

namespace llmproxy::app {

struct Command {
  std::string_view name;
  std::string_view summary;  // one line for `llmproxy --help`
  std::string_view usage;    // full text for `llmproxy help <name>`
  int (*run)(int argc, char** argv);
};

std::span<const Command> commands();
const Command* find_command(std::string_view name);

// Exit codes shared by all commands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitProblems = 1;  // the command ran and found problems
inline constexpr int kExitUsage = 2;     // bad command line

int run_check_config(int argc, char** argv);  // check_config.cpp
int run_serve(int argc, char** argv);         // added by the server's owner
int run_conform(int argc, char** argv);       // added by the conformance owner

}  // namespace llmproxy::app
