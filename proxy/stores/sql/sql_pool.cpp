#include "proxy/stores/sql/sql_pool.h"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "proxy/stores/sql/connection.h"

namespace llmproxy::stores::sql {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// Where a finished batch's result goes: the awaiting coroutine (posted to
// its executor) or a blocked caller.
struct Completion {
  virtual ~Completion() = default;
  virtual void complete(Result r) = 0;
};

template <class F>
struct CompletionFn final : Completion {
  explicit CompletionFn(F f) : f(std::move(f)) {}
  void complete(Result r) override { f(std::move(r)); }
  F f;
};

template <class F>
std::unique_ptr<Completion> completion(F f) {
  return std::make_unique<CompletionFn<F>>(std::move(f));
}

struct Job {
  std::vector<Statement> batch;
  bool transaction = false;
  std::unique_ptr<Completion> done;
};

std::string_view begin_sql(Dialect d) {
  switch (d) {
    case Dialect::sqlite: return "BEGIN IMMEDIATE";  // take the write lock now, not at the first write
    case Dialect::postgres: return "BEGIN";
    case Dialect::mysql: return "START TRANSACTION";
  }
  return "BEGIN";
}

Result run_batch(Connection& c, const std::vector<Statement>& batch, bool transaction) {
  if (transaction) {
    Result b = c.execute(Statement{std::string(begin_sql(c.dialect())), {}});
    if (!b.ok()) return b;
  }
  Result last;
  for (const Statement& st : batch) {
    last = c.execute(st);
    if (!last.ok()) {
      if (transaction && !c.broken()) c.execute(Statement{"ROLLBACK", {}});
      return last;
    }
  }
  if (transaction) {
    Result commit = c.execute(Statement{"COMMIT", {}});
    if (!commit.ok()) return commit;
  }
  return last;
}

Dialect dialect_of(config::DbDriver d) {
  switch (d) {
    case config::DbDriver::sqlite: return Dialect::sqlite;
    case config::DbDriver::postgres: return Dialect::postgres;
    case config::DbDriver::mysql: return Dialect::mysql;
  }
  return Dialect::sqlite;
}

}  // namespace

struct SqlPool::Impl {
  config::DatabaseConfig db;
  Dialect dialect;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::unique_ptr<Job>> queue;  // under mu
  bool stopping = false;                    // under mu
  std::size_t open = 0;                     // under mu
  std::vector<std::thread> threads;

  // What a batch that arrives at, or waits in, a closing pool gets.
  Result closed() const {
    Result r;
    r.error = "database " + db.name + " is closed";
    return r;
  }

  void push(std::unique_ptr<Job> job) {
    {
      std::lock_guard lk(mu);
      if (!stopping) {
        queue.push_back(std::move(job));
        job = nullptr;
      }
    }
    if (job) {
      job->done->complete(closed());
      return;
    }
    cv.notify_one();
  }

  // Waits for a job; closes this thread's connection when it has been idle
  // for conn_max_idle_time and more than max_idle_conns are open. Null when
  // the pool stops.
  std::unique_ptr<Job> next(std::unique_ptr<Connection>& conn) {
    std::unique_lock lk(mu);
    while (!stopping && queue.empty()) {
      if (!conn) {
        cv.wait(lk);
        continue;
      }
      if (cv.wait_for(lk, db.conn_max_idle_time) == std::cv_status::timeout && queue.empty() && !stopping &&
          open > static_cast<std::size_t>(db.max_idle_conns)) {
        conn.reset();
        --open;
      }
    }
    if (queue.empty()) return nullptr;
    auto job = std::move(queue.front());
    queue.pop_front();
    return job;
  }

  void thread_main(std::unique_ptr<Connection> conn) {
    Clock::time_point opened = Clock::now();
    while (auto job = next(conn)) {
      if (conn && (conn->broken() || Clock::now() - opened >= db.conn_max_lifetime)) {
        conn.reset();
        std::lock_guard lk(mu);
        --open;
      }
      if (!conn) {
        std::string error;
        conn = open_connection(db, error);
        if (!conn) {
          Result r;
          r.error = "database " + db.name + ": " + error;
          job->done->complete(std::move(r));
          continue;
        }
        opened = Clock::now();
        std::lock_guard lk(mu);
        ++open;
      }
      job->done->complete(run_batch(*conn, job->batch, job->transaction));
    }
  }

  void stop() {
    std::deque<std::unique_ptr<Job>> left;
    {
      std::lock_guard lk(mu);
      stopping = true;
      left.swap(queue);
    }
    cv.notify_all();
    for (auto& job : left) job->done->complete(closed());
    for (auto& t : threads) t.join();
  }
};

std::unique_ptr<SqlPool> SqlPool::open(const config::DatabaseConfig& db, std::string& error) {
  auto first = open_connection(db, error);
  if (!first) return nullptr;
  auto impl = std::make_unique<Impl>();
  impl->db = db;
  impl->dialect = dialect_of(db.driver);
  impl->open = 1;
  const int n = std::max(1, db.max_open_conns);
  for (int i = 0; i < n; ++i)
    impl->threads.emplace_back(&Impl::thread_main, impl.get(), i == 0 ? std::move(first) : nullptr);
  return std::unique_ptr<SqlPool>(new SqlPool(std::move(impl)));
}

SqlPool::SqlPool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqlPool::~SqlPool() { impl_->stop(); }

Dialect SqlPool::dialect() const { return impl_->dialect; }
const std::string& SqlPool::name() const { return impl_->db.name; }

std::size_t SqlPool::open_connections() const {
  std::lock_guard lk(impl_->mu);
  return impl_->open;
}

env::Task<Result> SqlPool::run(std::vector<Statement> batch, bool transaction) {
  auto initiate = [impl = impl_.get()](auto handler, std::vector<Statement> batch, bool transaction) {
    // The handler resumes the coroutine; it must run on the coroutine's
    // executor, which the work guard keeps alive until it has.
    auto work = asio::make_work_guard(asio::get_associated_executor(handler));
    auto job = std::make_unique<Job>();
    job->batch = std::move(batch);
    job->transaction = transaction;
    job->done = completion([handler = std::move(handler), work = std::move(work)](Result r) mutable {
      auto ex = work.get_executor();
      asio::post(ex, [handler = std::move(handler), r = std::move(r)]() mutable { std::move(handler)(std::move(r)); });
      work.reset();
    });
    impl->push(std::move(job));
  };
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(Result)>(
      initiate, asio::use_awaitable, std::move(batch), transaction);
}

Result SqlPool::run_blocking(std::vector<Statement> batch, bool transaction) {
  std::promise<Result> promise;
  auto future = promise.get_future();
  auto job = std::make_unique<Job>();
  job->batch = std::move(batch);
  job->transaction = transaction;
  job->done = completion([&promise](Result r) { promise.set_value(std::move(r)); });
  impl_->push(std::move(job));
  return future.get();
}

}  // namespace llmproxy::stores::sql
