// Writes log lines (the access log; the system log when log.output is file)
// to a file with rotation, or to stdout/stderr, without an event loop ever
// waiting on a disk (BEHAVIOR §10).
//
// Threads: one of the shell's documented exceptions to "no threads". Each
// writer owns one background thread that does all the file I/O. Only the
// production wiring (serve) may construct one; a simulation must not (its
// logs go to an in-memory sink), which is why the thread is allowed only in
// this file (scripts/check-hazards, scripts/hazard-symbols.allow).
//
// Event-loop side — submit(): copies the line into a bounded queue
// (queue_bytes, reserved up front) under a mutex; no system call unless the
// mutex is contended or the writer thread is asleep on an empty queue, in
// which case it is woken once for the whole batch that follows. Never blocks
// on I/O and never allocates. A line that does not fit is dropped and
// counted.
//
// Writer thread: takes everything queued as one batch and writes it with
// one write() (one per file when a rotation falls inside the batch). Files
// are opened O_APPEND (mode 0644 before umask), their missing parent
// directories created. Rotation, names and ages: proxy/core/log/rotation.h.
// A time-rotated file is rotated when a batch is written in a later period
// (a file found at start-up from an earlier period is rotated under its own
// period's name); a line goes to the file of the moment it is written, which
// may be a moment after it was submitted. After each rotation and at the
// first open, rotated files of this log past max_age are deleted and, with
// compress, uncompressed ones are gzipped (gzip_file.h) a slice at a time
// between batches; a stale partial .gz.tmp is removed. Compression left
// unfinished at shutdown is picked up by the next start.
//
// Failures never stall or fail a request: a file that cannot be opened, a
// failed write (ENOSPC, EIO, a closed pipe — SIGPIPE is blocked on the
// writer thread) or a full queue drops the lines concerned and counts them
// (dropped_lines(), readable from any thread; a line cut by a failed write
// counts as dropped). A warning then goes to the system log (or `warn`) at
// most once per warn_interval, with the count since the previous one; drops
// after the last warning are reported with the next drop after the
// interval. After a failed open or write the file is closed, and opening is
// retried with the first batch at least reopen_interval later (by the
// injected clock); batches before that are dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/core/config/logging.h"
#include "proxy/core/config/system_log.h"
#include "proxy/core/time.h"

namespace llmproxy::shell {

enum class LogTarget : std::uint8_t { file, to_stdout, to_stderr };

struct LogFileWriterOptions {
  LogTarget target = LogTarget::file;
  std::string path;                              // target == file
  config::Rotate rotate = config::Rotate::daily;
  std::uint64_t max_bytes = 100'000'000;         // rotate == size
  Duration max_age = std::chrono::hours(24 * 7); // rotated files older are deleted; 0 keeps them
  bool compress = false;                         // gzip rotated files
  std::size_t queue_bytes = std::size_t{8} << 20;
  // Lines are gathered for up to flush_interval, or until batch_bytes are
  // queued, and then written together (as nginx's access_log buffer= and
  // flush=): a line reaches the file at most flush_interval after it was
  // submitted. Waking the writer thread per request cost ~20 µs of CPU per
  // request (bench/ab.sh, 2026-12-07). 0 = write as soon as lines arrive.
  Duration flush_interval = std::chrono::milliseconds(200);
  std::size_t batch_bytes = std::size_t{64} << 10;
  Duration reopen_interval = std::chrono::seconds(1);
  Duration warn_interval = std::chrono::seconds(10);
  std::size_t compress_slice = std::size_t{1} << 20;  // source bytes per compression step
  // The wall clock (the environment's wall_now). Required. Called only on
  // the writer thread, so it must be safe to call from there.
  std::function<WallTime()> clock;
  // Where warnings go; null means log::warn. Called only on the writer thread.
  std::function<void(std::string_view message)> warn;
  std::string name = "access log";  // names this log in warnings
  int stream_fd = -1;               // to_stdout/to_stderr: another descriptor (tests)
};

// A config `file:` block (log.file, logging.access.file) as writer options:
// path, rotate, max_size (MB of 1,000,000 bytes), max_age (days), compress
// (rotation.h).
LogFileWriterOptions file_writer_options(const config::LogFileConfig& f, std::function<WallTime()> clock);
// logging.access: storage "stdout" → stdout, "file" → its file block;
// nullopt for a database (not this writer's job).
std::optional<LogFileWriterOptions> access_log_writer_options(const config::AccessLogConfig& a,
                                                              std::function<WallTime()> clock);
// log (the system log): output stdout, stderr or file. Its own warnings go
// straight to stderr — through the system log they would come back here.
LogFileWriterOptions system_log_writer_options(const config::LogConfig& l, std::function<WallTime()> clock);

class LogFileWriter {
 public:
  // Starts the writer thread. Throws std::invalid_argument without a clock,
  // or for target file without a path.
  explicit LogFileWriter(LogFileWriterOptions options);
  // Writes everything queued, then stops the thread.
  ~LogFileWriter();
  LogFileWriter(const LogFileWriter&) = delete;
  LogFileWriter& operator=(const LogFileWriter&) = delete;

  // Queues one or more complete lines (a missing final "\n" is added).
  // False when they were dropped because the queue is full.
  bool submit(std::string_view lines);

  // Blocks until every line submitted before the call is written or dropped
  // and no compression is pending. For tests and shutdown paths — never on
  // an event loop.
  void flush();

  std::uint64_t dropped_lines() const;
  std::uint64_t written_lines() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmproxy::shell
