#include "proxy/shell/gzip_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <system_error>

namespace llmproxy::shell {
namespace {

std::string errno_text(int e) { return std::error_code(e, std::generic_category()).message(); }

}  // namespace

GzipJob::GzipJob(std::string source) : source_(std::move(source)) {}

GzipJob::~GzipJob() {
  if (!finished_) {
    close_files();
    if (started_) ::unlink(temp_path().c_str());
  }
}

void GzipJob::close_files() {
  if (in_ >= 0) ::close(in_);
  in_ = -1;
  if (out_ != nullptr) gzclose(static_cast<gzFile>(out_));
  out_ = nullptr;
}

GzipJob::Status GzipJob::fail(const std::string& what) {
  error_ = what;
  close_files();
  ::unlink(temp_path().c_str());
  finished_ = true;
  return Status::failed;
}

GzipJob::Status GzipJob::step(std::size_t budget) {
  if (finished_) return error_.empty() ? Status::done : Status::failed;
  if (!started_) {
    started_ = true;
    in_ = ::open(source_.c_str(), O_RDONLY | O_CLOEXEC);
    if (in_ < 0) return fail("cannot open " + source_ + ": " + errno_text(errno));
    struct stat st {};
    if (::fstat(in_, &st) != 0) return fail("cannot stat " + source_ + ": " + errno_text(errno));
    mtime_sec_ = st.st_mtim.tv_sec;
    mtime_nsec_ = st.st_mtim.tv_nsec;
    const std::string tmp = temp_path();
    ::unlink(tmp.c_str());  // a stale one from a crash
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return fail("cannot create " + tmp + ": " + errno_text(errno));
    out_ = gzdopen(fd, "wb6");
    if (out_ == nullptr) {
      ::close(fd);
      return fail("cannot start gzip for " + tmp);
    }
  }
  buf_.resize(64 * 1024);
  std::size_t done = 0;
  while (done < budget) {
    const ssize_t n = ::read(in_, buf_.data(), buf_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot read " + source_ + ": " + errno_text(errno));
    }
    if (n == 0) break;
    if (gzwrite(static_cast<gzFile>(out_), buf_.data(), static_cast<unsigned>(n)) != static_cast<int>(n))
      return fail("cannot write " + temp_path());
    done += static_cast<std::size_t>(n);
  }
  if (done >= budget) return Status::running;

  // End of the source: finish the gzip stream, then publish it.
  const int rc = gzclose(static_cast<gzFile>(out_));
  out_ = nullptr;
  if (rc != Z_OK) return fail("cannot finish " + temp_path() + " (zlib error " + std::to_string(rc) + ")");
  ::close(in_);
  in_ = -1;
  const std::string tmp = temp_path();
  const struct timespec times[2] = {{mtime_sec_, mtime_nsec_}, {mtime_sec_, mtime_nsec_}};
  ::utimensat(AT_FDCWD, tmp.c_str(), times, 0);  // best effort: ages come from the name; the time is for people
  if (::rename(tmp.c_str(), (source_ + ".gz").c_str()) != 0)
    return fail("cannot rename " + tmp + ": " + errno_text(errno));
  ::unlink(source_.c_str());
  finished_ = true;
  return Status::done;
}

}  // namespace llmproxy::shell
