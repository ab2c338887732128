// The database provider's store (BEHAVIOR §7, docs/auth.md "Keys from your
// own database"): a presented key looked up in the operator's own table of a
// storage.databases entry, through the shared SqlPool (no call blocks the
// event loop):
//   SELECT <fields> FROM <table> WHERE <key_column> = ? LIMIT 2
// with the key as the parameter (the table holds keys as they are: that is
// the operator's schema). Names are quoted per dialect and were checked to
// be plain identifiers (util/sql_identifier.h); values are parameters only.
//
// A row becomes the record through key_fields.h, every column as text (NULL
// is "", a whole number in a floating or numeric column its integer text).
// No row: unknown. Two rows: failed (key_column is not unique). A driver
// error: failed with the driver's message. Empty `fields`: the key's
// existence alone lets it in (an enabled key with no other rules).
//
// Usage: when `used_quota` is among the fields, add_usage() adds the tokens
// in one atomic UPDATE; with `quota_reset_at` also selected (unix seconds,
// an integer column), a charge in a new period restarts the count in the
// same statement. store_ref is the key itself (the WHERE parameter): it is
// held in memory for the write and never logged.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "proxy/core/config/auth.h"
#include "proxy/modules/auth/key_source.h"
#include "proxy/stores/sql/sql.h"

namespace llmproxy::stores::sql {
class SqlPool;
}

namespace llmproxy::modules::auth {

// The statements of one provider, built once from its config.
struct DatabaseStatements {
  std::vector<std::string> fields;  // as selected, in order
  std::string lookup;               // one parameter: the key
  std::string probe;                // the same columns, no row: do the names exist?
  std::string add;                  // (tokens, key); "" = no usage kept
  std::string add_in_period;        // (start, tokens, tokens, start, start, key); "" = no period column
  // Fails (null, `error` naming the config key) on a name that is not a
  // plain identifier: check-config refuses those first.
  static std::unique_ptr<DatabaseStatements> build(const config::DatabaseProvider& p, stores::sql::Dialect d,
                                                   std::string& error);
};

class DatabaseSource final : public KeySource {
 public:
  DatabaseSource(std::shared_ptr<stores::sql::SqlPool> pool, std::shared_ptr<const DatabaseStatements> sql,
                 env::Env& env)
      : pool_(std::move(pool)), sql_(std::move(sql)), env_(env) {}
  env::Task<SourceAnswer> lookup(const LookupRequest& req) override;
  bool keeps_usage() const override { return !sql_->add.empty(); }
  env::Task<stores::keys::Status> add_usage(const std::string& store_ref, std::int64_t tokens,
                                            std::optional<std::int64_t> period_start) override;

 private:
  std::shared_ptr<stores::sql::SqlPool> pool_;
  std::shared_ptr<const DatabaseStatements> sql_;
  env::Env& env_;
};

}  // namespace llmproxy::modules::auth
