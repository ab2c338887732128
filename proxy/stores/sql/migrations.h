// The gateway's database schema, created and upgraded at start-up. Each
// migration has a version and its statements per dialect; the versions
// applied are rows of llmproxy_schema_migrations. migrate() applies the
// missing ones in order, so a database at any earlier version (or empty)
// ends at the newest, and a database newer than this build is refused (an
// older binary must not write to a schema it does not know).
//
// Several gateway instances may start at once against one database: every
// statement is idempotent (CREATE … IF NOT EXISTS) and the version row is
// inserted ignoring duplicates, so racing instances end in the same state.
// MySQL commits DDL implicitly, so a migration is not one transaction there;
// idempotence is what makes a half-applied migration safe to run again.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "proxy/stores/sql/sql_pool.h"

namespace llmproxy::stores::sql {

struct Migration {
  int version = 0;
  std::string what;  // for the log: "api keys", …
  std::vector<std::string> sqlite, postgres, mysql;
};

// The gateway's migrations, oldest first.
std::span<const Migration> gateway_migrations();

// Applies the missing migrations; returns the version now in force, or -1
// with `error` set. Blocking: call at start-up, not on an event loop.
int migrate(SqlPool& db, std::span<const Migration> migrations, std::string& error);

}  // namespace llmproxy::stores::sql
