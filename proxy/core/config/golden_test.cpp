// Golden tests of the loader's diagnostics: every testdata/broken/NAME.yaml
// has a sibling NAME.expected with the exact lines `check-config` would print
// (file name relative). To regenerate after an intended change:
//   LLMPROXY_UPDATE_GOLDEN=1 build/proxy/core/config/config_golden_test
// and review the diff.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include "proxy/core/config/load.h"
#include "proxy/core/config/test_env.h"

namespace fs = std::filesystem;
using namespace llmproxy::config;
using llmproxy::config::testing::fake_env;
using llmproxy::config::testing::read_file;
using llmproxy::config::testing::test_path;

namespace {

std::vector<fs::path> broken_configs() {
  std::vector<fs::path> files;
  const fs::path dir = fs::path(test_path("LLMPROXY_CONFIG_TESTDATA")) / "broken";
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string diagnostics_text(const fs::path& file) {
  const LoadResult r =
      load_config_string(read_file(file.string()), file.filename().string(), file.parent_path().string(), fake_env());
  std::string text;
  for (const auto& d : r.diagnostics) text += format_diagnostic(d) + "\n";
  return text;
}

}  // namespace

TEST(Golden, BrokenConfigsReportExactlyTheExpectedDiagnostics) {
  const auto files = broken_configs();
  ASSERT_GE(files.size(), 10u) << "testdata not found; is LLMPROXY_CONFIG_TESTDATA set?";
  const bool update = std::getenv("LLMPROXY_UPDATE_GOLDEN") != nullptr;
  for (const auto& file : files) {
    SCOPED_TRACE(file.filename().string());
    const std::string actual = diagnostics_text(file);
    EXPECT_FALSE(actual.empty()) << "a broken config must produce at least one diagnostic";
    fs::path expected_file = file;
    expected_file.replace_extension(".expected");
    if (update) {
      std::ofstream(expected_file, std::ios::binary) << actual;
      continue;
    }
    ASSERT_TRUE(fs::exists(expected_file)) << "missing " << expected_file << " (run with LLMPROXY_UPDATE_GOLDEN=1)";
    EXPECT_EQ(actual, read_file(expected_file.string()));
  }
}
