#include "proxy/modules/auth/database_source.h"

#include <algorithm>
#include <cmath>

#include "proxy/core/auth/key_hash.h"
#include "proxy/core/util/sql_identifier.h"
#include "proxy/modules/auth/key_fields.h"
#include "proxy/stores/sql/sql_pool.h"

namespace llmproxy::modules::auth {
namespace {

using stores::keys::Outcome;
using stores::keys::Status;
using stores::sql::Dialect;
using stores::sql::Value;

// A checked name quoted for `d` (a `schema.name` part by part): quoting
// keeps a reserved word such as `key` a column name. SQLite takes MySQL's
// backticks too, and needs them: a double-quoted name that matches no
// column is read there as a string literal, so a misspelt field would be
// its own name for every row and a misspelt key column would match no key,
// where a backticked one is an error (caught at start-up).
std::string quoted(std::string_view name, Dialect d) {
  const char q = d == Dialect::postgres ? '"' : '`';
  std::string out(1, q);
  for (const char c : name) {
    if (c == '.') {
      out += q;
      out += '.';
      out += q;
    } else {
      out += c;
    }
  }
  out += q;
  return out;
}

bool selected(const std::vector<std::string>& fields, std::string_view name) {
  return std::find(fields.begin(), fields.end(), name) != fields.end();
}

// A cell as key_fields.h reads it: a whole number kept in a floating or
// NUMERIC column (PostgreSQL's NUMERIC arrives as a double) as its integer
// text, so a quota of 100 reads as "100", not "100.000000".
std::string cell_text(const Value& v) {
  if (const auto* d = std::get_if<double>(&v); d && std::isfinite(*d) && *d == std::floor(*d) && std::fabs(*d) < 9e15)
    return std::to_string(static_cast<std::int64_t>(*d));
  return stores::sql::as_text(v);
}

// A driver's message may quote the parameter it could not use (PostgreSQL:
// `invalid input syntax for type integer: "<key>"`): the key is replaced by
// its prefix before the message goes anywhere.
std::string without_key(std::string message, std::string_view key) {
  if (key.empty()) return message;
  const std::string shown = llmproxy::auth::key_prefix(key) + "…";
  for (auto at = message.find(key); at != std::string::npos; at = message.find(key, at + shown.size()))
    message.replace(at, key.size(), shown);
  return message;
}

}  // namespace

std::unique_ptr<DatabaseStatements> DatabaseStatements::build(const config::DatabaseProvider& p, Dialect d,
                                                              std::string& error) {
  if (!util::is_sql_identifier(p.table)) {
    error = "table: '" + p.table + "' is not a plain SQL name";
    return nullptr;
  }
  if (!util::is_plain_sql_name(p.key_column)) {
    error = "key_column: '" + p.key_column + "' is not a plain SQL name";
    return nullptr;
  }
  auto s = std::make_unique<DatabaseStatements>();
  s->fields = p.fields;
  // The key column comes first: the row is taken only when it holds the
  // presented key byte for byte (a case-insensitive or space-padding
  // collation, MySQL's default, would match other spellings).
  std::string columns = quoted(p.key_column, d);
  for (const auto& f : p.fields) {
    if (!util::is_plain_sql_name(f)) {
      error = "fields: '" + f + "' is not a plain SQL name";
      return nullptr;
    }
    columns += ", " + quoted(f, d);
  }
  const std::string table = quoted(p.table, d), where = " WHERE " + quoted(p.key_column, d) + " = ?";
  // Two rows are enough to tell a key column that is not unique.
  s->lookup = "SELECT " + columns + " FROM " + table + where + " LIMIT 2";
  s->probe = "SELECT " + columns + " FROM " + table + " WHERE 1 = 0";
  if (!selected(p.fields, "used_quota")) return s;
  // A NULL count is 0 (as the row reads); a NULL quota_reset_at is the
  // current period (key_fields.h), so the charge adds to it and dates it.
  const std::string used = quoted("used_quota", d);
  s->add = "UPDATE " + table + " SET " + used + " = COALESCE(" + used + ", 0) + ?" + where;
  if (!selected(p.fields, "quota_reset_at")) return s;
  // Both CASEs read the row as it was (PostgreSQL and SQLite by the
  // standard; MySQL assigns left to right and the first assignment leaves
  // quota_reset_at, which both test, untouched), as sql_key_store.cpp.
  const std::string at = quoted("quota_reset_at", d);
  s->add_in_period = "UPDATE " + table + " SET " + used + " = CASE WHEN " + at + " < ? THEN ? ELSE COALESCE(" +
                     used + ", 0) + ? END, " + at + " = CASE WHEN " + at + " IS NULL OR " + at +
                     " < ? THEN ? ELSE " + at + " END" + where;
  return s;
}

env::Task<SourceAnswer> DatabaseSource::lookup(const LookupRequest& req) {
  stores::sql::Statement st{sql_->lookup, {std::string(req.key)}};
  const stores::sql::Result r = co_await pool_->run(std::move(st));
  const std::string prefix = llmproxy::auth::key_prefix(req.key);
  if (!r.ok()) co_return SourceAnswer::failed("database '" + pool_->name() + "': " + without_key(r.error, req.key));
  const std::vector<Value>* row = nullptr;
  for (const auto& candidate : r.rows) {
    if (candidate.size() != sql_->fields.size() + 1)
      co_return SourceAnswer::failed("database '" + pool_->name() + "': the lookup returned " +
                                     std::to_string(candidate.size()) + " columns, not " +
                                     std::to_string(sql_->fields.size() + 1));
    if (stores::sql::as_text(candidate[0]) != req.key) continue;
    if (row) co_return SourceAnswer::failed("database '" + pool_->name() + "': key " + prefix +
                                            "… is in two rows: key_column is not unique");
    row = &candidate;
  }
  if (!row) co_return SourceAnswer::unknown();
  KeyFields fields;
  fields.reserve(sql_->fields.size());
  for (std::size_t i = 0; i < sql_->fields.size(); ++i) {
    const Value& v = (*row)[i + 1];
    // The period restart compares numbers: a date written as text would
    // never compare right, so it is refused rather than counted wrong.
    if (!sql_->add_in_period.empty() && sql_->fields[i] == "quota_reset_at" && !stores::sql::is_null(v) &&
        std::holds_alternative<std::string>(v))
      co_return SourceAnswer::failed("database '" + pool_->name() + "': key " + prefix +
                                     "…: column quota_reset_at holds text; it must be unix seconds (an integer "
                                     "column) for the gateway to count usage by period");
    fields.emplace_back(sql_->fields[i], cell_text(v));
  }
  auto record = record_from_fields(fields, req.key, req.hash, req.provider, std::string(req.key), env_.wall_now());
  if (!record)
    co_return SourceAnswer::failed("database '" + pool_->name() + "': the row of key " + prefix +
                                   "… cannot be read (fix the row): column " + record.error);
  co_return SourceAnswer::known(std::move(*record.value));
}

env::Task<Status> DatabaseSource::add_usage(const std::string& store_ref, std::int64_t tokens,
                                            std::optional<std::int64_t> period_start) {
  stores::sql::Statement st;
  if (period_start && !sql_->add_in_period.empty()) {
    st.sql = sql_->add_in_period;
    st.params = {*period_start, tokens, tokens, *period_start, *period_start, store_ref};
  } else {
    st.sql = sql_->add;
    st.params = {tokens, store_ref};
  }
  const stores::sql::Result r = co_await pool_->run(std::move(st));
  if (!r.ok())
    co_return Status{Outcome::unavailable, "database '" + pool_->name() + "': " + without_key(r.error, store_ref)};
  if (r.affected == 0 && tokens != 0) co_return Status{Outcome::not_found, {}};
  co_return Status{};
}

}  // namespace llmproxy::modules::auth
