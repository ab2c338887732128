// storage.databases[].dsn for the mysql driver (MariaDB or MySQL), in either
// of the two forms users bring:
//   mysql://user:password@host:port/database   (also mariadb://; percent-
//                                               escapes in user and password)
//   user:password@tcp(host:port)/database       (the Go driver's form, which
//                                               the original project used)
// A trailing ?query is accepted and ignored. Port defaults to 3306, host to
// 127.0.0.1. Pure; anything else is an error naming what is wrong.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace llmproxy::stores::sql {

struct MysqlTarget {
  std::string host = "127.0.0.1";
  int port = 3306;
  std::string user;
  std::string password;
  std::string database;
};

std::optional<MysqlTarget> parse_mysql_dsn(std::string_view dsn, std::string& error);

}  // namespace llmproxy::stores::sql
