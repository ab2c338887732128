#include "sim/network.h"

#include <boost/asio/error.hpp>

namespace llmproxy::sim {

const char* to_string(Fault fault) {
  switch (fault) {
    case Fault::none: return "none";
    case Fault::refuse: return "refuse";
    case Fault::hang: return "hang";
    case Fault::black_hole: return "black_hole";
  }
  return "?";
}

Network::Network(World& world) : world_(world), rng_(world.rng_for("network")) {}

Network::~Network() {
  // Heal callbacks own connections, whose destructors unregister here.
  auto waiters = std::move(heal_waiters_);
  heal_waiters_.clear();
  waiters.clear();
}

Host& Network::host(std::string_view name) {
  auto it = hosts_.find(name);
  if (it != hosts_.end()) return it->second;
  const std::size_t index = hosts_.size();
  Host h;
  h.name = std::string(name);
  h.ip = "10.0." + std::to_string(index / 254) + "." + std::to_string(index % 254 + 1);
  ip_to_name_.emplace(h.ip, h.name);
  world_.record("world", "host", h.name + " " + h.ip);
  return hosts_.emplace(h.name, std::move(h)).first->second;
}

Host* Network::find(std::string_view name_or_ip) {
  auto it = hosts_.find(name_or_ip);
  if (it != hosts_.end()) return &it->second;
  auto ip = ip_to_name_.find(name_or_ip);
  if (ip != ip_to_name_.end()) return &hosts_.find(ip->second)->second;
  return nullptr;
}

Host* Network::resolve(const Host& from, std::string_view name_or_ip) {
  if (name_or_ip == "localhost" || name_or_ip == "127.0.0.1" || name_or_ip == "::1") {
    return find(from.name);
  }
  return find(name_or_ip);
}

Network::Pair Network::unordered(std::string_view a, std::string_view b) {
  if (b < a) std::swap(a, b);
  return {std::string(a), std::string(b)};
}

void Network::log_fault(std::string_view what, std::string detail) {
  world_.record("network", what, std::move(detail));
}

void Network::set_default_latency(Duration one_way) { default_latency_ = one_way; }
void Network::set_loopback_latency(Duration one_way) { loopback_latency_ = one_way; }

void Network::set_latency(std::string_view a, std::string_view b, Duration one_way) {
  set_one_way_latency(a, b, one_way);
  set_one_way_latency(b, a, one_way);
}

void Network::set_one_way_latency(std::string_view from, std::string_view to, Duration one_way) {
  latency_[{std::string(from), std::string(to)}] = one_way;
  log_fault("latency", std::string(from) + "->" + std::string(to) + " " +
                           std::to_string(one_way.count()) + "ns");
}

Duration Network::latency(const Host& from, const Host& to) const {
  auto it = latency_.find({from.name, to.name});
  if (it != latency_.end()) return it->second;
  return from.name == to.name ? loopback_latency_ : default_latency_;
}

void Network::set_jitter(Duration max_extra) {
  jitter_ = max_extra;
  log_fault("jitter", std::to_string(max_extra.count()) + "ns");
}

Duration Network::transit_delay(const Host& from, const Host& to) {
  Duration d = latency(from, to);
  if (jitter_.count() > 0) d += Duration(static_cast<Duration::rep>(rng_.below(jitter_.count())));
  return d;
}

void Network::register_connection(std::uint64_t id, ConnectionControl* connection) {
  connections_.emplace(id, connection);
}

void Network::unregister_connection(std::uint64_t id) { connections_.erase(id); }

std::size_t Network::reset_connections(std::string_view host_name) {
  Host* h = find(host_name);
  if (h == nullptr) return 0;
  log_fault("reset-connections", std::string(host_name));
  // Collect first: resetting may end connections (and unregister them).
  std::vector<std::uint64_t> ids;
  for (const auto& [id, c] : connections_) ids.push_back(id);
  std::size_t reset = 0;
  for (std::uint64_t id : ids) {
    auto it = connections_.find(id);
    if (it != connections_.end()) reset += it->second->reset_endpoints_on(*h);
  }
  return reset;
}

void Network::set_host_fault(std::string_view host, Fault fault) {
  if (fault == Fault::none) {
    host_faults_.erase(std::string(host));
  } else {
    host_faults_[std::string(host)] = fault;
  }
  log_fault("fault", "host " + std::string(host) + " " + to_string(fault));
}

void Network::set_pair_fault(std::string_view from, std::string_view to, Fault fault) {
  Pair key{std::string(from), std::string(to)};
  if (fault == Fault::none) {
    pair_faults_.erase(key);
  } else {
    pair_faults_[key] = fault;
  }
  log_fault("fault", "pair " + key.first + "->" + key.second + " " + to_string(fault));
}

Fault Network::fault_for(const Host& from, const Host& to) const {
  auto pair = pair_faults_.find({from.name, to.name});
  if (pair != pair_faults_.end()) return pair->second;
  auto host = host_faults_.find(to.name);
  if (host != host_faults_.end()) return host->second;
  return Fault::none;
}

void Network::partition(std::string_view a, std::string_view b) {
  const Pair key = unordered(a, b);
  ++partitions_[key];
  log_fault("partition", key.first + "<->" + key.second);
}

void Network::heal(std::string_view a, std::string_view b) {
  const Pair key = unordered(a, b);
  auto it = partitions_.find(key);
  if (it == partitions_.end()) return;
  if (--it->second > 0) return;
  partitions_.erase(it);
  log_fault("heal", key.first + "<->" + key.second);
  auto waiters = heal_waiters_.find(key);
  if (waiters == heal_waiters_.end()) return;
  std::vector<std::function<void()>> fns = std::move(waiters->second);
  heal_waiters_.erase(waiters);
  for (auto& fn : fns) fn();
}

void Network::partition_between(std::string_view a, std::string_view b, TimePoint from,
                                TimePoint until) {
  at(from, [a = std::string(a), b = std::string(b)](Network& n) { n.partition(a, b); });
  at(until, [a = std::string(a), b = std::string(b)](Network& n) { n.heal(a, b); });
}

bool Network::partitioned(const Host& a, const Host& b) const {
  return partitions_.count(unordered(a.name, b.name)) != 0;
}

void Network::when_healed(const Host& a, const Host& b, std::function<void()> fn) {
  if (!partitioned(a, b)) {
    world_.schedule(world_.now(), std::move(fn));
    return;
  }
  heal_waiters_[unordered(a.name, b.name)].push_back(std::move(fn));
}

EventId Network::at(TimePoint when, std::function<void(Network&)> change) {
  return world_.schedule(when, [this, change = std::move(change)] { change(*this); });
}

boost::system::error_code Network::add_listener(Host& host, std::uint16_t& port,
                                                 bool reuse_port, SimAcceptor* acceptor) {
  if (port == 0) {
    while (listeners_.count({host.name, host.next_listen_port}) != 0) ++host.next_listen_port;
    port = host.next_listen_port++;
  }
  Listener& l = listeners_[{host.name, port}];
  if (!l.acceptors.empty() && !(l.reuse_port && reuse_port)) {
    return boost::asio::error::address_in_use;
  }
  l.reuse_port = reuse_port;
  l.acceptors.push_back(acceptor);
  world_.record(host.name, "listen", std::to_string(port));
  return {};
}

void Network::remove_listener(const Host& host, std::uint16_t port, SimAcceptor* acceptor) {
  auto it = listeners_.find({host.name, port});
  if (it == listeners_.end()) return;
  auto& v = it->second.acceptors;
  std::erase(v, acceptor);
  if (v.empty()) listeners_.erase(it);
  if (!world_.shutting_down()) world_.record(host.name, "unlisten", std::to_string(port));
}

SimAcceptor* Network::pick_listener(const Host& host, std::uint16_t port) {
  auto it = listeners_.find({host.name, port});
  if (it == listeners_.end()) return nullptr;
  Listener& l = it->second;
  SimAcceptor* a = l.acceptors[l.next % l.acceptors.size()];
  l.next = (l.next + 1) % l.acceptors.size();
  return a;
}

}  // namespace llmproxy::sim
