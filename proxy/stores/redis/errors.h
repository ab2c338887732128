// Errors of the Redis client (redis::errc) as a boost::system error category,
// so they travel through the same error_code out-params as the environment's
// I/O errors (asio::error::timed_out, connection_reset, …), which the client
// passes through unchanged.
#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace llmproxy::stores::redis {

enum class errc {
  server_error = 1,  // the server answered with an error reply (-ERR …); the Reply holds the text
  protocol_error,    // the bytes from the server are not RESP (the connection is dropped)
  backoff,           // not connected and a reconnect is not due yet: failing fast
  auth_failed,       // AUTH was refused after connecting
  select_failed,     // SELECT <db> was refused after connecting
  bad_reply,         // a well-formed reply of an unexpected shape (e.g. from a script)
  bad_address,       // the configured addr is not host:port
};

const boost::system::error_category& category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace llmproxy::stores::redis

template <>
struct boost::system::is_error_code_enum<llmproxy::stores::redis::errc> : std::true_type {};
