// When the usage ledger writes (usage_ledger.h), on virtual time: a key with
// a quota at once, a key without one within kFlushAfter (one write for all
// the charges meanwhile), a failed write again kRetryAfter later with no
// request to trigger it, and a closing worker writes what waited at once.
#include "proxy/modules/auth/usage_ledger.h"

#include <gtest/gtest.h>

#include "sim/sim_env.h"

namespace {

using namespace llmproxy;
using namespace std::chrono_literals;
using stores::keys::Outcome;
using stores::keys::Status;

// A store that answers every write at once, or fails it while `down`.
class CountingSource final : public modules::auth::KeySource {
 public:
  env::Task<modules::auth::SourceAnswer> lookup(const modules::auth::LookupRequest&) override {
    co_return modules::auth::SourceAnswer::unknown();
  }
  env::Task<Status> add_usage(const std::string&, std::int64_t tokens, std::optional<std::int64_t>) override {
    ++writes;
    if (down) co_return Status{Outcome::unavailable, "down"};
    stored += tokens;
    co_return Status{};
  }
  std::int64_t stored = 0;
  int writes = 0;
  bool down = false;
};

auth::KeyRecord key(std::int64_t quota) {
  auth::KeyRecord k;
  k.hash = auth::hash_key("sk-" + std::to_string(quota));
  k.store_ref = "ref";
  k.quota.total = quota;
  return k;
}

class LedgerTimingTest : public ::testing::Test {
 protected:
  sim::World world_{3};
  sim::SimEnv env_{world_, "gateway"};
  std::shared_ptr<CountingSource> source_ = std::make_shared<CountingSource>();
  std::shared_ptr<modules::auth::UsageLedger> ledger_ =
      std::make_shared<modules::auth::UsageLedger>(env_, source_);
};

TEST_F(LedgerTimingTest, AKeyWithAQuotaIsWrittenAtOnce) {
  ledger_->charge(key(100), 7);
  world_.run_for(1ms);
  EXPECT_EQ(source_->stored, 7);
  EXPECT_EQ(source_->writes, 1);
}

TEST_F(LedgerTimingTest, AKeyWithoutAQuotaWaitsAndBatches) {
  const auto open = key(0);
  ledger_->charge(open, 10);
  world_.run_for(500ms);
  ledger_->charge(open, 5);
  world_.run_for(400ms);
  EXPECT_EQ(source_->writes, 0);  // 900 ms after the first charge
  world_.run_for(200ms);
  EXPECT_EQ(source_->stored, 15);
  EXPECT_EQ(source_->writes, 1);  // both charges in one write
  world_.run_until_idle();
  EXPECT_EQ(source_->writes, 1);
}

TEST_F(LedgerTimingTest, AFailedWriteIsRetriedWithoutARequest) {
  source_->down = true;
  ledger_->charge(key(100), 7);
  world_.run_for(1ms);
  EXPECT_EQ(source_->writes, 1);
  EXPECT_EQ(ledger_->unwritten(), 7);
  world_.run_for(1s);  // down still: tried again, and again later
  EXPECT_EQ(source_->writes, 2);
  source_->down = false;
  world_.run_for(1s);
  EXPECT_EQ(source_->stored, 7);
  EXPECT_EQ(ledger_->unwritten(), 0);
  world_.run_until_idle();  // nothing left armed
  EXPECT_EQ(source_->writes, 3);
}

TEST_F(LedgerTimingTest, ClosingWritesWhatWaitedAtOnce) {
  ledger_->charge(key(0), 4);
  bool closed = false;
  const TimePoint start = world_.now();
  ledger_->close_when_idle([&] { closed = true; });
  world_.run_until_idle();
  EXPECT_TRUE(closed);
  EXPECT_EQ(source_->stored, 4);
  EXPECT_LT(world_.now() - start, 100ms);  // the flush timer was cancelled, not waited for
}

}  // namespace
