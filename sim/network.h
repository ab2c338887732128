// The simulated network: hosts (name -> deterministic 10.0.x.y address),
// listeners, one-way latencies, and faults.
//
// Faults (see docs/simulator.md):
//   refuse     connect -> connection_refused after one round trip;
//   hang       connect never completes (the caller's deadline fires);
//   black_hole connect completes, every byte sent is silently dropped and
//              nothing ever comes back;
//   partition  between two hosts: segments are not delivered while it lasts
//              (TCP retransmits, so established connections stall and
//              resume after the heal; new connects wait for the heal).
// Host faults apply to connects towards that host; pair faults to connects
// from one host to another and take precedence. Changes can be scheduled at
// virtual times with at().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/system/error_code.hpp>

#include "proxy/core/random.h"
#include "proxy/core/time.h"
#include "sim/world.h"

namespace llmproxy::sim {

class SimAcceptor;
struct Host;

// What the network needs from a live connection (sim_stream.cpp).
class ConnectionControl {
 public:
  // Resets (RST) every open endpoint of this connection that lives on
  // `host`; returns how many.
  virtual std::size_t reset_endpoints_on(const Host& host) = 0;

 protected:
  ~ConnectionControl() = default;
};

enum class Fault { none, refuse, hang, black_hole };
const char* to_string(Fault fault);

// Options of the simulated TCP connections a host opens (or accepts).
struct StreamOptions {
  // Receive buffer (window) of each endpoint: a writer blocks once this many
  // bytes are in flight towards, or unread at, its peer.
  std::size_t receive_buffer = 256 * 1024;
  // read_some returns a seeded-random number of bytes in [1, available], to
  // exercise split handling in parsers.
  bool random_read_split = false;
  // Upper bound on one read_some (0 = the caller's buffer size).
  std::size_t max_read = 0;
};

struct Host {
  std::string name;
  std::string ip;  // 10.0.x.y, assigned in creation order
  std::uint16_t next_ephemeral_port = 49152;
  std::uint16_t next_listen_port = 40000;
};

class Network {
 public:
  explicit Network(World& world);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  World& world() { return world_; }

  // The host with this name, created on first use.
  Host& host(std::string_view name);
  // Looks up a host by name or IP; "localhost"/"127.0.0.1"/"::1" mean `from`.
  Host* resolve(const Host& from, std::string_view name_or_ip);
  Host* find(std::string_view name_or_ip);

  // Latency ------------------------------------------------------------------
  void set_default_latency(Duration one_way);
  void set_loopback_latency(Duration one_way);
  void set_latency(std::string_view a, std::string_view b, Duration one_way);  // both ways
  void set_one_way_latency(std::string_view from, std::string_view to, Duration one_way);
  Duration latency(const Host& from, const Host& to) const;
  // Extra per-segment delay, uniform in [0, max_extra), drawn from the
  // network's generator (segments of one direction still arrive in order).
  void set_jitter(Duration max_extra);
  // One-way latency plus a jitter sample: the transit time of one segment.
  Duration transit_delay(const Host& from, const Host& to);

  // Faults -------------------------------------------------------------------
  void set_host_fault(std::string_view host, Fault fault);
  void set_pair_fault(std::string_view from, std::string_view to, Fault fault);
  Fault fault_for(const Host& from, const Host& to) const;

  // Partition between two hosts (both directions) from now until heal().
  void partition(std::string_view a, std::string_view b);
  void heal(std::string_view a, std::string_view b);
  // A partition for the window [from, until).
  void partition_between(std::string_view a, std::string_view b, TimePoint from, TimePoint until);
  bool partitioned(const Host& a, const Host& b) const;
  // Runs `fn` once the partition between a and b heals (at once, through the
  // event heap, if there is none).
  void when_healed(const Host& a, const Host& b, std::function<void()> fn);

  // A host crash, as its peers see it: every open connection endpoint on
  // `host` is reset (peers get connection_reset; the host's own pending
  // operations are aborted). Returns the number of endpoints reset. Combine
  // with set_host_fault(host, Fault::refuse) while the host is down.
  std::size_t reset_connections(std::string_view host);

  // Schedules a change of network state at a virtual time.
  EventId at(TimePoint when, std::function<void(Network&)> change);

  // Listeners ----------------------------------------------------------------
  // Registers `acceptor` on host:port; port 0 allocates one. Fails with
  // address_in_use unless every listener on the port asked for reuse_port.
  boost::system::error_code add_listener(Host& host, std::uint16_t& port, bool reuse_port,
                                         SimAcceptor* acceptor);
  void remove_listener(const Host& host, std::uint16_t port, SimAcceptor* acceptor);
  // The listener that gets the next connection (round robin among reuse_port
  // listeners), or nullptr.
  SimAcceptor* pick_listener(const Host& host, std::uint16_t port);

  // Default options for new connections, and the generator that seeds them.
  StreamOptions& stream_options() { return stream_options_; }
  Rng& rng() { return rng_; }
  std::uint64_t next_connection_id() { return ++last_connection_id_; }
  void register_connection(std::uint64_t id, ConnectionControl* connection);
  void unregister_connection(std::uint64_t id);
  std::size_t open_connections() const { return connections_.size(); }

 private:
  using Pair = std::pair<std::string, std::string>;
  static Pair unordered(std::string_view a, std::string_view b);
  void log_fault(std::string_view what, std::string detail);

  struct Listener {
    bool reuse_port = false;
    std::vector<SimAcceptor*> acceptors;
    std::size_t next = 0;
  };

  World& world_;
  std::map<std::string, Host, std::less<>> hosts_;
  std::map<std::string, std::string, std::less<>> ip_to_name_;
  Duration default_latency_ = std::chrono::microseconds(100);
  Duration loopback_latency_ = std::chrono::microseconds(10);
  Duration jitter_{0};
  std::map<Pair, Duration> latency_;
  std::map<std::string, Fault, std::less<>> host_faults_;
  std::map<Pair, Fault> pair_faults_;
  std::map<Pair, int> partitions_;  // count: overlapping windows nest
  std::map<Pair, std::vector<std::function<void()>>> heal_waiters_;
  std::map<std::pair<std::string, std::uint16_t>, Listener> listeners_;
  std::map<std::uint64_t, ConnectionControl*> connections_;
  StreamOptions stream_options_;
  Rng rng_;
  std::uint64_t last_connection_id_ = 0;
};

}  // namespace llmproxy::sim
