// For tests that run against every SQL driver (suite `db`, and SQLite in
// `unit`): which drivers this run covers and where each database is.
//   LLMPROXY_SQL_DRIVERS   comma-separated: sqlite, postgres, mysql
//                          (unset: sqlite only)
//   LLMPROXY_TEST_POSTGRES, LLMPROXY_TEST_MYSQL
//                          the dsn of the servers scripts/services.sh starts
// SQLite uses a file in a per-process temp dir, removed at exit. A driver
// named without its server throws: a failure, never a skip.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "proxy/core/config/storage.h"

namespace llmproxy::stores::sql::testing {

inline std::vector<std::string> drivers_under_test() {
  const char* env = std::getenv("LLMPROXY_SQL_DRIVERS");
  std::vector<std::string> out;
  std::stringstream in(env ? env : "sqlite");
  for (std::string d; std::getline(in, d, ',');)
    if (!d.empty()) out.push_back(d);
  return out;
}

inline std::filesystem::path temp_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("llmproxy-sqltest-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(
          std::filesystem::temp_directory_path() / ("llmproxy-sqltest-" + std::to_string(::getpid())), ignored);
    });
    return d;
  }();
  return dir;
}

// The database of `driver` for a test; `file` names the SQLite file.
inline config::DatabaseConfig test_database(const std::string& driver, const std::string& file,
                                            int max_open_conns) {
  config::DatabaseConfig db;
  db.name = file + "-" + driver;
  db.max_open_conns = max_open_conns;
  if (driver == "sqlite") {
    db.driver = config::DbDriver::sqlite;
    db.path = (temp_dir() / (file + ".db")).string();
    return db;
  }
  const char* var = driver == "postgres" ? "LLMPROXY_TEST_POSTGRES" : "LLMPROXY_TEST_MYSQL";
  const char* dsn = std::getenv(var);
  if (!dsn || !*dsn) throw std::runtime_error(std::string(var) + " is not set: run the tests through scripts/test");
  db.driver = driver == "postgres" ? config::DbDriver::postgres : config::DbDriver::mysql;
  db.dsn.value = dsn;
  return db;
}

// Runs a coroutine to its end on a real io_context (a store completes on
// the caller's executor, as on a worker's event loop). Check results after
// it: GCC 12 miscompiles some gtest macros inside coroutine bodies.
template <class F>
void run_to_end(F body) {
  boost::asio::io_context io;
  boost::asio::co_spawn(io, body, boost::asio::detached);
  io.run();
}

}  // namespace llmproxy::stores::sql::testing
