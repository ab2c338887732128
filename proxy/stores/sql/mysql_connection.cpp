// MariaDB / MySQL through MariaDB Connector/C, blocking, on a pool thread.
// Every statement is a server-side prepared statement: values are bound,
// never spliced into the SQL text.
#include <errmsg.h>
#include <mysql.h>

#include <cstdlib>
#include <memory>

#include "proxy/stores/sql/connection.h"
#include "proxy/stores/sql/mysql_dsn.h"

namespace llmproxy::stores::sql {
namespace {

constexpr unsigned kConnectTimeoutS = 5;

bool connection_lost(unsigned err) {
  return err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST || err == CR_CONNECTION_ERROR ||
         err == CR_CONN_HOST_ERROR;
}

Value typed(enum_field_types type, std::string text) {
  switch (type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_YEAR: return static_cast<std::int64_t>(std::strtoll(text.c_str(), nullptr, 10));
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE:
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL: return std::strtod(text.c_str(), nullptr);
    default: return text;
  }
}

// One prepared statement, closed on every path out.
struct StmtGuard {
  MYSQL_STMT* s;
  ~StmtGuard() {
    if (s) mysql_stmt_close(s);
  }
};

class MysqlConnection final : public Connection {
 public:
  explicit MysqlConnection(MYSQL* m) : m_(m) {}
  ~MysqlConnection() override { mysql_close(m_); }

  Dialect dialect() const override { return Dialect::mysql; }
  bool broken() const override { return broken_; }

  Result execute(const Statement& st) override {
    Result r;
    StmtGuard g{mysql_stmt_init(m_)};
    if (!g.s) return fail(r, "mysql: out of memory");
    if (mysql_stmt_prepare(g.s, st.sql.data(), st.sql.size()) != 0) return fail(r, g.s);
    if (mysql_stmt_param_count(g.s) != st.params.size())
      return fail(r, "statement has " + std::to_string(mysql_stmt_param_count(g.s)) + " placeholders, " +
                         std::to_string(st.params.size()) + " values given");
    // The connector reads the bound buffers and lengths at execute time:
    // they live until then.
    std::vector<MYSQL_BIND> binds(st.params.size());  // value-initialized: all zero
    std::vector<unsigned long> lengths(st.params.size());
    if (!bind_params(g.s, st.params, binds, lengths, r)) return r;
    if (mysql_stmt_execute(g.s) != 0) return fail(r, g.s);
    MYSQL_RES* meta = mysql_stmt_result_metadata(g.s);
    if (!meta) {
      r.affected = static_cast<std::int64_t>(mysql_stmt_affected_rows(g.s));
      return r;
    }
    fetch_rows(g.s, meta, r);
    mysql_free_result(meta);
    return r;
  }

 private:
  Result& fail(Result& r, const std::string& message) {
    r.error = message;
    return r;
  }
  Result& fail(Result& r, MYSQL_STMT* s) {
    if (connection_lost(mysql_stmt_errno(s))) broken_ = true;
    r.error = mysql_stmt_error(s);
    r.rows.clear();
    return r;
  }

  bool bind_params(MYSQL_STMT* s, const std::vector<Value>& params, std::vector<MYSQL_BIND>& binds,
                   std::vector<unsigned long>& lengths, Result& r) {
    const std::size_t n = params.size();
    for (std::size_t i = 0; i < n; ++i) {
      MYSQL_BIND& b = binds[i];
      const Value& v = params[i];
      if (const auto* x = std::get_if<std::int64_t>(&v)) {
        b.buffer_type = MYSQL_TYPE_LONGLONG;
        b.buffer = const_cast<std::int64_t*>(x);  // the API takes void*; it only reads
      } else if (const auto* d = std::get_if<double>(&v)) {
        b.buffer_type = MYSQL_TYPE_DOUBLE;
        b.buffer = const_cast<double*>(d);
      } else if (const auto* t = std::get_if<std::string>(&v)) {
        b.buffer_type = MYSQL_TYPE_STRING;
        b.buffer = const_cast<char*>(t->data());
        b.buffer_length = lengths[i] = static_cast<unsigned long>(t->size());
        b.length = &lengths[i];
      } else {
        b.buffer_type = MYSQL_TYPE_NULL;
      }
    }
    if (n > 0 && mysql_stmt_bind_param(s, binds.data()) != 0) {
      fail(r, s);
      return false;
    }
    return true;
  }

  void fetch_rows(MYSQL_STMT* s, MYSQL_RES* meta, Result& r) {
    const unsigned ncol = mysql_num_fields(meta);
    const MYSQL_FIELD* fields = mysql_fetch_fields(meta);
    for (unsigned c = 0; c < ncol; ++c) r.columns.emplace_back(fields[c].name);
    my_bool update_max = 1;
    mysql_stmt_attr_set(s, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max);
    if (mysql_stmt_store_result(s) != 0) {
      fail(r, s);
      return;
    }
    // Every column read as text into a buffer sized by the longest value
    // (store_result measured them), then typed by the column's type.
    std::vector<std::string> bufs(ncol);
    std::vector<unsigned long> lengths(ncol);
    std::unique_ptr<my_bool[]> nulls(new my_bool[ncol]());
    std::vector<MYSQL_BIND> binds(ncol);
    for (unsigned c = 0; c < ncol; ++c) {
      bufs[c].resize(static_cast<std::size_t>(fields[c].max_length) + 1);
      binds[c].buffer_type = MYSQL_TYPE_STRING;
      binds[c].buffer = bufs[c].data();
      binds[c].buffer_length = static_cast<unsigned long>(bufs[c].size());
      binds[c].length = &lengths[c];
      binds[c].is_null = &nulls[c];
    }
    if (ncol > 0 && mysql_stmt_bind_result(s, binds.data()) != 0) {
      fail(r, s);
      return;
    }
    for (int rc; (rc = mysql_stmt_fetch(s)) == 0 || rc == MYSQL_DATA_TRUNCATED;) {
      std::vector<Value> row;
      row.reserve(ncol);
      for (unsigned c = 0; c < ncol; ++c) {
        if (nulls[c]) row.emplace_back(std::monostate{});
        else row.push_back(typed(fields[c].type, std::string(bufs[c].data(), lengths[c])));
      }
      r.rows.push_back(std::move(row));
    }
  }

  MYSQL* m_;
  bool broken_ = false;
};

}  // namespace

std::unique_ptr<Connection> open_mysql(const config::DatabaseConfig& db, std::string& error) {
  MysqlTarget t;
  if (!db.dsn.empty()) {
    auto parsed = parse_mysql_dsn(db.dsn.value, error);
    if (!parsed) {
      error = "mysql dsn: " + error;
      return nullptr;
    }
    t = std::move(*parsed);
  } else {
    if (!db.host.empty()) t.host = db.host;
    if (db.port != 0) t.port = db.port;
    t.user = db.user;
    t.password = db.password.value;
    t.database = db.database;
  }
  MYSQL* m = mysql_init(nullptr);
  if (!m) {
    error = "mysql: out of memory";
    return nullptr;
  }
  mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &kConnectTimeoutS);
  mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (!mysql_real_connect(m, t.host.c_str(), t.user.c_str(), t.password.c_str(),
                          t.database.empty() ? nullptr : t.database.c_str(), static_cast<unsigned>(t.port), nullptr,
                          0)) {
    error = std::string("mysql ") + t.host + ":" + std::to_string(t.port) + ": " + mysql_error(m);
    mysql_close(m);
    return nullptr;
  }
  return std::make_unique<MysqlConnection>(m);
}

}  // namespace llmproxy::stores::sql
