// The shipped examples and the reference config of the spec must load
// without schema errors (they may use features not built yet), and printing
// them must be a fixpoint.
#include <gtest/gtest.h>

#include <filesystem>

#include "proxy/core/config/load.h"
#include "proxy/core/config/print.h"
#include "proxy/core/config/test_env.h"

namespace fs = std::filesystem;
using namespace llmproxy::config;
using llmproxy::config::testing::fake_env;
using llmproxy::config::testing::read_file;
using llmproxy::config::testing::test_path;

namespace {

std::string schema_errors(const LoadResult& r) {
  std::string out;
  for (const auto& d : r.diagnostics)
    if (d.kind == Diagnostic::Kind::schema) out += format_diagnostic(d) + "\n";
  return out;
}

void expect_print_fixpoint(const LoadResult& r, const std::string& base_dir) {
  ASSERT_NE(r.config, nullptr);
  const std::string once = print_config(*r.config, false);
  const LoadResult back = load_config_string(once, "printed.yaml", base_dir, fake_env({}));
  ASSERT_NE(back.config, nullptr) << schema_errors(back) << once;
  EXPECT_EQ(print_config(*back.config, false), once);
  EXPECT_EQ(*back.config, *r.config);
}

}  // namespace

TEST(Examples, QuickstartIsClean) {
  const std::string path = test_path("LLMPROXY_EXAMPLES_DIR") + "/quickstart.yaml";
  const LoadResult r = load_config_file(path, fake_env({}));
  EXPECT_TRUE(r.ok()) << schema_errors(r);
  EXPECT_TRUE(r.diagnostics.empty());
  expect_print_fixpoint(r, test_path("LLMPROXY_EXAMPLES_DIR"));
}

TEST(Examples, EveryExampleHasNoSchemaErrors) {
  const fs::path dir = test_path("LLMPROXY_EXAMPLES_DIR");
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".yaml") continue;
    ++n;
    SCOPED_TRACE(e.path().string());
    const LoadResult r = load_config_file(e.path().string(), fake_env({}));
    EXPECT_FALSE(r.has_schema_errors()) << schema_errors(r);
    expect_print_fixpoint(r, dir.string());
  }
  EXPECT_GE(n, 2);
}

TEST(Examples, FullExampleReportsOnlyUnbuiltFeatures) {
  const std::string path = test_path("LLMPROXY_EXAMPLES_DIR") + "/full.yaml";
  const LoadResult r = load_config_file(path, fake_env({}));
  EXPECT_FALSE(r.has_schema_errors()) << schema_errors(r);
  EXPECT_FALSE(r.diagnostics.empty());
}

TEST(Examples, SpecReferenceConfigHasNoSchemaErrors) {
  const std::string path = test_path("LLMPROXY_REFERENCE_CONFIG");
  ASSERT_TRUE(fs::exists(path)) << "shared/spec/config-reference.yaml not found at '" << path
                                << "' (CI puts shared/ beside the clone)";
  const LoadResult r = load_config_file(path, fake_env({}));
  EXPECT_FALSE(r.has_schema_errors()) << schema_errors(r);
  expect_print_fixpoint(r, fs::path(path).parent_path().string());
}
