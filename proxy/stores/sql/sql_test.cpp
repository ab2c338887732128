// The SQL seam's pure parts: placeholder numbering, cell readers, the mysql
// dsn forms.
#include <gtest/gtest.h>

#include "proxy/stores/sql/mysql_dsn.h"
#include "proxy/stores/sql/sql.h"

using namespace llmproxy::stores::sql;

TEST(Placeholders, AreNumberedOutsideQuotesAndComments) {
  EXPECT_EQ(number_placeholders("SELECT a FROM t WHERE a = ? AND b = ?"),
            "SELECT a FROM t WHERE a = $1 AND b = $2");
  EXPECT_EQ(number_placeholders("SELECT '?', \"?\" -- ?\n , ? /* ? */ , ?"),
            "SELECT '?', \"?\" -- ?\n , $1 /* ? */ , $2");
  EXPECT_EQ(number_placeholders("SELECT 'it''s ?', ?"), "SELECT 'it''s ?', $1");
  EXPECT_EQ(number_placeholders("SELECT 'unterminated ?"), "SELECT 'unterminated ?");
  EXPECT_EQ(number_placeholders(""), "");
}

TEST(Cells, ReadAcrossDriverTypes) {
  EXPECT_EQ(as_int(Value{std::int64_t{7}}), 7);
  EXPECT_EQ(as_int(Value{std::string("42")}), 42);
  EXPECT_EQ(as_int(Value{std::string("4x")}, -1), -1);
  EXPECT_EQ(as_int(Value{}, -1), -1);
  EXPECT_EQ(as_int(Value{2.9}), 2);
  EXPECT_TRUE(is_null(Value{}));
  EXPECT_EQ(as_text(Value{std::int64_t{-3}}), "-3");
  EXPECT_EQ(as_text(Value{}), "");
}

TEST(MysqlDsn, UrlForm) {
  std::string error;
  auto t = parse_mysql_dsn("mysql://gw:p%40ss@db.internal:3307/llm?parseTime=true", error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->user, "gw");
  EXPECT_EQ(t->password, "p@ss");
  EXPECT_EQ(t->host, "db.internal");
  EXPECT_EQ(t->port, 3307);
  EXPECT_EQ(t->database, "llm");
  t = parse_mysql_dsn("mariadb://root@[::1]/x", error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->host, "::1");
  EXPECT_EQ(t->port, 3306);
  EXPECT_EQ(t->password, "");
}

TEST(MysqlDsn, GoForm) {
  std::string error;
  auto t = parse_mysql_dsn("gw:se:cret@tcp(10.0.0.5:3306)/llmproxy?charset=utf8mb4", error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->user, "gw");
  EXPECT_EQ(t->password, "se:cret");
  EXPECT_EQ(t->host, "10.0.0.5");
  EXPECT_EQ(t->database, "llmproxy");
  t = parse_mysql_dsn("gw@/llmproxy", error);
  ASSERT_TRUE(t) << error;
  EXPECT_EQ(t->host, "127.0.0.1");
}

TEST(MysqlDsn, MistakesAreNamed) {
  std::string error;
  EXPECT_FALSE(parse_mysql_dsn("gw:x@unix(/tmp/s)/db", error));
  EXPECT_EQ(error, "expected tcp(host:port) before /database");
  EXPECT_FALSE(parse_mysql_dsn("mysql://h:99999/db", error));
  EXPECT_EQ(error, "port must be 1-65535");
  EXPECT_FALSE(parse_mysql_dsn("mysql://u%zz@h/db", error));
  EXPECT_EQ(error, "bad %-escape in user or password");
  EXPECT_FALSE(parse_mysql_dsn("mysql://h/db/x", error));
}
