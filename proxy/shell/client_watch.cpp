#include "proxy/shell/client_watch.h"

namespace llmproxy::shell {

void ClientWatch::start(env::Stream& upstream) {
  upstream_ = &upstream;
  state_ = State::watching;
  client_.watch_readable(*this);
}

void ClientWatch::stop() {
  if (state_ == State::watching) client_.unwatch_readable();
  if (state_ != State::gone) state_ = State::off;
  upstream_ = nullptr;
}

void ClientWatch::left() {
  state_ = State::gone;
  if (upstream_) upstream_->cancel();
}

void ClientWatch::on_readable() {
  if (state_ != State::watching) return;
  switch (client_.peek()) {
    case env::Readiness::nothing:  // spurious: keep watching
      client_.watch_readable(*this);
      return;
    case env::Readiness::data:
      // A pipelined next request: it waits in the kernel until this one is
      // answered. The upstream read under way has its long deadline: it is
      // woken to start again with the short one.
      state_ = State::pipelined;
      next_check_ = env_.now() + kCheckEvery;
      if (upstream_) upstream_->cancel();
      return;
    case env::Readiness::data_then_eof:
    case env::Readiness::eof:
    case env::Readiness::failed:
      left();
      return;
  }
}

bool ClientWatch::woke_for_client(const env::error_code& ec, TimePoint deadline) const {
  if (state_ != State::pipelined) return false;
  return (ec == boost::asio::error::timed_out && env_.now() < deadline) ||
         ec == boost::asio::error::operation_aborted;
}

bool ClientWatch::check() {
  if (state_ != State::pipelined) return false;
  const TimePoint now = env_.now();
  if (now < next_check_) return false;
  next_check_ = now + kCheckEvery;
  if (client_.peek() == env::Readiness::data) return false;
  left();
  return true;
}

}  // namespace llmproxy::shell
