#include "proxy/stores/sql/connection.h"

namespace llmproxy::stores::sql {

std::unique_ptr<Connection> open_connection(const config::DatabaseConfig& db, std::string& error) {
  switch (db.driver) {
    case config::DbDriver::sqlite: return open_sqlite(db, error);
    case config::DbDriver::postgres: return open_postgres(db, error);
    case config::DbDriver::mysql: return open_mysql(db, error);
  }
  error = "unknown database driver";
  return nullptr;
}

}  // namespace llmproxy::stores::sql
