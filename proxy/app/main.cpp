// llmproxy: one binary, several sub-commands (BEHAVIOR §13).
#include <iostream>
#include <string_view>

#include "proxy/app/commands.h"

#ifndef LLMPROXY_VERSION
#define LLMPROXY_VERSION "unknown"
#endif

namespace {

using llmproxy::app::commands;
using llmproxy::app::find_command;

void print_usage(std::ostream& out) {
  out << "usage: llmproxy <command> [args]\n"
         "       llmproxy --version | --help | help <command>\n"
         "\n"
         "commands:\n";
  for (const auto& c : commands()) {
    out << "  " << c.name;
    for (std::size_t pad = c.name.size(); pad < 14; ++pad) out << ' ';
    out << c.summary << '\n';
  }
}

}  // namespace

int main(int argc, char** argv) {
  namespace app = llmproxy::app;
  if (argc < 2) {
    print_usage(std::cerr);
    return app::kExitUsage;
  }
  const std::string_view first = argv[1];
  if (first == "--version" || first == "-V" || first == "version") {
    std::cout << "llmproxy " << LLMPROXY_VERSION << '\n';
    return app::kExitOk;
  }
  if (first == "--help" || first == "-h") {
    print_usage(std::cout);
    return app::kExitOk;
  }
  if (first == "help") {
    if (argc < 3) {
      print_usage(std::cout);
      return app::kExitOk;
    }
    if (const auto* c = find_command(argv[2])) {
      std::cout << c->usage;
      return app::kExitOk;
    }
    std::cerr << "llmproxy: unknown command '" << argv[2] << "'\n";
    print_usage(std::cerr);
    return app::kExitUsage;
  }
  if (const auto* c = find_command(first)) return c->run(argc - 1, argv + 1);
  std::cerr << "llmproxy: unknown command '" << first << "'\n";
  print_usage(std::cerr);
  return app::kExitUsage;
}
