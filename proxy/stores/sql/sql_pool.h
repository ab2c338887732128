// A database as the event loops see it: batches of statements that complete
// asynchronously, run by a bounded set of threads that each own one
// blocking connection (connection.h). No database call runs on an event
// loop; the awaiting coroutine resumes on its own executor.
//
// Pool sizes (storage.databases[]):
//   max_open_conns       threads, so at most this many connections and
//                        batches at once; further batches queue
//   max_idle_conns       connections kept open while idle; a connection idle
//                        for conn_max_idle_time beyond that count is closed
//   conn_max_lifetime    a connection this old is replaced before its next batch
// A connection that broke (server gone) is replaced before the next batch;
// the batch that saw it break fails with the driver's error. Batches are
// never retried here: whether a statement took effect is the caller's call.
//
// Production only (threads, the wall clock for idle and lifetime): the
// simulator uses stores behind an in-memory implementation instead.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "proxy/core/config/storage.h"
#include "proxy/env/env.h"
#include "proxy/stores/sql/sql.h"

namespace llmproxy::stores::sql {

class SqlPool {
 public:
  // Opens the first connection at once, so a wrong host, password or file
  // is an error at start-up (null and `error`), not at the first request.
  static std::unique_ptr<SqlPool> open(const config::DatabaseConfig& db, std::string& error);
  // Batches still queued complete with a "closed" error; then the threads
  // finish their current batch and join.
  ~SqlPool();
  SqlPool(const SqlPool&) = delete;
  SqlPool& operator=(const SqlPool&) = delete;

  Dialect dialect() const;
  const std::string& name() const;

  // Runs the batch in order on one connection (in one transaction when
  // `transaction`). The result is the last statement's, or the first error.
  env::Task<Result> run(std::vector<Statement> batch, bool transaction = false);
  env::Task<Result> run(Statement st) { return run(std::vector<Statement>{std::move(st)}, false); }

  // The same, blocking the calling thread: for start-up (schema migration)
  // and tests, never on an event loop.
  Result run_blocking(std::vector<Statement> batch, bool transaction = false);

  // Connections open now (for tests of the pool sizes).
  std::size_t open_connections() const;

  struct Impl;

 private:
  explicit SqlPool(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmproxy::stores::sql
