// The SQL layer's two text parsers: placeholder numbering (PostgreSQL) and
// the mysql dsn forms. Invariants: numbering only turns `?` into `$N` (so
// with no `$` in the input, turning every `$N` back into `?` gives the input
// again) and counts up from 1; a parsed dsn has a port in range and a
// database name without `/`.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proxy/stores/sql/mysql_dsn.h"
#include "proxy/stores/sql/sql.h"

namespace {

void check_placeholders(std::string_view in) {
  const std::string out = llmproxy::stores::sql::number_placeholders(in);
  if (in.find('$') != std::string_view::npos) return;
  std::string back;
  int expected = 1;
  for (std::size_t i = 0; i < out.size();) {
    if (out[i] != '$') {
      back += out[i++];
      continue;
    }
    std::size_t j = i + 1;
    while (j < out.size() && out[j] >= '0' && out[j] <= '9') ++j;
    if (std::stoi(out.substr(i + 1, j - i - 1)) != expected++) std::abort();
    back += '?';
    i = j;
  }
  if (back != in) std::abort();
}

void check_dsn(std::string_view in) {
  std::string error;
  const auto t = llmproxy::stores::sql::parse_mysql_dsn(in, error);
  if (!t) {
    if (error.empty()) std::abort();  // a refusal always says why
    return;
  }
  if (t->port < 1 || t->port > 65535) std::abort();
  if (t->database.find('/') != std::string::npos) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check_placeholders(in);
  check_dsn(in);
  return 0;
}
