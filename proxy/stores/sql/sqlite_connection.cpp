// SQLite: the embedded default. A file in WAL mode, so readers on the
// pool's other connections are not blocked by a writer; writers wait for
// each other up to the busy timeout instead of failing at once.
#include <sqlite3.h>

#include "proxy/stores/sql/connection.h"

namespace llmproxy::stores::sql {
namespace {

constexpr int kBusyTimeoutMs = 5000;

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override { sqlite3_close_v2(db_); }

  Dialect dialect() const override { return Dialect::sqlite; }
  bool broken() const override { return false; }  // a file does not go away between calls

  Result execute(const Statement& st) override {
    Result r;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, st.sql.c_str(), static_cast<int>(st.sql.size()), &stmt, nullptr) != SQLITE_OK) {
      r.error = sqlite3_errmsg(db_);
      return r;
    }
    if (!bind(stmt, st, r)) {
      sqlite3_finalize(stmt);
      return r;
    }
    const int ncol = sqlite3_column_count(stmt);
    for (int i = 0; i < ncol; ++i) r.columns.emplace_back(sqlite3_column_name(stmt, i));
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        r.error = sqlite3_errmsg(db_);
        r.rows.clear();
        break;
      }
      r.rows.push_back(row(stmt, ncol));
    }
    if (r.ok()) r.affected = sqlite3_changes64(db_);
    sqlite3_finalize(stmt);
    return r;
  }

 private:
  static bool bind(sqlite3_stmt* stmt, const Statement& st, Result& r) {
    if (static_cast<int>(st.params.size()) != sqlite3_bind_parameter_count(stmt)) {
      r.error = "statement has " + std::to_string(sqlite3_bind_parameter_count(stmt)) + " placeholders, " +
                std::to_string(st.params.size()) + " values given";
      return false;
    }
    for (std::size_t i = 0; i < st.params.size(); ++i) {
      const int at = static_cast<int>(i) + 1;
      const Value& v = st.params[i];
      int rc = SQLITE_OK;
      if (const auto* n = std::get_if<std::int64_t>(&v)) rc = sqlite3_bind_int64(stmt, at, *n);
      else if (const auto* d = std::get_if<double>(&v)) rc = sqlite3_bind_double(stmt, at, *d);
      else if (const auto* s = std::get_if<std::string>(&v))
        rc = sqlite3_bind_text64(stmt, at, s->data(), s->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      else rc = sqlite3_bind_null(stmt, at);
      if (rc != SQLITE_OK) {
        r.error = "binding parameter " + std::to_string(at) + " failed";
        return false;
      }
    }
    return true;
  }

  static std::vector<Value> row(sqlite3_stmt* stmt, int ncol) {
    std::vector<Value> out;
    out.reserve(static_cast<std::size_t>(ncol));
    for (int i = 0; i < ncol; ++i) {
      switch (sqlite3_column_type(stmt, i)) {
        case SQLITE_INTEGER: out.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(stmt, i))); break;
        case SQLITE_FLOAT: out.emplace_back(sqlite3_column_double(stmt, i)); break;
        case SQLITE_NULL: out.emplace_back(std::monostate{}); break;
        default: {
          const auto* p = reinterpret_cast<const char*>(sqlite3_column_blob(stmt, i));
          out.emplace_back(std::string(p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt, i))));
        }
      }
    }
    return out;
  }

  sqlite3* db_;
};

}  // namespace

std::unique_ptr<Connection> open_sqlite(const config::DatabaseConfig& db, std::string& error) {
  const std::string path = !db.path.empty() ? db.path : (!db.database.empty() ? db.database : db.dsn.value);
  if (path.empty()) {
    error = "sqlite needs `path` (the database file)";
    return nullptr;
  }
  sqlite3* handle = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &handle, flags, nullptr) != SQLITE_OK) {
    error = "cannot open sqlite file " + path + ": " + (handle ? sqlite3_errmsg(handle) : "out of memory");
    sqlite3_close_v2(handle);
    return nullptr;
  }
  sqlite3_busy_timeout(handle, kBusyTimeoutMs);
  char* msg = nullptr;
  if (sqlite3_exec(handle, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", nullptr,
                   nullptr, &msg) != SQLITE_OK) {
    error = "sqlite file " + path + ": " + (msg ? msg : "PRAGMA failed");
    sqlite3_free(msg);
    sqlite3_close_v2(handle);
    return nullptr;
  }
  return std::make_unique<SqliteConnection>(handle);
}

}  // namespace llmproxy::stores::sql
