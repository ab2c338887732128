#include "sim/sim_stream.h"

#include <boost/asio/error.hpp>
#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <cstring>
#include <deque>
#include <optional>
#include <utility>

namespace llmproxy::sim {

namespace detail {

using BufferList = boost::container::small_vector<asio::const_buffer, 4>;
using OpId = World::OpId;

// Bytes that arrived at an endpoint and were not read yet.
class ByteQueue {
 public:
  std::size_t size() const { return data_.size() - head_; }
  bool empty() const { return size() == 0; }
  void append(const std::string& bytes) {
    if (empty()) {
      data_.clear();
      head_ = 0;
    }
    data_ += bytes;
  }
  std::size_t take(void* out, std::size_t n) {
    n = std::min(n, size());
    std::memcpy(out, data_.data() + head_, n);
    head_ += n;
    if (head_ > 4096 && head_ * 2 > data_.size()) {
      data_.erase(0, head_);
      head_ = 0;
    }
    return n;
  }
  void clear() {
    data_.clear();
    head_ = 0;
  }

 private:
  std::string data_;
  std::size_t head_ = 0;
};

struct Segment {
  enum Kind { data, fin, rst } kind;
  TimePoint arrive;
  std::string bytes;
};

struct ReadOp {
  OpId id;
  asio::mutable_buffer buf;
  std::size_t* out;
  EventId deadline;
};

struct WriteOp {
  OpId id;
  BufferList bufs;
  std::size_t index = 0;   // current buffer
  std::size_t offset = 0;  // bytes of it already accepted
  std::size_t* out;
  EventId deadline;
};

// One endpoint's state. "incoming" is what travels towards this endpoint.
struct Side {
  Host* host = nullptr;
  std::uint16_t port = 0;
  std::string address;  // "ip:port"
  bool sink = false;

  ByteQueue rx;
  std::deque<Segment> incoming;
  std::size_t in_flight = 0;  // data bytes in `incoming`
  TimePoint last_arrival{};
  bool stalled = false;  // deliveries wait for a partition to heal

  bool fin_received = false;
  bool reset_received = false;
  bool closed = false;
  bool send_shut = false;
  bool rst_sent = false;

  std::optional<ReadOp> read;
  std::optional<WriteOp> write;

  // Readiness watch: the listener, and a generation that makes notifications
  // scheduled for an earlier watch void.
  env::ReadListener* listener = nullptr;
  std::uint64_t watch_gen = 0;
};

class Connection final : public World::OpOwner,
                         public ConnectionControl,
                         public std::enable_shared_from_this<Connection> {
 public:
  Connection(World& world, const EndpointSpec& a, const EndpointSpec& b,
             const StreamOptions& options)
      : world_(world),
        net_(world.network()),
        options_(options),
        rng_(world.network().rng().split()),
        id_(world.network().next_connection_id()),
        name_("c" + std::to_string(id_)) {
    init(sides_[0], a);
    init(sides_[1], b);
    world_.network().register_connection(id_, this);
  }
  // Through net_, not world_.network(): heal callbacks owning connections
  // are destroyed inside ~Network.
  ~Connection() { net_.unregister_connection(id_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  std::size_t reset_endpoints_on(const Host& host) override {
    std::size_t n = 0;
    for (int s = 0; s < 2; ++s) {
      if (sides_[s].host == &host && !sides_[s].closed && !sides_[s].sink) {
        reset(s, "crash-reset");
        ++n;
      }
    }
    return n;
  }

  World& world() { return world_; }
  const std::string& name() const { return name_; }
  Side& side(int s) { return sides_[s]; }

  void start_read(int s, OpId id, asio::mutable_buffer buf, TimePoint deadline,
                  std::size_t* out) {
    Side& me = sides_[s];
    // A deadline already passed wins over everything, as in the real env.
    if (deadline != kNoDeadline && deadline <= world_.now()) {
      return void(world_.complete_op(id, asio::error::timed_out));
    }
    if (me.closed) return void(world_.complete_op(id, asio::error::bad_descriptor));
    if (me.read) return void(world_.complete_op(id, asio::error::already_started));
    if (buf.size() == 0) return void(world_.complete_op(id, {}));
    me.read = ReadOp{id, buf, out, {}};
    if (try_satisfy_read(s)) return;
    if (deadline != kNoDeadline) {
      me.read->deadline = world_.schedule(deadline, [self = shared_from_this(), s, id] {
        self->expire_read(s, id);
      });
    }
  }

  void start_write(int s, OpId id, BufferList bufs, TimePoint deadline, std::size_t* out) {
    Side& me = sides_[s];
    if (deadline != kNoDeadline && deadline <= world_.now()) {
      return void(world_.complete_op(id, asio::error::timed_out));
    }
    if (me.closed) return void(world_.complete_op(id, asio::error::bad_descriptor));
    if (me.write) return void(world_.complete_op(id, asio::error::already_started));
    if (me.reset_received) return void(world_.complete_op(id, asio::error::connection_reset));
    if (me.send_shut) return void(world_.complete_op(id, asio::error::broken_pipe));
    me.write = WriteOp{id, std::move(bufs), 0, 0, out, {}};
    pump_write(s);
    if (me.write && deadline != kNoDeadline) {
      me.write->deadline = world_.schedule(deadline, [self = shared_from_this(), s, id] {
        self->expire_write(s, id);
      });
    }
  }

  void shutdown_send(int s) {
    Side& me = sides_[s];
    if (me.closed || me.send_shut || me.reset_received) return;
    me.send_shut = true;
    if (me.write) finish_write(s, asio::error::broken_pipe);
    world_.record(me.host->name, "fin", name_);
    send(s, Segment::fin, {});
  }

  void close(int s) {
    Side& me = sides_[s];
    if (me.closed) return;
    if (!me.rx.empty()) {
      // Like a real close(): unread data makes the kernel answer with RST.
      reset(s, "close-unread");
      return;
    }
    me.closed = true;
    abort_ops(s);
    if (!world_.shutting_down()) world_.record(me.host->name, "close", name_);
    if (!me.send_shut && !me.reset_received) {  // a reset connection is gone
      me.send_shut = true;
      send(s, Segment::fin, {});
    }
  }

  void reset(int s, const char* why = "reset") {
    Side& me = sides_[s];
    if (me.closed) return;
    me.closed = me.send_shut = me.rst_sent = true;
    abort_ops(s);
    me.rx.clear();
    if (!world_.shutting_down()) world_.record(me.host->name, why, name_);
    // Unsent and in-flight data towards the peer is lost; the RST overtakes it.
    Side& peer = sides_[1 - s];
    peer.incoming.clear();
    peer.in_flight = 0;
    peer.last_arrival = TimePoint{};
    send(s, Segment::rst, {});
  }

  void cancel(int s) { abort_ops(s); }

  void watch(int s, env::ReadListener& listener) {
    Side& me = sides_[s];
    me.listener = &listener;
    ++me.watch_gen;
    notify_if_readable(s);
  }
  void unwatch(int s) {
    Side& me = sides_[s];
    me.listener = nullptr;
    ++me.watch_gen;
  }
  env::Readiness readiness(int s) const {
    const Side& me = sides_[s];
    if (me.closed || me.reset_received) return env::Readiness::failed;
    if (!me.rx.empty()) return me.fin_received ? env::Readiness::data_then_eof : env::Readiness::data;
    if (me.fin_received) return env::Readiness::eof;
    return env::Readiness::nothing;
  }

  void abort_op(OpId id) override {
    for (Side& side : sides_) {
      if (side.read && side.read->id == id) {
        world_.cancel(side.read->deadline);
        side.read.reset();
      }
      if (side.write && side.write->id == id) {
        world_.cancel(side.write->deadline);
        side.write.reset();
      }
    }
  }

 private:
  void init(Side& side, const EndpointSpec& spec) {
    side.host = spec.host;
    side.port = spec.port;
    side.sink = spec.sink;
    side.address = spec.host->ip + ":" + std::to_string(spec.port);
  }

  void abort_ops(int s) {
    Side& me = sides_[s];
    if (me.read) finish_read(s, asio::error::operation_aborted);
    if (me.write) finish_write(s, asio::error::operation_aborted);
    notify_if_readable(s);
  }

  // Tells side s's listener, through the event heap (never inline), when a
  // read would find something. A pending read takes the bytes first.
  void notify_if_readable(int s) {
    Side& me = sides_[s];
    if (!me.listener || me.read || readiness(s) == env::Readiness::nothing) return;
    world_.schedule(world_.now(), [self = shared_from_this(), s, gen = me.watch_gen] {
      Side& side = self->sides_[s];
      if (!side.listener || side.watch_gen != gen) return;
      env::ReadListener* l = std::exchange(side.listener, nullptr);
      ++side.watch_gen;
      l->on_readable();
    });
  }

  void finish_read(int s, error_code ec) {
    Side& me = sides_[s];
    const OpId id = me.read->id;
    world_.cancel(me.read->deadline);
    me.read.reset();
    world_.complete_op(id, ec);
  }

  void finish_write(int s, error_code ec) {
    Side& me = sides_[s];
    const OpId id = me.write->id;
    world_.cancel(me.write->deadline);
    me.write.reset();
    world_.complete_op(id, ec);
  }

  void expire_read(int s, OpId id) {
    Side& me = sides_[s];
    if (!me.read || me.read->id != id) return;
    me.read->deadline = {};
    finish_read(s, asio::error::timed_out);
  }

  void expire_write(int s, OpId id) {
    Side& me = sides_[s];
    if (!me.write || me.write->id != id) return;
    me.write->deadline = {};
    finish_write(s, asio::error::timed_out);
  }

  // Completes the pending read of side s if data, EOF or an error is there.
  bool try_satisfy_read(int s) {
    Side& me = sides_[s];
    if (!me.read) return false;
    if (me.reset_received) {
      finish_read(s, asio::error::connection_reset);
      return true;
    }
    if (!me.rx.empty()) {
      std::size_t n = std::min(me.read->buf.size(), me.rx.size());
      if (options_.max_read != 0) n = std::min(n, options_.max_read);
      if (options_.random_read_split && n > 1) n = 1 + rng_.below(n);
      *me.read->out = me.rx.take(me.read->buf.data(), n);
      finish_read(s, {});
      // Reading opened the window: the peer's blocked write may go on.
      pump_write(1 - s);
      return true;
    }
    if (me.fin_received) {
      finish_read(s, asio::error::eof);
      return true;
    }
    return false;
  }

  // Moves as much of side s's pending write into the pipe as the peer's
  // window allows; completes the write once everything is accepted.
  void pump_write(int s) {
    Side& me = sides_[s];
    if (!me.write) return;
    WriteOp& w = *me.write;
    Side& peer = sides_[1 - s];
    for (;;) {
      while (w.index < w.bufs.size() && w.offset == w.bufs[w.index].size()) {
        ++w.index;
        w.offset = 0;
      }
      if (w.index == w.bufs.size()) break;
      std::size_t room = SIZE_MAX;
      if (!peer.sink) {
        const std::size_t used = peer.in_flight + peer.rx.size();
        if (used >= options_.receive_buffer) return;  // blocked: back-pressure
        room = options_.receive_buffer - used;
      }
      std::string chunk;
      while (w.index < w.bufs.size() && chunk.size() < room) {
        const auto& b = w.bufs[w.index];
        const std::size_t take = std::min(b.size() - w.offset, room - chunk.size());
        chunk.append(static_cast<const char*>(b.data()) + w.offset, take);
        w.offset += take;
        if (w.offset == b.size()) {
          ++w.index;
          w.offset = 0;
        }
      }
      *w.out += chunk.size();
      if (world_.log().data_events()) {
        world_.record(me.host->name, "send", name_ + " " + std::to_string(chunk.size()));
      }
      if (!peer.sink) send(s, Segment::data, std::move(chunk));
    }
    finish_write(s, {});
  }

  // Puts a segment on the wire from side s towards its peer.
  void send(int s, Segment::Kind kind, std::string bytes) {
    Side& to = sides_[1 - s];
    // A black-holed endpoint neither receives nor ever sends anything.
    if (to.sink || sides_[s].sink || world_.shutting_down()) return;
    const TimePoint arrive =
        std::max(world_.now() + world_.network().transit_delay(*sides_[s].host, *to.host),
                 to.last_arrival);
    to.last_arrival = arrive;
    if (kind == Segment::data) to.in_flight += bytes.size();
    to.incoming.push_back(Segment{kind, arrive, std::move(bytes)});
    const int dest = 1 - s;
    world_.schedule(arrive, [self = shared_from_this(), dest] { self->deliver(dest); });
  }

  // Delivers every segment due at side p.
  void deliver(int p) {
    Side& to = sides_[p];
    Side& from = sides_[1 - p];
    Network& net = world_.network();
    if (to.stalled) return;
    if (net.partitioned(*from.host, *to.host)) {
      if (!to.incoming.empty() && to.incoming.front().arrive <= world_.now()) {
        to.stalled = true;
        net.when_healed(*from.host, *to.host,
                        [self = shared_from_this(), p] { self->resume(p); });
      }
      return;
    }
    bool window_opened = false;
    while (!to.incoming.empty() && to.incoming.front().arrive <= world_.now()) {
      Segment seg = std::move(to.incoming.front());
      to.incoming.pop_front();
      switch (seg.kind) {
        case Segment::data:
          to.in_flight -= seg.bytes.size();
          if (to.closed) {
            window_opened = true;
            // Data for a closed socket: the kernel answers with RST.
            if (!to.rst_sent) {
              to.rst_sent = true;
              world_.record(to.host->name, "rst", name_ + " data-after-close");
              send(p, Segment::rst, {});
            }
          } else if (to.reset_received) {
            window_opened = true;
          } else {
            if (world_.log().data_events()) {
              world_.record(to.host->name, "recv",
                            name_ + " " + std::to_string(seg.bytes.size()));
            }
            to.rx.append(seg.bytes);
          }
          break;
        case Segment::fin:
          to.fin_received = true;
          if (!to.closed) world_.record(to.host->name, "fin-received", name_);
          break;
        case Segment::rst:
          on_reset(p);
          break;
      }
    }
    try_satisfy_read(p);
    notify_if_readable(p);
    if (window_opened) pump_write(1 - p);
  }

  void on_reset(int p) {
    Side& me = sides_[p];
    if (me.closed || me.reset_received) return;
    me.reset_received = true;
    me.rx.clear();
    world_.record(me.host->name, "rst-received", name_);
    if (me.read) finish_read(p, asio::error::connection_reset);
    if (me.write) finish_write(p, asio::error::connection_reset);
    notify_if_readable(p);
  }

  // The partition healed: stalled segments are retransmitted.
  void resume(int p) {
    Side& to = sides_[p];
    to.stalled = false;
    const TimePoint retransmit =
        world_.now() + world_.network().latency(*sides_[1 - p].host, *to.host);
    bool moved = false;
    for (Segment& seg : to.incoming) {
      if (seg.arrive < retransmit) {
        seg.arrive = retransmit;
        moved = true;
      }
    }
    to.last_arrival = std::max(to.last_arrival, retransmit);
    if (moved) {
      world_.schedule(retransmit, [self = shared_from_this(), p] { self->deliver(p); });
    }
  }

  World& world_;
  Network& net_;
  StreamOptions options_;
  Rng rng_;
  std::uint64_t id_;
  std::string name_;
  Side sides_[2];
};

}  // namespace detail

// --- SimStream ---------------------------------------------------------------

SimStream::SimStream(std::shared_ptr<detail::Connection> connection, int side)
    : conn_(std::move(connection)), side_(side) {}

// Like a destroyed socket, a destroyed stream tells no listener.
SimStream::~SimStream() {
  conn_->unwatch(side_);
  conn_->close(side_);
}

env::Task<std::size_t> SimStream::read_some(asio::mutable_buffer buf, TimePoint deadline,
                                            error_code& ec) {
  std::size_t n = 0;
  detail::Connection& c = *conn_;
  const int s = side_;
  co_await c.world().suspend(c, ec, [&c, s, buf, deadline, &n](World::OpId id) {
    c.start_read(s, id, buf, deadline, &n);
  });
  co_return n;  // `this` may be gone by now: touch only locals
}

namespace {

env::Task<std::size_t> write_impl(std::shared_ptr<detail::Connection> conn, int side,
                                  detail::BufferList bufs, TimePoint deadline,
                                  error_code& ec) {
  std::size_t n = 0;
  detail::Connection& c = *conn;
  co_await c.world().suspend(c, ec, [&c, side, &bufs, deadline, &n](World::OpId id) {
    c.start_write(side, id, std::move(bufs), deadline, &n);
  });
  co_return n;
}

}  // namespace

// Not a coroutine: the buffer descriptors are copied now, because the span
// may point into a caller's temporary that dies before the coroutine runs.
env::Task<std::size_t> SimStream::write(std::span<const asio::const_buffer> bufs,
                                        TimePoint deadline, error_code& ec) {
  return write_impl(conn_, side_, detail::BufferList(bufs.begin(), bufs.end()), deadline, ec);
}

void SimStream::watch_readable(env::ReadListener& listener) { conn_->watch(side_, listener); }
void SimStream::unwatch_readable() { conn_->unwatch(side_); }
env::Readiness SimStream::peek() { return conn_->readiness(side_); }
void SimStream::shutdown_send() { conn_->shutdown_send(side_); }
void SimStream::close() { conn_->close(side_); }
void SimStream::reset() { conn_->reset(side_); }
void SimStream::cancel() { conn_->cancel(side_); }
bool SimStream::is_open() const { return !conn_->side(side_).closed; }
std::string SimStream::remote_address() const { return conn_->side(1 - side_).address; }
std::string SimStream::remote_ip() const { return conn_->side(1 - side_).host->ip; }
std::string SimStream::local_address() const { return conn_->side(side_).address; }
std::string SimStream::connection_name() const { return conn_->name(); }

std::pair<std::unique_ptr<SimStream>, std::unique_ptr<SimStream>> make_connection(
    World& world, const EndpointSpec& a, const EndpointSpec& b, const StreamOptions& options) {
  auto conn = std::make_shared<detail::Connection>(world, a, b, options);
  return {std::make_unique<SimStream>(conn, 0), std::make_unique<SimStream>(conn, 1)};
}

}  // namespace llmproxy::sim
