#include "proxy/core/metrics/prometheus_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace llmproxy::metrics {
namespace {

std::string number(double v) {
  std::string s;
  append_number(s, v);
  return s;
}

std::string escaped(std::string_view v) {
  std::string s;
  append_label_value(s, v);
  return s;
}

TEST(PrometheusNumber, IntegersWithoutExponent) {
  EXPECT_EQ(number(0), "0");
  EXPECT_EQ(number(-0.0), "0");
  EXPECT_EQ(number(1), "1");
  EXPECT_EQ(number(-3), "-3");
  EXPECT_EQ(number(60), "60");
  EXPECT_EQ(number(1e6), "1000000");
  EXPECT_EQ(number(1e15), "1000000000000000");
  EXPECT_EQ(number(9007199254740991.0), "9007199254740991");  // 2^53 - 1
}

TEST(PrometheusNumber, FractionsShortestRoundTrip) {
  EXPECT_EQ(number(0.005), "0.005");
  EXPECT_EQ(number(2.5), "2.5");
  EXPECT_EQ(number(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(number(1e-05), "1e-05");
  EXPECT_EQ(number(1.5e20), "1.5e+20");  // integral but beyond 2^53: exponent form
  for (double v : {0.005, 0.1 + 0.2, 1e-05, 1.5e20, 123.456, 1e-300})
    EXPECT_EQ(std::strtod(number(v).c_str(), nullptr), v) << number(v);
}

TEST(PrometheusNumber, SpecialValues) {
  EXPECT_EQ(number(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(number(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(number(std::nan("")), "NaN");
  std::string s;
  append_number(s, std::uint64_t{18446744073709551615ULL});
  append_number(s, std::int64_t{-7});
  EXPECT_EQ(s, "18446744073709551615-7");
}

TEST(PrometheusLabelValue, EscapesBackslashQuoteNewline) {
  EXPECT_EQ(escaped(R"(a\b"c)"), R"(a\\b\"c)");
  EXPECT_EQ(escaped("line1\nline2"), R"(line1\nline2)");
  EXPECT_EQ(escaped("tab\tstays"), "tab\tstays");
  EXPECT_EQ(escaped(""), "");
}

TEST(PrometheusLabelValue, KeepsUtf8ReplacesInvalidBytes) {
  EXPECT_EQ(escaped("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  const std::string r = "\xEF\xBF\xBD";  // U+FFFD
  EXPECT_EQ(escaped("a\xFF" "b"), "a" + r + "b");
  EXPECT_EQ(escaped("\xC0\x80"), r + r);             // overlong NUL
  EXPECT_EQ(escaped("\xED\xA0\x80"), r + r + r);     // surrogate U+D800
  EXPECT_EQ(escaped("\xF4\x90\x80\x80"), r + r + r + r);  // above U+10FFFF
  EXPECT_EQ(escaped("x\xE2\x82"), "x" + r + r);      // cut sequence at the end
  EXPECT_EQ(escaped("\xE2\x82\""), r + r + "\\\"");  // cut sequence before a quote
}

TEST(PrometheusLabelName, Valid) {
  EXPECT_TRUE(valid_label_name("model"));
  EXPECT_TRUE(valid_label_name("user_id2"));
  EXPECT_TRUE(valid_label_name("_x"));
  EXPECT_FALSE(valid_label_name(""));
  EXPECT_FALSE(valid_label_name("2x"));
  EXPECT_FALSE(valid_label_name("user-id"));
  EXPECT_FALSE(valid_label_name("__name__"));
}

TEST(TextWriter, FamilyWithoutSamplesWritesNothing) {
  std::string out;
  TextWriter w(out);
  w.begin_family("a_total", MetricType::counter, "A.");
  w.begin_family("b", MetricType::gauge, "B.");
  w.sample({}, std::int64_t{-2});
  EXPECT_EQ(out, "# HELP b B.\n# TYPE b gauge\nb -2\n");
}

TEST(TextWriter, CounterWithLabelsAndEscapedHelp) {
  std::string out;
  TextWriter w(out);
  w.begin_family("x_total", MetricType::counter, "Line one\nback\\slash \"quoted\".");
  const Label l1[] = {{"a", "1"}, {"b", "q\"uote"}};
  const Label l2[] = {{"a", "2"}, {"b", ""}};
  w.sample(l1, std::uint64_t{3});
  w.sample(l2, 0.25);
  EXPECT_EQ(out,
            "# HELP x_total Line one\\nback\\\\slash \"quoted\".\n"
            "# TYPE x_total counter\n"
            "x_total{a=\"1\",b=\"q\\\"uote\"} 3\n"
            "x_total{a=\"2\",b=\"\"} 0.25\n");
}

TEST(TextWriter, HistogramIsCumulativeWithInfSumCount) {
  std::string out;
  TextWriter w(out);
  w.begin_family("d_seconds", MetricType::histogram, "D.");
  const double bounds[] = {0.1, 1, 2.5};
  const std::uint64_t counts[] = {2, 0, 3, 4};  // per bucket; the last is above 2.5
  const Label l[] = {{"route", "chat"}};
  w.histogram(l, bounds, counts, 42.5);
  w.histogram({}, std::span<const double>(), std::span<const std::uint64_t>(counts, 1), 0.125);
  EXPECT_EQ(out,
            "# HELP d_seconds D.\n"
            "# TYPE d_seconds histogram\n"
            "d_seconds_bucket{route=\"chat\",le=\"0.1\"} 2\n"
            "d_seconds_bucket{route=\"chat\",le=\"1\"} 2\n"
            "d_seconds_bucket{route=\"chat\",le=\"2.5\"} 5\n"
            "d_seconds_bucket{route=\"chat\",le=\"+Inf\"} 9\n"
            "d_seconds_sum{route=\"chat\"} 42.5\n"
            "d_seconds_count{route=\"chat\"} 9\n"
            "d_seconds_bucket{le=\"+Inf\"} 2\n"
            "d_seconds_sum 0.125\n"
            "d_seconds_count 2\n");
}

TEST(TextWriter, AppendsToExistingText) {
  std::string out = "keep\n";
  TextWriter w(out);
  w.begin_family("g", MetricType::gauge, "G.");
  w.sample({}, 1.0);
  EXPECT_EQ(out, "keep\n# HELP g G.\n# TYPE g gauge\ng 1\n");
}

}  // namespace
}  // namespace llmproxy::metrics
