// `llmproxy check-config FILE [--print]`: see commands.cpp for the usage text.
#pragma once

#include <iosfwd>
#include <string>

#include "proxy/core/util/env_expand.h"

namespace llmproxy::app {

// The command without process globals, for tests: returns the exit status.
int check_config(const std::string& file, bool print, const util::EnvLookup& env, std::ostream& out,
                 std::ostream& err);

}  // namespace llmproxy::app
