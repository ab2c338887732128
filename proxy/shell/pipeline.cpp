#include "proxy/shell/pipeline.h"

#include <algorithm>

namespace llmproxy::shell {
namespace {

class FunctionObserver final : public RequestObserver {
 public:
  explicit FunctionObserver(std::function<void(const RequestRecord&)> fn) : fn_(std::move(fn)) {}
  void on_request_end(const RequestRecord& r) override { fn_(r); }

 private:
  std::function<void(const RequestRecord&)> fn_;
};

}  // namespace

void Pipeline::add_filter(std::unique_ptr<Filter> filter) {
  const FilterPhase p = filter->phase();
  const auto at = std::find_if(filters_.begin(), filters_.end(),
                               [p](const auto& f) { return f->phase() > p; });
  filters_.insert(at, std::move(filter));
}

void Pipeline::add_observer(std::shared_ptr<RequestObserver> observer) {
  observers_.push_back(std::move(observer));
}

void Pipeline::observe(std::function<void(const RequestRecord&)> fn) {
  observers_.push_back(std::make_shared<FunctionObserver>(std::move(fn)));
}

void Pipeline::add_endpoint(std::string path, std::shared_ptr<EndpointHandler> handler,
                            Listener on) {
  auto& endpoints = endpoints_[static_cast<std::size_t>(on)];
  for (auto& [p, h] : endpoints) {
    if (p == path) {
      h = std::move(handler);
      return;
    }
  }
  endpoints.emplace_back(std::move(path), std::move(handler));
}

EndpointHandler* Pipeline::endpoint(std::string_view path, Listener on) const {
  for (const auto& [p, h] : endpoints_[static_cast<std::size_t>(on)])
    if (p == path) return h.get();
  return nullptr;
}

}  // namespace llmproxy::shell
