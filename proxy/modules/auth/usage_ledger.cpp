#include "proxy/modules/auth/usage_ledger.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <chrono>
#include <utility>
#include <vector>

#include "proxy/core/auth/quota.h"
#include "proxy/core/log/log.h"

namespace llmproxy::modules::auth {

UsageLedger::UsageLedger(env::Env& env, std::shared_ptr<KeySource> store)
    : env_(env), store_(std::move(store)), ordered_(store_->ordered()), timer_(env.make_timer()) {}

UsageLedger::~UsageLedger() {
  if (const std::int64_t left = unwritten(); left > 0)
    log::error("auth: key usage not written to the key store",
               {{"tokens", std::to_string(left)}, {"why", "the store failed until the end"}});
}

void UsageLedger::charge(const llmproxy::auth::KeyRecord& key, std::int64_t tokens) {
  if (tokens <= 0) return;
  auto [it, fresh] = accounts_.try_emplace(key.hash);
  if (fresh) it->second.ref = key.store_ref;
  it->second.period = key.quota.period;
  it->second.charged += tokens;
  if (writing_) return;
  const TimePoint now = env_.now();
  if (closing_) {  // no more waiting: the worker is closing
    start_write();
    return;
  }
  if (failing_ && now < retry_at_) {
    flush_by(retry_at_);
    return;
  }
  if (!key.quota.limited() && flush_by(now + kFlushAfter)) return;
  start_write();
}

bool UsageLedger::flush_by(TimePoint at) {
  if (!timer_) return false;
  if (flush_armed_) return true;  // armed for at most kFlushAfter (or kRetryAfter) from now
  flush_armed_ = true;
  boost::asio::co_spawn(env_.executor(), [self = shared_from_this(), at]() { return self->flush_at(at); },
                        [](std::exception_ptr e) {
                          if (e) std::rethrow_exception(e);  // a bug: a timer does not throw
                        });
  return true;
}

env::Task<void> UsageLedger::flush_at(TimePoint at) {
  env::error_code ec;
  // A close before this coroutine first ran found no wait to cancel.
  if (!closing_) co_await timer_->sleep_until(at, ec);
  flush_armed_ = false;
  if (ec || closing_ || writing_ || unwritten() == 0) co_return;  // cancelled, or a write took them
  start_write();
}

std::int64_t UsageLedger::mark(const llmproxy::auth::KeyHash& hash) const {
  const auto it = accounts_.find(hash);
  if (it == accounts_.end()) return 0;
  return it->second.written + (ordered_ ? it->second.sending : 0);
}

// A mark past what is written or being written names a write that failed:
// the fetched record lacks it, so it is pending again.
std::int64_t UsageLedger::pending(const llmproxy::auth::KeyHash& hash, std::int64_t mark) const {
  const auto it = accounts_.find(hash);
  if (it == accounts_.end()) return 0;
  const Account& a = it->second;
  return a.charged - std::min(mark, a.written + a.sending);
}

std::int64_t UsageLedger::unwritten() const {
  std::int64_t sum = 0;
  for (const auto& [hash, a] : accounts_) sum += a.charged - a.written;
  return sum;
}

void UsageLedger::close_when_idle(std::function<void()> then) {
  closing_ = true;
  if (timer_) timer_->cancel();  // what it waited to write goes now
  on_idle_ = std::move(then);
  if (writing_) return;  // end_write calls it
  // Tokens kept from a failed write are tried once more now, whatever the
  // retry pause: the last chance to store them.
  if (unwritten() > 0) {
    start_write();
    return;
  }
  end_write();
}

void UsageLedger::start_write() {
  writing_ = true;
  boost::asio::co_spawn(env_.executor(), [self = shared_from_this()]() { return self->write_all(); },
                        [](std::exception_ptr e) {
                          if (e) std::rethrow_exception(e);  // a bug: no store answer throws
                        });
}

env::Task<void> UsageLedger::write_all() {
  // Pointers, not iterators: a charge during a write may add an account
  // (and rehash), which keeps every element where it is.
  std::vector<Account*> due;
  for (;;) {
    due.clear();
    for (auto& [hash, account] : accounts_)
      if (account.charged != account.written) due.push_back(&account);
    if (due.empty()) break;
    for (Account* account : due) {
      const bool written = co_await write_one(*account);
      if (!written) {
        end_write();
        co_return;
      }
    }
  }
  end_write();
}

void UsageLedger::end_write() {
  writing_ = false;
  if (auto then = std::exchange(on_idle_, nullptr)) then();
}

env::Task<bool> UsageLedger::write_one(Account& account) {
  const std::int64_t amount = account.charged - account.written;
  std::optional<std::int64_t> period_start;
  if (const auto start = llmproxy::auth::period_start(account.period, env_.wall_now()))
    period_start = std::chrono::duration_cast<std::chrono::seconds>(start->time_since_epoch()).count();
  account.sending = amount;
  const stores::keys::Status s = co_await store_->add_usage(account.ref, amount, period_start);
  account.sending = 0;
  if (s.ok() || s.outcome == stores::keys::Outcome::not_found) {
    account.written += amount;  // a deleted key's usage has nowhere to go
    failing_ = false;
    co_return true;
  }
  if (!failing_)
    log::warn("auth: cannot write key usage to the key store; kept and tried again",
              {{"error", s.message}, {"tokens", std::to_string(amount)}});
  failing_ = true;
  retry_at_ = env_.now() + kRetryAfter;
  if (!closing_) flush_by(retry_at_);  // tried again even if no request comes
  co_return false;
}

}  // namespace llmproxy::modules::auth
