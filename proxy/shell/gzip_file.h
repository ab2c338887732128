// Compresses one rotated log file to "<file>.gz" a slice at a time, so the
// log writer's thread can go back to its queue between slices and a large
// file never holds up newer lines for long. Runs on the log writer's thread
// only (proxy/shell/log_file_writer.h); blocking file I/O.
//
// While it runs the output is "<file>.gz.tmp". When done the .gz carries
// the source's modification time and replaces the temporary name in one
// rename, and only then is the source removed: a crash at any point leaves
// the source intact (and at worst a stale .gz.tmp, which the writer's
// clean-up removes).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace llmproxy::shell {

inline constexpr std::string_view kGzipTempSuffix = ".gz.tmp";

class GzipJob {
 public:
  enum class Status { running, done, failed };

  explicit GzipJob(std::string source);
  ~GzipJob();  // an unfinished job removes its partial output, keeps the source
  GzipJob(const GzipJob&) = delete;
  GzipJob& operator=(const GzipJob&) = delete;

  // Compresses up to `budget` more bytes of the source (opening the files on
  // the first call). `failed` keeps the source and removes the partial
  // output; error() says why.
  Status step(std::size_t budget = std::size_t{1} << 20);

  const std::string& source() const { return source_; }
  std::string temp_path() const { return source_ + std::string(kGzipTempSuffix); }
  const std::string& error() const { return error_; }

 private:
  Status fail(const std::string& what);
  void close_files();

  std::string source_;
  std::string error_;
  std::vector<char> buf_;
  int in_ = -1;
  void* out_ = nullptr;  // gzFile; kept out of the header so includers need no zlib
  bool started_ = false;
  bool finished_ = false;
  long long mtime_sec_ = 0;
  long mtime_nsec_ = 0;
};

}  // namespace llmproxy::shell
