#include "proxy/stores/redis/errors.h"

#include <string>

namespace llmproxy::stores::redis {
namespace {

class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "redis"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::server_error: return "redis server error reply";
      case errc::protocol_error: return "redis protocol error";
      case errc::backoff: return "redis unreachable, waiting before reconnecting";
      case errc::auth_failed: return "redis AUTH failed";
      case errc::select_failed: return "redis SELECT failed";
      case errc::bad_reply: return "unexpected redis reply";
      case errc::bad_address: return "bad redis address (want host:port)";
    }
    return "redis error " + std::to_string(ev);
  }
};

}  // namespace

const boost::system::error_category& category() noexcept {
  static const Category instance;
  return instance;
}

}  // namespace llmproxy::stores::redis
