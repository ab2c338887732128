// The per-field checks for text that ends up in HTTP heads: header names must
// be tokens, header values one line without controls.
#include "proxy/core/config/checks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace llmproxy::config;
using ::testing::HasSubstr;

TEST(HeaderName, AcceptsTokens) {
  for (const char* name : {"X-Key", "Authorization", "x_custom.1", "!#$%&'*+-.^_`|~", "A"})
    EXPECT_EQ(check::header_name(name), "") << name;
}

TEST(HeaderName, NamesTheOffendingCharacter) {
  const std::string rule = "; header names may use only letters, digits and !#$%&'*+-.^_`|~";
  EXPECT_EQ(check::header_name("X Key"), "header name contains a space" + rule);
  EXPECT_EQ(check::header_name("X-Key:"), "header name contains ':'" + rule);
  EXPECT_EQ(check::header_name(std::string("X\0K", 3)), "header name contains a control character (NUL)" + rule);
  EXPECT_EQ(check::header_name("X\x1b"), "header name contains a control character (0x1B)" + rule);
  EXPECT_EQ(check::header_name("X\x7f"), "header name contains a control character (DEL)" + rule);
  EXPECT_EQ(check::header_name("\xc3\x9c"), "header name contains a non-ASCII character" + rule);
  EXPECT_EQ(check::header_name("X\tK"), "header name contains a tab" + rule);
  EXPECT_EQ(check::header_name(""), "header name must not be empty");
}

TEST(HeaderName, ALineBreakIsNamedEvenAfterOtherBadCharacters) {
  EXPECT_THAT(check::header_name("X Y\r\nInjected: 1"), HasSubstr("contains a line break (CR/LF)"));
  EXPECT_THAT(check::header_name("X\n"), HasSubstr("contains a line break (CR/LF)"));
}

TEST(HeaderValue, AcceptsVisibleTextSpacesTabsAndUtf8) {
  for (const char* value : {"", "Bearer sk-abc", "a\tb", " padded ", "ünï©ødé 测试", "\"quoted\"; q=0.5"})
    EXPECT_EQ(check::header_value(value), "") << value;
}

TEST(HeaderValue, RejectsLineBreaks) {
  const std::string inside = "value contains a line break (CR/LF); header values must be one line";
  EXPECT_EQ(check::header_value("a\r\nX-Injected: 1"), inside);
  EXPECT_EQ(check::header_value("a\nb"), inside);
  EXPECT_EQ(check::header_value("a\rb"), inside);
  EXPECT_EQ(check::header_value("\nsecret"), inside);
  // The usual case: a secret read from a file, newline and all.
  const std::string trailing =
      "value ends with a line break (CR/LF), as text read from a file often does; header values must be one line";
  EXPECT_EQ(check::header_value("s3cr3t\n"), trailing);
  EXPECT_EQ(check::header_value("s3cr3t\r\n"), trailing);
  EXPECT_EQ(check::header_value("\n"), trailing);
}

TEST(HeaderValue, RejectsOtherControls) {
  const std::string rule = "; header values may hold only visible characters, spaces and tabs";
  EXPECT_EQ(check::header_value(std::string("a\0b", 3)), "value contains a control character (NUL)" + rule);
  EXPECT_EQ(check::header_value("a\x1b[31m"), "value contains a control character (0x1B)" + rule);
  EXPECT_EQ(check::header_value("a\x7f"), "value contains a control character (DEL)" + rule);
  EXPECT_EQ(check::header_value("a\x0b"), "value contains a control character (0x0B)" + rule);
}

TEST(HeaderLists, ReportTheFirstBadItemByIndex) {
  EXPECT_EQ(check::header_name_list({"Authorization", "*", "X-Key"}), "");
  EXPECT_THAT(check::header_name_list({"Authorization", "X Key"}), HasSubstr("[1]: header name contains a space"));
  EXPECT_EQ(check::header_value_list({"*", "https://a.example"}), "");
  EXPECT_THAT(check::header_value_list({"https://a.example\r\n"}), HasSubstr("[0]: value ends with a line break"));
  EXPECT_EQ(check::method_token_list({"GET", "POST", "*"}), "");
  EXPECT_EQ(check::method_token_list({"GET", "PO\nST"}),
            "[1]: method contains a line break (CR/LF); methods may use only letters, digits and !#$%&'*+-.^_`|~");
}
