// The usage ledger's marks around a write that is still running: for an
// ordered store (a fetch sent after the write sees it) the running write
// counts as written, for a pooled one it does not, and a failed write's
// tokens are pending again (usage_ledger.h).
#include "proxy/modules/auth/usage_ledger.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "proxy/env/testing/manual_env.h"

namespace {

namespace asio = boost::asio;
using namespace llmproxy;
using stores::keys::Outcome;
using stores::keys::Status;

// A source whose writes wait until the test lets them end (ok or failed).
class HeldSource final : public modules::auth::KeySource {
 public:
  HeldSource(asio::io_context& io, bool ordered) : gate_(io), ordered_(ordered) {}
  env::Task<modules::auth::SourceAnswer> lookup(const modules::auth::LookupRequest&) override {
    co_return modules::auth::SourceAnswer::unknown();
  }
  bool ordered() const override { return ordered_; }
  env::Task<Status> add_usage(const std::string&, std::int64_t tokens, std::optional<std::int64_t>) override {
    gate_.expires_at(asio::steady_timer::time_point::max());
    boost::system::error_code ec;
    co_await gate_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (fail_) co_return Status{Outcome::unavailable, "down"};
    stored += tokens;
    co_return Status{};
  }
  void end_write(bool fail) {
    fail_ = fail;
    gate_.cancel();
  }
  std::int64_t stored = 0;

 private:
  asio::steady_timer gate_;
  bool ordered_;
  bool fail_ = false;
};

auth::KeyRecord key() {
  auth::KeyRecord k;
  k.hash = auth::hash_key("sk-ledger");
  k.store_ref = "ref";
  return k;
}

class LedgerTest : public ::testing::TestWithParam<bool> {
 protected:
  asio::io_context io_;
  env::testing::ManualEnv env_{io_.get_executor()};
  std::shared_ptr<HeldSource> source_ = std::make_shared<HeldSource>(io_, GetParam());
  std::shared_ptr<modules::auth::UsageLedger> ledger_ = std::make_shared<modules::auth::UsageLedger>(env_, source_);
  const auth::KeyRecord key_ = key();
};

TEST_P(LedgerTest, ARunningWriteCountsAsWrittenOnlyForAnOrderedStore) {
  const bool ordered = GetParam();
  ledger_->charge(key_, 30);
  io_.poll();
  ASSERT_TRUE(ledger_->writing());
  // A record fetched now: from an ordered store it already has the 30.
  const std::int64_t mark = ledger_->mark(key_.hash);
  EXPECT_EQ(mark, ordered ? 30 : 0);
  EXPECT_EQ(ledger_->pending(key_.hash, mark), ordered ? 0 : 30);
  ledger_->charge(key_, 5);  // waits for the next write
  EXPECT_EQ(ledger_->pending(key_.hash, mark), ordered ? 5 : 35);

  source_->end_write(false);
  io_.poll();
  EXPECT_EQ(source_->stored, 30);
  EXPECT_TRUE(ledger_->writing());  // the 5, in a second write
  EXPECT_EQ(ledger_->pending(key_.hash, mark), ordered ? 5 : 35);
  EXPECT_EQ(ledger_->mark(key_.hash), ordered ? 35 : 30);
  source_->end_write(false);
  io_.poll();
  EXPECT_EQ(source_->stored, 35);
  EXPECT_FALSE(ledger_->writing());
  EXPECT_EQ(ledger_->pending(key_.hash, ledger_->mark(key_.hash)), 0);
}

TEST_P(LedgerTest, AFailedWritesTokensArePendingAgain) {
  ledger_->charge(key_, 30);
  io_.poll();
  const std::int64_t mark = ledger_->mark(key_.hash);  // fetched while it ran
  source_->end_write(true);
  io_.poll();
  EXPECT_FALSE(ledger_->writing());
  EXPECT_EQ(ledger_->unwritten(), 30);
  // The store never got them: whatever the mark said, they are pending.
  EXPECT_EQ(ledger_->pending(key_.hash, mark), 30);
  EXPECT_EQ(ledger_->mark(key_.hash), 0);
}

INSTANTIATE_TEST_SUITE_P(Stores, LedgerTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "ordered" : "pooled"; });

}  // namespace
