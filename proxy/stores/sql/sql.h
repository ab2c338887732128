// The SQL seam: what a module hands a database (statements with their
// parameters) and what comes back (rows of values, or an error), the same
// for every driver. Conventions, stated once:
//   - Statements are written with `?` placeholders, whatever the driver; the
//     PostgreSQL driver numbers them ($1, $2, …) itself. Values are never
//     spliced into SQL text: every value travels as a parameter.
//   - A Value is NULL, a 64-bit integer, a double or text (bytes). Drivers
//     return integer columns as integers, floating and numeric columns as
//     doubles, everything else as text.
//   - A Result with a non-empty `error` carries no rows. `affected` is the
//     number of rows an INSERT, UPDATE or DELETE changed.
//   - A batch runs in order on one connection; in a transaction it is all or
//     nothing (the first error rolls everything back and is the result).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace llmproxy::stores::sql {

enum class Dialect : std::uint8_t { sqlite, postgres, mysql };
std::string_view to_string(Dialect d);

using Value = std::variant<std::monostate, std::int64_t, double, std::string>;

struct Statement {
  std::string sql;
  std::vector<Value> params;
};

struct Result {
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;
  std::int64_t affected = 0;
  std::string error;  // "" = success

  bool ok() const { return error.empty(); }
  // Column index by name, or -1.
  int column(std::string_view name) const;
};

// Readers for one cell, tolerant of how each driver types a column (an
// integer column may come back as text from a driver that does not know it).
bool is_null(const Value& v);
std::int64_t as_int(const Value& v, std::int64_t fallback = 0);
std::string as_text(const Value& v);

// `?` placeholders as $1, $2, … (PostgreSQL). A `?` inside a quoted string,
// a quoted identifier or a comment is left alone.
std::string number_placeholders(std::string_view sql);

}  // namespace llmproxy::stores::sql
