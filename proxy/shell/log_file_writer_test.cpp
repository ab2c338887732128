// LogFileWriter (proxy/shell/log_file_writer.h) on a temporary directory
// with an injected wall clock. No sleeps: flush() waits for the writer, and
// a clock that blocks holds the writer thread still when a test needs it so.
#include "proxy/shell/log_file_writer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "proxy/core/log/civil_time.h"

namespace llmproxy::shell {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

WallTime at(int y, unsigned mo, unsigned d, unsigned h = 0, unsigned mi = 0, unsigned s = 0) {
  return *log::from_civil(log::CivilTime{y, mo, d, h, mi, s, 0});
}

class FakeClock {
 public:
  explicit FakeClock(WallTime t) : ns_(t.time_since_epoch().count()) {}
  void set(WallTime t) { ns_.store(t.time_since_epoch().count()); }
  void advance(Duration d) { ns_.fetch_add(d.count()); }
  std::function<WallTime()> fn() {
    return [this] { return WallTime(Duration(ns_.load())); };
  }

 private:
  std::atomic<std::int64_t> ns_;
};

// Collects warnings (called on the writer thread).
class Warnings {
 public:
  std::function<void(std::string_view)> fn() {
    return [this](std::string_view m) {
      std::lock_guard lk(mu_);
      messages_.emplace_back(m);
    };
  }
  std::vector<std::string> messages() {
    std::lock_guard lk(mu_);
    return messages_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> messages_;
};

class LogFileWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "llmproxy-logwriter-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  LogFileWriterOptions options(std::string_view name = "access.log") {
    LogFileWriterOptions o;
    o.path = (dir_ / name).string();
    o.clock = clock_.fn();
    o.warn = warnings_.fn();
    return o;
  }

  static std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::set<std::string> files() const {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.insert(e.path().filename().string());
    return names;
  }

  static std::string gunzip(const fs::path& p) {
    gzFile f = gzopen(p.c_str(), "rb");
    if (f == nullptr) return "<cannot open>";
    std::string out;
    char buf[4096];
    int n = 0;
    while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    const int rc = gzclose(f);
    if (n < 0 || rc != Z_OK) return "<corrupt>";
    return out;
  }

  static void set_mtime(const fs::path& p, WallTime t) {
    const auto ns = t.time_since_epoch().count();
    const struct timespec ts = {ns / 1'000'000'000, ns % 1'000'000'000};
    const struct timespec times[2] = {ts, ts};
    ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
  }

  fs::path dir_;
  FakeClock clock_{at(2024, 5, 1, 13, 45, 7)};
  Warnings warnings_;
};

TEST_F(LogFileWriterTest, WritesLinesInOrder) {
  LogFileWriter w(options());
  EXPECT_TRUE(w.submit("one\n"));
  EXPECT_TRUE(w.submit("two\nthree\n"));
  EXPECT_TRUE(w.submit("no newline"));  // one is added
  w.flush();
  EXPECT_EQ(read(dir_ / "access.log"), "one\ntwo\nthree\nno newline\n");
  EXPECT_EQ(w.written_lines(), 4u);
  EXPECT_EQ(w.dropped_lines(), 0u);
  EXPECT_TRUE(warnings_.messages().empty());
}

TEST_F(LogFileWriterTest, AppendsToAnExistingFileAndCreatesDirectories) {
  {
    std::ofstream(dir_ / "access.log") << "earlier\n";
  }
  {
    LogFileWriter w(options());
    w.submit("later\n");
  }  // the destructor writes what is queued
  EXPECT_EQ(read(dir_ / "access.log"), "earlier\nlater\n");

  LogFileWriter nested(options("a/b/c.log"));
  nested.submit("x\n");
  nested.flush();
  EXPECT_EQ(read(dir_ / "a/b/c.log"), "x\n");
}

TEST_F(LogFileWriterTest, RotatesBySizeAtLineBoundaries) {
  auto o = options();
  o.rotate = config::Rotate::size;
  o.max_bytes = 25;
  o.max_age = Duration::zero();
  LogFileWriter w(o);
  std::string all;
  for (int i = 0; i < 10; ++i) {
    const std::string line = "line " + std::to_string(i) + " xxxxx\n";  // 13 bytes
    all += line;
    w.submit(line);
    if (i % 3 == 0) w.flush();  // batches of different sizes
  }
  w.flush();
  // 13-byte lines, at most 25 bytes a file: one line per file, ten files,
  // rotated within the same second, hence the counters.
  const std::set<std::string> expected = {
      "access.log",           "access.log.2024-05-01T13-45-07",   "access.log.2024-05-01T13-45-07.1",
      "access.log.2024-05-01T13-45-07.2", "access.log.2024-05-01T13-45-07.3", "access.log.2024-05-01T13-45-07.4",
      "access.log.2024-05-01T13-45-07.5", "access.log.2024-05-01T13-45-07.6", "access.log.2024-05-01T13-45-07.7",
      "access.log.2024-05-01T13-45-07.8"};
  EXPECT_EQ(files(), expected);
  std::string joined;
  for (const char* name : {"access.log.2024-05-01T13-45-07", "access.log.2024-05-01T13-45-07.1",
                           "access.log.2024-05-01T13-45-07.2", "access.log.2024-05-01T13-45-07.3",
                           "access.log.2024-05-01T13-45-07.4", "access.log.2024-05-01T13-45-07.5",
                           "access.log.2024-05-01T13-45-07.6", "access.log.2024-05-01T13-45-07.7",
                           "access.log.2024-05-01T13-45-07.8", "access.log"}) {
    const std::string text = read(dir_ / name);
    EXPECT_LE(text.size(), 25u) << name;
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << name;
    joined += text;
  }
  EXPECT_EQ(joined, all);
  EXPECT_EQ(w.written_lines(), 10u);
}

TEST_F(LogFileWriterTest, SizeRotationPacksWholeLines) {
  auto o = options();
  o.rotate = config::Rotate::size;
  o.max_bytes = 10;
  LogFileWriter w(o);
  w.submit("aaa\nbbb\nccc\nthis line is longer than ten\nd\n");  // one batch
  w.flush();
  EXPECT_EQ(read(dir_ / "access.log.2024-05-01T13-45-07"), "aaa\nbbb\n");
  // A line longer than max_size goes whole into a file of its own.
  EXPECT_EQ(read(dir_ / "access.log.2024-05-01T13-45-07.1"), "ccc\n");
  EXPECT_EQ(read(dir_ / "access.log.2024-05-01T13-45-07.2"), "this line is longer than ten\n");
  EXPECT_EQ(read(dir_ / "access.log"), "d\n");
}

TEST_F(LogFileWriterTest, RotatesDailyAndHourlyByTheClock) {
  auto o = options();
  o.rotate = config::Rotate::daily;
  clock_.set(at(2024, 5, 1, 23, 59, 59));
  LogFileWriter w(o);
  w.submit("may 1\n");
  w.flush();
  clock_.set(at(2024, 5, 1, 23, 30));  // a clock set back never rotates
  w.submit("still may 1\n");
  w.flush();
  clock_.set(at(2024, 5, 2, 0, 0, 1));
  w.submit("may 2\n");
  w.flush();
  EXPECT_EQ(read(dir_ / "access.log.2024-05-01"), "may 1\nstill may 1\n");
  EXPECT_EQ(read(dir_ / "access.log"), "may 2\n");

  auto h = options("hourly.log");
  h.rotate = config::Rotate::hourly;
  LogFileWriter hw(h);
  hw.submit("00h\n");
  hw.flush();
  clock_.set(at(2024, 5, 2, 3, 10));
  hw.submit("03h\n");
  hw.flush();
  EXPECT_EQ(read(dir_ / "hourly.log.2024-05-02T00"), "00h\n");
  EXPECT_EQ(read(dir_ / "hourly.log"), "03h\n");
}

TEST_F(LogFileWriterTest, FileFromAnEarlierDayIsRotatedUnderItsOwnName) {
  {
    std::ofstream(dir_ / "access.log") << "from april\n";
  }
  set_mtime(dir_ / "access.log", at(2024, 4, 30, 22));
  LogFileWriter w(options());
  w.submit("may\n");
  w.flush();
  EXPECT_EQ(read(dir_ / "access.log.2024-04-30"), "from april\n");
  EXPECT_EQ(read(dir_ / "access.log"), "may\n");
}

TEST_F(LogFileWriterTest, DeletesRotatedFilesPastMaxAge) {
  // now 2024-05-01T13:45:07, max_age 7 days: files closed before
  // 2024-04-24T13:45:07 go.
  for (const char* name : {"access.log.2024-04-01", "access.log.2024-04-20.gz", "access.log.2024-04-24T12",
                           "access.log.2024-04-24T13", "access.log.2024-04-24T13-45-06.2",
                           "access.log.2024-04-29T10-00-00", "access.log.2024-04-30", "other.log.2024-04-01",
                           "access.log.notes"})
    std::ofstream(dir_ / name) << "x\n";
  auto o = options();
  o.max_age = 7 * 24h;
  LogFileWriter w(o);
  w.submit("now\n");
  w.flush();
  const std::set<std::string> expected = {"access.log", "access.log.2024-04-24T13", "access.log.2024-04-29T10-00-00",
                                          "access.log.2024-04-30", "other.log.2024-04-01", "access.log.notes"};
  EXPECT_EQ(files(), expected);

  // Later rotations clean up again.
  clock_.set(at(2024, 5, 7, 1));
  w.submit("may 7\n");
  w.flush();
  EXPECT_EQ(files(), (std::set<std::string>{"access.log", "access.log.2024-05-01", "access.log.2024-04-30",
                                            "other.log.2024-04-01", "access.log.notes"}));
}

TEST_F(LogFileWriterTest, MaxAgeZeroKeepsEverything) {
  std::ofstream(dir_ / "access.log.2001-01-01") << "x\n";
  auto o = options();
  o.max_age = Duration::zero();
  LogFileWriter w(o);
  w.submit("now\n");
  w.flush();
  EXPECT_TRUE(fs::exists(dir_ / "access.log.2001-01-01"));
}

TEST_F(LogFileWriterTest, CompressesRotatedFilesToValidGzip) {
  auto o = options();
  o.rotate = config::Rotate::size;
  o.max_bytes = 300'000;
  o.compress = true;
  o.compress_slice = 1;  // one 64 KiB read per step: many steps, queue checked between them
  LogFileWriter w(o);
  std::string first;
  for (int i = 0; first.size() < 250'000; ++i) first += "request " + std::to_string(i) + " GET /v1/models 200\n";
  w.submit(first);
  w.flush();
  clock_.advance(3s);
  w.submit(std::string(60'000, 'z') + "\n");  // past 300 kB: rotates
  w.flush();
  EXPECT_EQ(files(), (std::set<std::string>{"access.log", "access.log.2024-05-01T13-45-10.gz"}));
  EXPECT_EQ(gunzip(dir_ / "access.log.2024-05-01T13-45-10.gz"), first);
  EXPECT_TRUE(warnings_.messages().empty());
}

TEST_F(LogFileWriterTest, CompressionPicksUpLeftoversAndRemovesStaleTemps) {
  std::ofstream(dir_ / "access.log.2024-04-30") << "left uncompressed by a crash\n";
  std::ofstream(dir_ / "access.log.2024-04-29.gz.tmp") << "partial";
  std::ofstream(dir_ / "unrelated.gz.tmp") << "not ours";
  auto o = options();
  o.compress = true;
  LogFileWriter w(o);
  w.submit("x\n");
  w.flush();
  EXPECT_EQ(files(), (std::set<std::string>{"access.log", "access.log.2024-04-30.gz", "unrelated.gz.tmp"}));
  EXPECT_EQ(gunzip(dir_ / "access.log.2024-04-30.gz"), "left uncompressed by a crash\n");
}

TEST_F(LogFileWriterTest, UnwritablePathCountsDropsWarnsRarelyAndRecovers) {
  std::ofstream(dir_ / "blocker") << "a file where a directory should be\n";
  auto o = options("blocker/access.log");
  LogFileWriter w(o);
  EXPECT_TRUE(w.submit("lost 1\n"));  // queued: the event loop never waits
  w.flush();
  EXPECT_EQ(w.dropped_lines(), 1u);
  ASSERT_EQ(warnings_.messages().size(), 1u);
  EXPECT_NE(warnings_.messages()[0].find("1 lines dropped (cannot open"), std::string::npos)
      << warnings_.messages()[0];

  // Opening is tried again (reopen_interval has passed) and fails again;
  // within 10 s of the first warning there is no new one.
  clock_.advance(5s);
  w.submit("lost 2\nlost 3\n");
  w.flush();
  EXPECT_EQ(w.dropped_lines(), 3u);
  EXPECT_EQ(warnings_.messages().size(), 1u);

  // 10 s after the first warning: one more, carrying the drops since.
  clock_.advance(5s);
  w.submit("lost 4\n");
  w.flush();
  EXPECT_EQ(w.dropped_lines(), 4u);
  ASSERT_EQ(warnings_.messages().size(), 2u);
  EXPECT_NE(warnings_.messages()[1].find(": 3 lines dropped (cannot open"), std::string::npos)
      << warnings_.messages()[1];
  EXPECT_NE(warnings_.messages()[1].find("4 dropped in total"), std::string::npos);

  // The path becomes writable: the next open attempt succeeds.
  fs::remove(dir_ / "blocker");
  clock_.advance(2s);
  w.submit("kept\n");
  w.flush();
  EXPECT_EQ(read(dir_ / "blocker/access.log"), "kept\n");
  EXPECT_EQ(w.dropped_lines(), 4u);
  EXPECT_EQ(w.written_lines(), 1u);
}

TEST_F(LogFileWriterTest, FullDiskDropsAndRetriesLater) {
  auto o = options();
  o.path = "/dev/full";  // every write fails with ENOSPC
  o.max_age = Duration::zero();
  o.rotate = config::Rotate::size;
  o.max_bytes = std::uint64_t{1} << 40;
  LogFileWriter w(o);
  w.submit("a\nb\n");
  w.flush();
  EXPECT_EQ(w.dropped_lines(), 2u);
  EXPECT_EQ(w.written_lines(), 0u);
  ASSERT_EQ(warnings_.messages().size(), 1u);
  EXPECT_NE(warnings_.messages()[0].find("No space left on device"), std::string::npos) << warnings_.messages()[0];
  w.submit("c\n");  // within reopen_interval: dropped without a try
  w.flush();
  EXPECT_EQ(w.dropped_lines(), 3u);
}

// A clock that the test can hold: the writer calls it when it starts writing
// a batch, so holding it keeps the writer thread still with an empty queue.
class GateClock {
 public:
  std::function<WallTime()> fn() {
    return [this] {
      std::unique_lock lk(mu_);
      ++calls_;
      cv_.notify_all();
      cv_.wait(lk, [&] { return open_; });
      return WallTime(std::chrono::hours(24 * 19844));
    };
  }
  void wait_for_call() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return calls_ > 0; });
  }
  void open() {
    std::lock_guard lk(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int calls_ = 0;
  bool open_ = false;
};

TEST_F(LogFileWriterTest, FullQueueDropsWithoutBlocking) {
  GateClock gate;
  auto o = options();
  o.clock = gate.fn();
  o.queue_bytes = 20;
  LogFileWriter w(o);
  EXPECT_TRUE(w.submit("first\n"));  // the writer takes it and blocks in the clock
  gate.wait_for_call();
  EXPECT_TRUE(w.submit("0123456789\n"));  // 11 bytes queued
  EXPECT_TRUE(w.submit("abcdefgh\n"));    // 20: exactly full
  EXPECT_FALSE(w.submit("x\n"));          // dropped at once
  EXPECT_FALSE(w.submit("a much longer line than the queue holds\n"));
  EXPECT_EQ(w.dropped_lines(), 2u);
  gate.open();
  w.flush();
  EXPECT_EQ(read(dir_ / "access.log"), "first\n0123456789\nabcdefgh\n");
  EXPECT_EQ(w.written_lines(), 3u);
  ASSERT_EQ(warnings_.messages().size(), 1u);
  EXPECT_NE(warnings_.messages()[0].find("2 lines dropped (queue full)"), std::string::npos)
      << warnings_.messages()[0];
}

TEST_F(LogFileWriterTest, StreamTargets) {
  const fs::path out = dir_ / "stdout.txt";
  const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  {
    auto o = options();
    o.target = LogTarget::to_stdout;
    o.stream_fd = fd;
    LogFileWriter w(o);
    w.submit("to stdout\n");
    w.flush();
    EXPECT_EQ(w.written_lines(), 1u);
  }
  ::close(fd);
  EXPECT_EQ(read(out), "to stdout\n");
  EXPECT_FALSE(fs::exists(dir_ / "access.log"));

  // A reader that went away: EPIPE, counted; the process is not killed.
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  ::close(pipe_fds[0]);
  auto o = options();
  o.target = LogTarget::to_stderr;
  o.stream_fd = pipe_fds[1];
  LogFileWriter w(o);
  w.submit("nobody reads this\n");
  w.flush();
  EXPECT_EQ(w.dropped_lines(), 1u);
  ASSERT_EQ(warnings_.messages().size(), 1u);
  EXPECT_NE(warnings_.messages()[0].find("Broken pipe"), std::string::npos) << warnings_.messages()[0];
  ::close(pipe_fds[1]);
}

TEST_F(LogFileWriterTest, ConfigBlockToOptions) {
  config::LogFileConfig f;
  f.path = "/var/log/llmproxy/access.log";
  f.rotate = config::Rotate::size;
  f.max_size = 50;
  f.max_age = 3;
  f.compress = true;
  const auto o = file_writer_options(f, clock_.fn());
  EXPECT_EQ(o.target, LogTarget::file);
  EXPECT_EQ(o.path, f.path);
  EXPECT_EQ(o.rotate, config::Rotate::size);
  EXPECT_EQ(o.max_bytes, 50'000'000u);
  EXPECT_EQ(o.max_age, 72h);
  EXPECT_TRUE(o.compress);
  EXPECT_TRUE(o.clock);

  config::AccessLogConfig access;
  access.storage = "stdout";
  EXPECT_EQ(access_log_writer_options(access, clock_.fn())->target, LogTarget::to_stdout);
  access.storage = "file";
  access.file = f;
  EXPECT_EQ(access_log_writer_options(access, clock_.fn())->path, f.path);
  access.storage = "primary";  // a database
  EXPECT_FALSE(access_log_writer_options(access, clock_.fn()));

  config::LogConfig system;
  system.output = config::LogOutput::to_stderr;
  EXPECT_EQ(system_log_writer_options(system, clock_.fn()).target, LogTarget::to_stderr);
  system.output = config::LogOutput::to_file;
  system.file = f;
  const auto s = system_log_writer_options(system, clock_.fn());
  EXPECT_EQ(s.target, LogTarget::file);
  EXPECT_EQ(s.max_bytes, 50'000'000u);
  EXPECT_TRUE(s.warn);
}

TEST_F(LogFileWriterTest, RejectsMissingClockOrPath) {
  auto o = options();
  o.clock = nullptr;
  EXPECT_THROW(LogFileWriter{o}, std::invalid_argument);
  auto p = options();
  p.path.clear();
  EXPECT_THROW(LogFileWriter{p}, std::invalid_argument);
}

}  // namespace
}  // namespace llmproxy::shell
