#include "conformance/harness/config_text.h"

#include <map>
#include <sstream>

#include "proxy/core/config/print.h"

namespace llmproxy::harness {
namespace {

// print_config's text cut at its top-level keys (lines that start a key at
// column 0), in document order.
std::vector<std::pair<std::string, std::string>> sections(const std::string& yaml) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(yaml);
  for (std::string line; std::getline(in, line);) {
    const bool top = !line.empty() && line[0] != ' ' && line[0] != '-' && line[0] != '#';
    if (top) out.emplace_back(line.substr(0, line.find(':')), "");
    if (!out.empty()) out.back().second += line + "\n";
  }
  return out;
}

}  // namespace

std::string changed_sections_yaml(const config::Config& c) {
  std::map<std::string, std::string> defaults;
  for (auto& [key, text] : sections(config::print_config(config::Config{}, false))) defaults[key] = text;
  std::string out;
  for (const auto& [key, text] : sections(config::print_config(c, false)))
    if (defaults[key] != text) out += text;
  return out;
}

}  // namespace llmproxy::harness
