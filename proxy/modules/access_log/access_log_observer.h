// The access log (logging.access, BEHAVIOR §10): one line per finished
// request, `combined` (nginx's format) or `json`
// (proxy/core/log/access_format.h), to stdout or a rotated file
// (proxy/shell/log_file_writer.h: a background thread does every disk
// write, so a slow or full disk never stalls a request; a line that does not
// fit the writer's queue is counted as dropped and warned about at most
// every 10 s). An observer of the pipeline: one per worker, sharing the
// process's writer.
#pragma once

#include <memory>
#include <string>

#include "proxy/core/config/config.h"
#include "proxy/shell/log_file_writer.h"
#include "proxy/shell/pipeline.h"

namespace llmproxy::modules::access_log {

class AccessLogObserver final : public shell::RequestObserver {
 public:
  AccessLogObserver(std::shared_ptr<shell::LogFileWriter> writer, config::AccessFormat format)
      : writer_(std::move(writer)), format_(format) {}
  void on_request_end(const shell::RequestRecord& record) override;

 private:
  std::shared_ptr<shell::LogFileWriter> writer_;
  const config::AccessFormat format_;
  std::string line_;  // reused
};

}  // namespace llmproxy::modules::access_log
