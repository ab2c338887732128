#include "proxy/core/openai/json_scan.h"

#include <gtest/gtest.h>

#include <string>

namespace llmproxy::json {
namespace {

TEST(JsonScan, AcceptsValidDocuments) {
  for (const char* doc : {"{}", "[]", " 1 ", "-0", "0.5e-3", "1E+9", "\"\"", "true", "false", "null",
                          R"({"a":[1,2,{"b":null}],"c":"\u00e9\ud83d\ude00"})", "\"\xc3\xa9\"",
                          "[\"\\/\\b\\f\\n\\r\\t\\\\\\\"\"]", "\t\r\n{\"a\" : 1 }\n"}) {
    EXPECT_TRUE(validate(doc)) << doc;
  }
}

TEST(JsonScan, RejectsInvalidDocuments) {
  for (const char* doc : {"", " ", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "+1", "1e", "--1",
                          "tru", "nul", "NaN", "{'a':1}", "{\"a\" 1}", "[1 2]", "\"\t\"",
                          "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\xc0\x80\"",
                          "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xff\"", "{} x", "1 2",
                          "// c\n1", "{\"a\":1}}"}) {
    EXPECT_FALSE(validate(doc)) << doc;
  }
}

TEST(JsonScan, LaxUtf8AcceptsAnyHighByteInStrings) {
  const std::string bad = "{\"content\":\"caf\xc3\",\"x\":\"\xff\xfe\"}";
  EXPECT_FALSE(validate(bad));
  const auto v = parse(bad, Utf8::lax);
  ASSERT_TRUE(v);
  EXPECT_EQ(find_member(*v, "x")->raw, "\"\xff\xfe\"");
  EXPECT_FALSE(parse("\"\x01\"", Utf8::lax));  // controls stay invalid
  EXPECT_FALSE(parse("\xff", Utf8::lax));        // and so do bytes outside strings
}

TEST(JsonScan, DepthLimitIs64Containers) {
  const std::string ok = std::string(64, '[') + std::string(64, ']');
  const std::string deep = std::string(65, '[') + std::string(65, ']');
  EXPECT_TRUE(validate(ok));
  EXPECT_FALSE(validate(deep));
  std::string objects;
  for (int i = 0; i < 65; ++i) objects += "{\"a\":";
  objects += "1";
  objects += std::string(65, '}');
  EXPECT_FALSE(validate(objects));
}

TEST(JsonScan, DistinguishesTruncatedFromInvalid) {
  EXPECT_EQ(scan_value(R"({"a":[1,)", 0).status, ScanStatus::truncated);
  EXPECT_EQ(scan_value(R"({"a":"x\u12)", 0).status, ScanStatus::truncated);
  EXPECT_EQ(scan_value("\"\xe2\x82", 0).status, ScanStatus::truncated);
  EXPECT_EQ(scan_value("[tr", 0).status, ScanStatus::truncated);
  EXPECT_EQ(scan_value("[1e", 0).status, ScanStatus::truncated);
  EXPECT_EQ(scan_value("{\"a\":1]", 0).status, ScanStatus::invalid);
  EXPECT_EQ(scan_value("[tx", 0).status, ScanStatus::invalid);
  EXPECT_EQ(scan_value("\"\\ud800x", 0).status, ScanStatus::invalid);
}

TEST(JsonScan, FindMemberReturnsLastDuplicate) {
  const auto doc = parse(R"({"a":1,"b":{"c":true},"a":2})");
  ASSERT_TRUE(doc);
  EXPECT_EQ(find_member(*doc, "a")->raw, "2");
  const auto b = find_member(*doc, "b");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->kind, Kind::object);
  EXPECT_EQ(as_bool(*find_member(*b, "c")), true);
  EXPECT_FALSE(find_member(*doc, "z"));
}

TEST(JsonScan, KeysCompareDecoded) {
  EXPECT_TRUE(string_equals(R"("\u006dodel")", "model"));
  EXPECT_TRUE(string_equals(R"("a\"b")", "a\"b"));
  EXPECT_TRUE(string_equals(R"("\ud83d\ude00")", "\xf0\x9f\x98\x80"));
  EXPECT_FALSE(string_equals(R"("\u006dodel")", "mode"));
  EXPECT_FALSE(string_equals(R"("model")", "models"));
  const auto doc = parse(R"({"\u006dodel":"x"})");
  EXPECT_EQ(find_member(*doc, "model")->raw, "\"x\"");
}

TEST(JsonScan, Int64Getter) {
  auto num = [](const char* s) { return as_int64(*parse(s)); };
  EXPECT_EQ(num("0"), 0);
  EXPECT_EQ(num("-0"), 0);
  EXPECT_EQ(num("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(num("-9223372036854775808"), INT64_MIN);
  EXPECT_FALSE(num("9223372036854775808"));
  EXPECT_FALSE(num("-9223372036854775809"));
  EXPECT_FALSE(num("1.0"));
  EXPECT_FALSE(num("1e2"));
  EXPECT_FALSE(num("\"1\""));
}

TEST(JsonScan, StringGetterIsZeroCopyWithoutEscapes) {
  std::string scratch;
  const std::string doc = R"("plain")";
  const auto v = parse(doc);
  const auto s = as_string(*v, scratch);
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, "plain");
  EXPECT_EQ(s->data(), doc.data() + 1);
  const auto e = as_string(*parse(R"("a\nb\u00e9\ud83d\ude00\/")"), scratch);
  EXPECT_EQ(*e, "a\nb\xc3\xa9\xf0\x9f\x98\x80/");
  EXPECT_FALSE(as_string(*parse("1"), scratch));
}

TEST(JsonScan, ObjectCursorResumesAfterTruncation) {
  std::string text = R"({"a":1,"b":"xy)";
  ObjectCursor cursor(text, 0);
  Member m;
  ASSERT_EQ(cursor.next(m), ObjectCursor::Step::member);
  EXPECT_EQ(m.value.raw, "1");
  EXPECT_EQ(cursor.next(m), ObjectCursor::Step::truncated);
  std::string_view key;
  std::size_t value_pos = 0;
  ASSERT_EQ(cursor.peek_key(key, value_pos), ObjectCursor::Step::member);
  EXPECT_EQ(key, "\"b\"");
  EXPECT_EQ(text[value_pos], '"');
  text += "z\"}";
  cursor.rebind(text);
  ASSERT_EQ(cursor.next(m), ObjectCursor::Step::member);
  EXPECT_EQ(m.value.raw, "\"xyz\"");
  EXPECT_EQ(cursor.next(m), ObjectCursor::Step::end);
  EXPECT_EQ(cursor.position(), text.size());
}

}  // namespace
}  // namespace llmproxy::json
