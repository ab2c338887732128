#include "proxy/shell/log_file_writer.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "proxy/core/log/log.h"
#include "proxy/core/log/rotation.h"
#include "proxy/shell/gzip_file.h"

namespace llmproxy::shell {
namespace {

namespace fs = std::filesystem;

std::string errno_text(int e) { return std::error_code(e, std::generic_category()).message(); }

std::uint64_t count_lines(std::string_view s) {
  return static_cast<std::uint64_t>(std::count(s.begin(), s.end(), '\n'));
}

bool exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

}  // namespace

LogFileWriterOptions file_writer_options(const config::LogFileConfig& f, std::function<WallTime()> clock) {
  LogFileWriterOptions o;
  o.target = LogTarget::file;
  o.path = f.path;
  o.rotate = f.rotate;
  o.max_bytes = log::max_size_bytes(f);
  o.max_age = log::max_age(f);
  o.compress = f.compress;
  o.clock = std::move(clock);
  return o;
}

std::optional<LogFileWriterOptions> access_log_writer_options(const config::AccessLogConfig& a,
                                                              std::function<WallTime()> clock) {
  if (a.storage == "file") return file_writer_options(a.file, std::move(clock));
  if (a.storage != "stdout") return std::nullopt;
  LogFileWriterOptions o;
  o.target = LogTarget::to_stdout;
  o.clock = std::move(clock);
  return o;
}

LogFileWriterOptions system_log_writer_options(const config::LogConfig& l, std::function<WallTime()> clock) {
  LogFileWriterOptions o = file_writer_options(l.file, std::move(clock));
  o.target = l.output == config::LogOutput::to_file     ? LogTarget::file
             : l.output == config::LogOutput::to_stderr ? LogTarget::to_stderr
                                                        : LogTarget::to_stdout;
  o.name = "system log";
  o.warn = [](std::string_view message) {
    std::string line = "llmproxy: ";
    line += message;
    line += '\n';
    (void)!::write(2, line.data(), line.size());
  };
  return o;
}

struct LogFileWriter::Impl {
  explicit Impl(LogFileWriterOptions options) : o(std::move(options)) {
    if (!o.clock) throw std::invalid_argument("LogFileWriter needs a clock");
    if (o.target == LogTarget::file && o.path.empty()) throw std::invalid_argument("LogFileWriter needs a path");
    if (o.queue_bytes == 0) o.queue_bytes = 1;
    if (o.max_bytes == 0) o.max_bytes = 1;
    // Both buffers hold a full queue, so submit() never allocates.
    front.reserve(o.queue_bytes);
    back.reserve(o.queue_bytes);
    const fs::path p(o.path);
    dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
    base = p.filename().string();
    thread = std::thread([this] { run(); });
  }

  ~Impl() {
    {
      std::lock_guard lk(mu);
      stop = true;
    }
    wake.notify_one();
    thread.join();
    if (fd >= 0) ::close(fd);
  }

  bool submit(std::string_view lines) {
    if (lines.empty()) return true;
    const bool add_newline = lines.back() != '\n';
    const std::size_t n = lines.size() + (add_newline ? 1 : 0);
    const std::uint64_t count = count_lines(lines) + (add_newline ? 1 : 0);
    std::unique_lock lk(mu);
    if (stop || front.size() + n > o.queue_bytes) {
      lk.unlock();
      dropped.fetch_add(count, std::memory_order_relaxed);
      queue_drops.fetch_add(count, std::memory_order_relaxed);
      return false;
    }
    front.append(lines);
    if (add_newline) front.push_back('\n');
    front_lines += count;
    accepted += n;
    // Only the first line of a batch wakes a sleeping writer; a writer
    // gathering a batch (flush_interval) is woken early only by a full one.
    const bool notify = (writer_sleeping && front.size() == n) ||
                        (writer_gathering && front.size() >= o.batch_bytes &&
                         front.size() - n < o.batch_bytes);
    lk.unlock();
    if (notify) wake.notify_one();
    return true;
  }

  void flush() {
    std::unique_lock lk(mu);
    const std::uint64_t target = accepted;
    flush_requested = true;
    wake.notify_one();
    progress.wait(lk, [&] { return (handled >= target && jobs_pending == 0) || exited; });
  }

  // ---------------------------------------------------------------- writer thread

  void run() {
    // A closed stdout pipe must make write() fail with EPIPE, not kill the
    // process; blocking the signal here affects only this thread.
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);

    std::unique_lock lk(mu);
    for (;;) {
      while (front.empty() && !stop && jobs.empty()) {
        writer_sleeping = true;
        wake.wait(lk);
        writer_sleeping = false;
      }
      if (front.empty() && stop) break;  // unfinished compression is left for the next start
      // Gather lines for up to flush_interval (or until batch_bytes): one
      // wake-up and one write() per batch instead of one per request.
      if (!front.empty() && o.flush_interval.count() > 0) {
        writer_gathering = true;
        wake.wait_for(lk, o.flush_interval, [&] {
          return stop || flush_requested || front.size() >= o.batch_bytes;
        });
        writer_gathering = false;
      }
      flush_requested = false;
      back.swap(front);
      const std::uint64_t lines = front_lines;
      const std::uint64_t batch_end = accepted;
      front_lines = 0;
      lk.unlock();

      // One slice of compression per round, so it progresses under steady
      // load too, and a batch waits for at most one slice.
      if (!back.empty()) write_batch(back, lines);
      step_compression();
      back.clear();
      report_drops();

      lk.lock();
      handled = batch_end;
      jobs_pending = jobs.size();
      progress.notify_all();
    }
    exited = true;
    progress.notify_all();
  }

  void write_batch(std::string_view batch, std::uint64_t lines) {
    if (o.target != LogTarget::file) {
      const int out = o.stream_fd >= 0 ? o.stream_fd : o.target == LogTarget::to_stdout ? 1 : 2;
      write_span(out, batch);
      return;
    }
    const WallTime now = o.clock();
    if (fd < 0 && !open_file(now, false)) {
      drop(lines);
      return;
    }
    if (o.rotate != config::Rotate::size && log::period_start(o.rotate, now) > period) {
      rotate_file(now);
      if (fd < 0) {
        drop(lines);
        return;
      }
    }
    std::string_view rest = batch;
    while (!rest.empty()) {
      std::size_t take = rest.size();
      if (o.rotate == config::Rotate::size && size + take > o.max_bytes) {
        // Whole lines only: the longest run of lines that still fits, or,
        // in an empty file, at least the first line however long.
        const std::size_t room = size < o.max_bytes ? o.max_bytes - size : 0;
        const auto cut = room == 0 ? std::string_view::npos : rest.substr(0, room).rfind('\n');
        if (cut != std::string_view::npos) {
          take = cut + 1;
        } else if (size > 0) {
          rotate_file(now);
          if (fd < 0) {
            drop(count_lines(rest));
            return;
          }
          continue;
        } else {
          take = rest.find('\n') + 1;  // every queued text ends in '\n'
        }
      }
      const std::size_t n = write_span(fd, rest.substr(0, take));
      size += n;
      if (n < take) {
        // Disk full or an I/O error: the rest of the batch goes too, and the
        // next open waits reopen_interval, as after a failed open.
        drop(count_lines(rest.substr(take)));
        close_file();
        last_open_attempt = now;
        return;
      }
      rest.remove_prefix(take);
    }
  }

  // Writes all of `s` (retrying short writes); returns the bytes written.
  // What is not written is dropped and counted.
  std::size_t write_span(int out, std::string_view s) {
    std::size_t done = 0;
    while (done < s.size()) {
      const ssize_t n = ::write(out, s.data() + done, s.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        reason = "write failed: " + errno_text(errno);
        break;
      }
      done += static_cast<std::size_t>(n);
    }
    written.fetch_add(count_lines(s.substr(0, done)), std::memory_order_relaxed);
    if (done < s.size()) drop(count_lines(s.substr(done)));
    return done;
  }

  bool open_file(WallTime now, bool force) {
    if (!force && opened_once && now - last_open_attempt < o.reopen_interval) return false;
    opened_once = true;
    last_open_attempt = now;
    std::error_code ec;
    fs::create_directories(dir, ec);  // an error shows up as the open's
    fd = ::open(o.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      reason = "cannot open " + o.path + ": " + errno_text(errno);
      return false;
    }
    struct stat st {};
    size = ::fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
    period = log::period_start(o.rotate, now);
    if (size > 0 && o.rotate != config::Rotate::size) {
      // A file left from an earlier period is rotated under its own name.
      const WallTime modified(std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec));
      period = std::min(period, log::period_start(o.rotate, modified));
    }
    if (!cleaned_once) {
      cleaned_once = true;
      clean_up(now);
    }
    return true;
  }

  void close_file() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }

  void rotate_file(WallTime now) {
    close_file();
    const WallTime stamp = o.rotate == config::Rotate::size ? now : period;
    std::string target;
    for (int n = 0; n < 1000; ++n) {
      target = log::rotated_name(o.path, o.rotate, stamp, n);
      if (!exists(target) && !exists(target + ".gz")) break;
    }
    if (::rename(o.path.c_str(), target.c_str()) != 0) {
      // Keep logging into the same file rather than lose lines; try again
      // at the next boundary.
      const int e = errno;
      warn(o.name + ": cannot rotate " + o.path + " to " + target + ": " + errno_text(e));
      if (open_file(now, true)) size = 0;
      period = log::period_start(o.rotate, now);
      return;
    }
    if (open_file(now, true)) period = log::period_start(o.rotate, now);
    clean_up(now);
  }

  // Deletes this log's rotated files past max_age, queues uncompressed ones
  // for compression, and removes stale partial .gz.tmp files.
  void clean_up(WallTime now) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      const std::string full = (dir / name).string();
      if (name.size() > kGzipTempSuffix.size() &&
          name.compare(name.size() - kGzipTempSuffix.size(), kGzipTempSuffix.size(), kGzipTempSuffix) == 0) {
        const std::string source = name.substr(0, name.size() - kGzipTempSuffix.size());
        if (log::parse_rotated_name(source, base) && !has_job((dir / source).string())) ::unlink(full.c_str());
        continue;
      }
      const auto rotated = log::parse_rotated_name(name, base);
      if (!rotated) continue;
      if (log::expired(rotated->closed_at, o.max_age, now)) {
        remove_job(full);
        ::unlink(full.c_str());
      } else if (o.compress && !rotated->compressed && !has_job(full)) {
        jobs.push_back(std::make_unique<GzipJob>(full));
      }
    }
  }

  bool has_job(const std::string& source) const {
    return std::any_of(jobs.begin(), jobs.end(), [&](const auto& j) { return j->source() == source; });
  }

  void remove_job(const std::string& source) {
    jobs.erase(std::remove_if(jobs.begin(), jobs.end(), [&](const auto& j) { return j->source() == source; }),
               jobs.end());
  }

  void step_compression() {
    if (jobs.empty()) return;
    const auto status = jobs.front()->step(o.compress_slice);
    if (status == GzipJob::Status::running) return;
    if (status == GzipJob::Status::failed) warn(o.name + ": compression failed: " + jobs.front()->error());
    jobs.pop_front();
  }

  void drop(std::uint64_t lines) {
    dropped.fetch_add(lines, std::memory_order_relaxed);
    unreported += lines;
  }

  // At most one warning per warn_interval, carrying every drop since the last.
  void report_drops() {
    const std::uint64_t from_queue = queue_drops.exchange(0, std::memory_order_relaxed);
    if (from_queue != 0) {
      unreported += from_queue;
      reason = "queue full";
    }
    if (unreported == 0) return;
    const WallTime now = o.clock();
    if (last_warning && now - *last_warning < o.warn_interval) return;
    last_warning = now;
    warn(o.name + ": " + std::to_string(unreported) + " lines dropped (" + reason + "); " +
                  std::to_string(dropped.load(std::memory_order_relaxed)) + " dropped in total");
    unreported = 0;
  }

  void warn(const std::string& message) const {
    if (o.warn) o.warn(message);
    else log::warn(message);
  }

  LogFileWriterOptions o;
  fs::path dir;
  std::string base;

  // Shared with the event loops, under mu.
  std::mutex mu;
  std::condition_variable wake;      // the writer waits for lines or stop
  std::condition_variable progress;  // flush() waits for the writer
  std::string front;                 // queued lines
  std::uint64_t front_lines = 0;
  std::uint64_t accepted = 0;        // bytes ever queued
  std::uint64_t handled = 0;         // of those, written or dropped by the writer
  std::size_t jobs_pending = 0;
  bool writer_sleeping = false;
  bool writer_gathering = false;  // waiting out flush_interval with lines queued
  bool flush_requested = false;   // flush(): write what is queued now
  bool stop = false;
  bool exited = false;
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> written{0};
  std::atomic<std::uint64_t> queue_drops{0};  // not yet seen by the writer

  // The writer thread's own.
  std::string back;
  int fd = -1;
  std::uint64_t size = 0;
  WallTime period{};
  bool opened_once = false;
  bool cleaned_once = false;
  WallTime last_open_attempt{};
  std::deque<std::unique_ptr<GzipJob>> jobs;
  std::optional<WallTime> last_warning;
  std::uint64_t unreported = 0;
  std::string reason;

  std::thread thread;  // last: started once everything above exists
};

LogFileWriter::LogFileWriter(LogFileWriterOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
LogFileWriter::~LogFileWriter() = default;

bool LogFileWriter::submit(std::string_view lines) { return impl_->submit(lines); }
void LogFileWriter::flush() { impl_->flush(); }
std::uint64_t LogFileWriter::dropped_lines() const { return impl_->dropped.load(std::memory_order_relaxed); }
std::uint64_t LogFileWriter::written_lines() const { return impl_->written.load(std::memory_order_relaxed); }

}  // namespace llmproxy::shell
