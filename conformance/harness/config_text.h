// A config::Config drawn in code (a property's settings) as the YAML a user
// would write: only the top-level sections that differ from the defaults,
// each as config::print_config prints it. Loading the text gives back the
// same Config, which the properties check before running it
// (composition.h, use_config), so the kept case's config file is exactly
// the config the property ran, and short enough to read.
#pragma once

#include <string>

#include "proxy/core/config/config.h"

namespace llmproxy::harness {

std::string changed_sections_yaml(const config::Config& c);

}  // namespace llmproxy::harness
