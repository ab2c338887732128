// Property tests of the JSON scanner against Boost.JSON as an oracle (used
// only here and in the fuzz target).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <boost/json.hpp>

#include "proxy/core/openai/json_scan.h"
#include "proxy/core/openai/json_test_gen.h"

namespace llmproxy::json {
namespace {

namespace bj = boost::json;

// nullopt when the oracle cannot judge (exponent overflow is a Boost limit,
// not a JSON rule).
std::optional<bool> oracle_valid(std::string_view text) {
  bj::parse_options opt;
  opt.max_depth = kMaxDepth;
  boost::system::error_code ec;
  bj::parse(text, ec, {}, opt);
  if (ec == bj::error::exponent_overflow) return std::nullopt;
  return !ec;
}

RC_GTEST_PROP(JsonScanProperty, GeneratedDocumentsAreValid, ()) {
  const std::string doc = testgen::ws() + testgen::value(4) + testgen::ws();
  RC_ASSERT(oracle_valid(doc) == std::optional<bool>(true));
  const auto v = parse(doc);
  RC_ASSERT(v.has_value());
  const std::size_t start = skip_ws(doc, 0);
  RC_ASSERT(v->raw.data() == doc.data() + start);
}

RC_GTEST_PROP(JsonScanProperty, PrefixesAreNeverInvalid, ()) {
  const std::string doc = testgen::value(4);
  for (std::size_t n = 0; n < doc.size(); ++n) {
    const auto r = scan_value(std::string_view(doc).substr(0, n), 0);
    RC_ASSERT(r.status != ScanStatus::invalid);
  }
}

RC_GTEST_PROP(JsonScanProperty, AgreesWithOracleOnMutations, ()) {
  std::string doc = testgen::value(3);
  const int edits = *rc::gen::inRange(1, 4);
  for (int e = 0; e < edits && !doc.empty(); ++e) {
    const std::size_t at = *rc::gen::inRange<std::size_t>(0, doc.size());
    const char c = *rc::gen::element<char>('"', '\\', '{', '}', '[', ']', ',', ':', ' ', '0', '-',
                                           'e', '.', 'u', 'a', '\x01', '\xc3', '\xff', '\n');
    switch (*rc::gen::inRange(0, 3)) {
      case 0: doc[at] = c; break;
      case 1: doc.insert(doc.begin() + static_cast<std::ptrdiff_t>(at), c); break;
      default: doc.erase(at, 1);
    }
  }
  const auto expected = oracle_valid(doc);
  RC_PRE(expected.has_value());
  RC_ASSERT(validate(doc) == *expected);
}

RC_GTEST_PROP(JsonScanProperty, FindMemberMatchesOracle, ()) {
  const std::string doc = "{" + testgen::key_literal() + ":" + testgen::value(2) + "," +
                          testgen::key_literal() + ":" + testgen::value(2) + "," +
                          testgen::key_literal() + ":" + testgen::value(2) + "}";
  const auto root = parse(doc);
  RC_ASSERT(root.has_value());
  const bj::object oracle = bj::parse(doc).as_object();
  for (const char* key : {"a", "b", "choices", "usage", "model", "stream", "id", "k\"ey", "", "zz"}) {
    const auto ours = find_member(*root, key);
    const auto it = oracle.find(key);
    RC_ASSERT(ours.has_value() == (it != oracle.end()));
    if (ours) {
      RC_ASSERT(bj::parse(ours->raw) == it->value());
      std::string scratch;
      if (it->value().is_string()) RC_ASSERT(*as_string(*ours, scratch) == it->value().as_string());
      if (it->value().is_int64()) RC_ASSERT(as_int64(*ours) == it->value().as_int64());
      if (it->value().is_bool()) RC_ASSERT(as_bool(*ours) == it->value().as_bool());
    }
  }
}

}  // namespace
}  // namespace llmproxy::json
