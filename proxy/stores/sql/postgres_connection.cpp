// PostgreSQL through libpq, blocking, on a pool thread. Parameters travel
// separately from the SQL text (PQexecParams), in text form.
#include <libpq-fe.h>

#include <cstdlib>

#include "proxy/stores/sql/connection.h"

namespace llmproxy::stores::sql {
namespace {

// PostgreSQL type oids (pg_type.dat) of the columns returned as numbers.
constexpr Oid kInt8 = 20, kInt2 = 21, kInt4 = 23, kFloat4 = 700, kFloat8 = 701, kNumeric = 1700, kBool = 16;

class PostgresConnection final : public Connection {
 public:
  explicit PostgresConnection(PGconn* conn) : conn_(conn) {}
  ~PostgresConnection() override { PQfinish(conn_); }

  Dialect dialect() const override { return Dialect::postgres; }
  bool broken() const override { return PQstatus(conn_) != CONNECTION_OK; }

  Result execute(const Statement& st) override {
    std::vector<std::string> text(st.params.size());
    std::vector<const char*> values(st.params.size(), nullptr);
    for (std::size_t i = 0; i < st.params.size(); ++i) {
      if (is_null(st.params[i])) continue;
      text[i] = as_text(st.params[i]);
      values[i] = text[i].c_str();
    }
    const std::string sql = number_placeholders(st.sql);
    PGresult* res = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                 nullptr, nullptr, 0);
    Result r = collect(res);
    PQclear(res);
    return r;
  }

 private:
  Result collect(PGresult* res) {
    Result r;
    const ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      r.error = res ? PQresultErrorMessage(res) : PQerrorMessage(conn_);
      while (!r.error.empty() && (r.error.back() == '\n' || r.error.back() == ' ')) r.error.pop_back();
      if (r.error.empty()) r.error = "postgres: statement failed";
      return r;
    }
    const int ncol = PQnfields(res);
    for (int c = 0; c < ncol; ++c) r.columns.emplace_back(PQfname(res, c));
    const int nrow = PQntuples(res);
    r.rows.reserve(static_cast<std::size_t>(nrow));
    for (int i = 0; i < nrow; ++i) {
      std::vector<Value> row;
      row.reserve(static_cast<std::size_t>(ncol));
      for (int c = 0; c < ncol; ++c) row.push_back(cell(res, i, c));
      r.rows.push_back(std::move(row));
    }
    r.affected = std::atoll(PQcmdTuples(res));
    return r;
  }

  static Value cell(PGresult* res, int i, int c) {
    if (PQgetisnull(res, i, c)) return std::monostate{};
    const char* v = PQgetvalue(res, i, c);
    switch (PQftype(res, c)) {
      case kInt8:
      case kInt2:
      case kInt4: return static_cast<std::int64_t>(std::strtoll(v, nullptr, 10));
      case kFloat4:
      case kFloat8:
      case kNumeric: return std::strtod(v, nullptr);
      case kBool: return static_cast<std::int64_t>(v[0] == 't' ? 1 : 0);
      default: return std::string(v, static_cast<std::size_t>(PQgetlength(res, i, c)));
    }
  }

  PGconn* conn_;
};

// A conninfo value, quoted as libpq wants ('…' with \' and \\).
std::string quoted(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string conninfo(const config::DatabaseConfig& db) {
  if (!db.dsn.empty()) return db.dsn.value;  // a URL or key=value string, as libpq reads them
  std::string s = "connect_timeout=5";
  if (!db.host.empty()) s += " host=" + quoted(db.host);
  if (db.port != 0) s += " port=" + std::to_string(db.port);
  if (!db.user.empty()) s += " user=" + quoted(db.user);
  if (!db.password.empty()) s += " password=" + quoted(db.password.value);
  if (!db.database.empty()) s += " dbname=" + quoted(db.database);
  return s;
}

}  // namespace

std::unique_ptr<Connection> open_postgres(const config::DatabaseConfig& db, std::string& error) {
  PGconn* conn = PQconnectdb(conninfo(db).c_str());
  if (!conn || PQstatus(conn) != CONNECTION_OK) {
    // libpq's message names host and port, never the password.
    error = conn ? PQerrorMessage(conn) : "postgres: out of memory";
    while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
    PQfinish(conn);
    return nullptr;
  }
  // Notices (e.g. "relation already exists, skipping") are not errors and
  // must not reach stderr.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return std::make_unique<PostgresConnection>(conn);
}

}  // namespace llmproxy::stores::sql
