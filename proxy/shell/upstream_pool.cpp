#include "proxy/shell/upstream_pool.h"

namespace llmproxy::shell {

std::unique_ptr<env::Stream> UpstreamPool::take(std::size_t backend, TimePoint now) {
  auto& q = idle_[backend];
  // Most recently used first: it is the least likely to have been closed.
  while (!q.empty()) {
    Idle it = std::move(q.back());
    q.pop_back();
    if (it.stream->is_open() && now - it.since < idle_max_) {
      if (it.stream->peek() == env::Readiness::nothing) return std::move(it.stream);
      ++closed_readable_;
    }
    it.stream->close();
  }
  return nullptr;
}

void UpstreamPool::give_back(std::size_t backend, std::unique_ptr<env::Stream> s, TimePoint now,
                             std::size_t max_idle) {
  auto& q = idle_[backend];
  if (max_idle == 0 || !s->is_open()) {
    s->close();
    return;
  }
  if (q.size() >= max_idle) {
    q.front().stream->close();
    q.pop_front();
  }
  q.push_back(Idle{std::move(s), now});
}

void UpstreamPool::close_all() {
  for (auto& q : idle_) {
    for (auto& it : q) it.stream->close();
    q.clear();
  }
}

void UpstreamPool::adopt(std::size_t i, UpstreamPool& from, std::size_t from_index) {
  auto& src = from.idle_[from_index];
  for (auto& idle : src) idle_[i].push_back(std::move(idle));
  src.clear();
}

}  // namespace llmproxy::shell
