// The tokens one store provider's keys used through one worker, written to
// that store (key_source.h: the admin key store, Redis, a database) behind
// the requests (write-behind), and what of them the cached
// records do not count yet (BEHAVIOR §7: "quota is decremented by actual
// tokens used"; docs/auth.md#quotas).
//
// charge() at each request's end adds the tokens it used (the usage the
// relay extracted) to the key's account. A write sends every account's
// unwritten tokens (KeySource::add_usage, one call per key, with the key's
// period so the store restarts a count in a new period) and repeats while
// charges arrived meanwhile, so at most one write per worker is in flight
// and a busy worker batches by itself. When it starts:
//   - a key with a quota: at once (if no write is running), so other
//     workers and instances see its count one store round trip after the
//     request ended (the quota's bound, docs/auth.md);
//   - a key without one (its count is for people: the admin API's
//     used_quota): within kFlushAfter, so an idle worker does not pay a
//     store write per request; charges meanwhile go in the same write.
// At shutdown (close_when_idle) everything unwritten is written at once,
// and the write's pending completion keeps the worker's loop running until
// the tokens are stored (the SQL pool holds work on the executor).
//
// A failed write keeps the tokens and is tried again kRetryAfter later, by
// the flush timer or by a charge after that (one warning per failure
// streak); tokens still unwritten when the ledger is destroyed are logged
// with their total. An environment without timers (the unit tests'
// ManualEnv) writes every charge at once and retries only on charges.
//
// mark(hash) taken before a record is fetched, pending(hash, mark) after:
// what this worker charged to the key beyond what that record counts. For
// an ordered store (KeySource::ordered: a fetch sent after a write was sent
// sees it) the mark counts the write running; if that write fails, its
// tokens are pending again until the next write starts (on Redis a failed
// write fails the fetch pipelined behind it too, so such a record is
// rare; it undercounts one batch until refetched). For other stores a write
// running while a record is fetched counts as not written (at most one
// batch is counted twice until the next fetch: the quota errs on refusing
// early, never on letting a key past it).
//
// One per worker (used from its executor only: no lock); shared with the
// write coroutine, which keeps it alive while a write runs.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "proxy/core/auth/key_record.h"
#include "proxy/env/env.h"
#include "proxy/modules/auth/key_source.h"

namespace llmproxy::modules::auth {

class UsageLedger : public std::enable_shared_from_this<UsageLedger> {
 public:
  static constexpr Duration kRetryAfter = std::chrono::seconds(1);
  static constexpr Duration kFlushAfter = std::chrono::seconds(1);

  UsageLedger(env::Env& env, std::shared_ptr<KeySource> store);
  ~UsageLedger();
  UsageLedger(const UsageLedger&) = delete;
  UsageLedger& operator=(const UsageLedger&) = delete;

  void charge(const llmproxy::auth::KeyRecord& key, std::int64_t tokens);

  // What of this worker's charges to the key a record fetched from now on
  // counts; 0 for a key never charged.
  std::int64_t mark(const llmproxy::auth::KeyHash& hash) const;
  std::int64_t pending(const llmproxy::auth::KeyHash& hash, std::int64_t mark) const;

  // The worker is closing: writes what is unwritten (a last try, even
  // within a retry pause), then calls `then` (its store may be closed).
  void close_when_idle(std::function<void()> then);

  // Tokens charged and not written yet, over every key.
  std::int64_t unwritten() const;
  bool writing() const { return writing_; }

 private:
  struct Account {
    std::string ref;  // KeyRecord::store_ref (may be the key: never logged)
    config::QuotaPeriod period = config::QuotaPeriod::never;
    std::int64_t charged = 0;
    std::int64_t written = 0;
    std::int64_t sending = 0;  // in the write running now
  };
  void start_write();
  void end_write();
  // A write no later than `at` (the flush timer); false without timers.
  bool flush_by(TimePoint at);
  env::Task<void> flush_at(TimePoint at);
  env::Task<void> write_all();
  // One key's unwritten tokens; false when the store failed.
  env::Task<bool> write_one(Account& account);

  env::Env& env_;
  std::shared_ptr<KeySource> store_;
  bool ordered_;  // store_->ordered()
  std::unordered_map<llmproxy::auth::KeyHash, Account, llmproxy::auth::KeyHashHasher,
                     llmproxy::auth::KeyHashEqual>
      accounts_;
  bool writing_ = false;
  bool failing_ = false;
  bool closing_ = false;
  std::function<void()> on_idle_;
  TimePoint retry_at_{};
  std::unique_ptr<env::Timer> timer_;  // null: the env has no timers
  bool flush_armed_ = false;
};

}  // namespace llmproxy::modules::auth
