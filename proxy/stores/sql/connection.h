// One blocking connection to a database, used only on a SqlPool thread
// (sql_pool.h): never on an event loop. Each driver (SQLite, PostgreSQL,
// MariaDB/MySQL) implements it in its own file over its C client library.
#pragma once

#include <memory>
#include <string>

#include "proxy/core/config/storage.h"
#include "proxy/stores/sql/sql.h"

namespace llmproxy::stores::sql {

class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;
  // Runs one statement. A failed statement returns its error; the
  // connection stays usable unless broken() says otherwise.
  virtual Result execute(const Statement& st) = 0;
  // The server went away (or the handle is unusable): the pool opens a new
  // connection for the next batch.
  virtual bool broken() const = 0;
};

// Opens a connection for `db` (its driver, dsn or fields). On failure:
// null, and `error` says why in an operator's words (no password in it).
std::unique_ptr<Connection> open_connection(const config::DatabaseConfig& db, std::string& error);

// Per driver (each in its own .cpp).
std::unique_ptr<Connection> open_sqlite(const config::DatabaseConfig& db, std::string& error);
std::unique_ptr<Connection> open_postgres(const config::DatabaseConfig& db, std::string& error);
std::unique_ptr<Connection> open_mysql(const config::DatabaseConfig& db, std::string& error);

}  // namespace llmproxy::stores::sql
