#include "proxy/core/openai/sse_relay.h"

#include <cstring>

namespace llmproxy::openai {
namespace {

constexpr std::size_t npos = std::string_view::npos;
constexpr std::string_view kData = "data";

bool is_empty_array_start(std::string_view text, std::size_t value_pos, bool& decided) {
  // value_pos < text.size(). Decides whether a `choices` value that has
  // started arriving can still be `[]`.
  decided = true;
  if (text[value_pos] != '[') return false;
  const std::size_t q = json::skip_ws(text, value_pos + 1);
  if (q >= text.size()) {
    decided = false;
    return true;
  }
  return text[q] == ']';
}

// Index of the first \n or \r at or after `from` (piece.size() if none).
// Two memchr calls beat a byte loop: lines are long and \r is rare.
std::size_t find_line_end(std::string_view piece, std::size_t from) {
  const char* begin = piece.data() + from;
  const std::size_t len = piece.size() - from;
  const void* lf = std::memchr(begin, '\n', len);
  const std::size_t lf_len = lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - begin) : len;
  const void* cr = std::memchr(begin, '\r', lf_len);
  const std::size_t end = cr ? static_cast<std::size_t>(static_cast<const char*>(cr) - begin) : lf_len;
  return from + end;
}

bool is_empty_array(const json::Value& v) {
  return v.kind == json::Kind::array && json::skip_ws(v.raw, 1) == v.raw.size() - 1;
}

}  // namespace

SseRelayFilter::SseRelayFilter(bool strip_usage_chunk, std::size_t max_event_bytes)
    : strip_(strip_usage_chunk), max_event_bytes_(max_event_bytes) {}

void SseRelayFilter::flush(Cursor& c, std::size_t end) {
  if (end <= c.emit_from) return;
  c.sink->write(c.piece.substr(c.emit_from, end - c.emit_from));
  c.emit_from = end;
}

void SseRelayFilter::release_held(Cursor& c) {
  if (held_.empty()) return;
  // Swap so the view we hand out stays valid while held_ refills later in
  // this same call. released_ was cleared at the start of the call, and a
  // call releases at most once: held bytes only ever precede the piece, and
  // one block's fate is decided once.
  released_.swap(held_);
  held_.clear();
  c.sink->write(released_);
}

std::size_t SseRelayFilter::block_length(const Cursor& c, std::size_t end) const {
  return block_bytes_before_ + end - (c.block_start == npos ? 0 : c.block_start);
}

void SseRelayFilter::start_block(Cursor& c, std::size_t pos) {
  block_open_ = true;
  block_has_fields_ = false;
  block_bytes_before_ = 0;
  c.block_start = pos;
  decision_ = strip_ ? Decision::undecided : Decision::forward;
  prefix_.reset();
}

void SseRelayFilter::halt(Cursor& c, std::size_t end) {
  malformed_ = true;
  halted_ = true;
  if (decision_ == Decision::undecided) release_held(c);
  flush(c, end);
}

bool SseRelayFilter::append_data(Cursor& c, std::size_t from, std::size_t to) {
  const std::size_t room = max_event_bytes_ > data_.size() ? max_event_bytes_ - data_.size() : 0;
  if (to - from > room) {
    halt(c, from + room);
    return false;
  }
  data_.append(c.piece.data() + from, to - from);
  return true;
}

bool SseRelayFilter::end_line(Cursor& c, std::size_t pos) {
  if (line_ == LineState::field_name)  // a line without a colon: the whole line is the name
    field_ = name_is_data_ && name_len_ == kData.size() ? Field::data : Field::other;
  if (field_ == Field::data) {
    if (data_.size() >= max_event_bytes_) {
      halt(c, pos);
      return false;
    }
    data_.push_back('\n');
  }
  pending_cr_ = c.piece[pos] == '\r';
  line_ = LineState::line_start;
  return true;
}

void SseRelayFilter::end_block(Cursor& c, std::size_t end) {
  if (!block_open_) return;  // a blank line between blocks: forwarded as is
  bool strip_it = false;
  if (!data_.empty()) {
    data_.pop_back();  // the \n after the last data line is not part of the payload
    ++events_;
    if (data_ == "[DONE]") {
      saw_done_ = true;
    } else {
      const ChunkInfo info = inspect_chunk(data_);
      if (info.usage.present) usage_ = info.usage;
      if (info.carries_output) ++output_events_;
      if (!info.valid_json) malformed_ = true;
      strip_it = info.valid_json && info.usage_only && decision_ == Decision::undecided &&
                 block_length(c, end) <= max_event_bytes_;
    }
  }
  data_.clear();
  if (data_.capacity() > kKeptCapacity) std::string().swap(data_);
  prefix_.reset();
  block_open_ = false;
  if (strip_it) {
    ++stripped_;
    held_.clear();
    flush(c, c.block_start == npos ? 0 : c.block_start);
    c.emit_from = end;
    drop_lf_ = pending_cr_;
  } else if (decision_ == Decision::undecided) {
    release_held(c);
  }
  decision_ = Decision::forward;
  c.block_start = npos;
  if (malformed_) halt(c, end);
}

void SseRelayFilter::try_early_decision(Cursor& c) {
  auto forward = [&] {
    decision_ = Decision::forward;
    release_held(c);
  };
  if (data_.empty()) return;
  const std::size_t first = json::skip_ws(data_, 0);
  if (first >= data_.size()) return;
  if (data_[first] != '{') return forward();
  // Lax like inspect_chunk(), so an early verdict always matches the final one.
  if (!prefix_) prefix_.emplace(data_, first, json::kMaxDepth, json::Utf8::lax);
  prefix_->rebind(data_);
  json::Member m;
  for (;;) {
    switch (prefix_->next(m)) {
      case json::ObjectCursor::Step::member:
        if (json::string_equals(m.key_raw, "choices") && !is_empty_array(m.value)) return forward();
        continue;
      case json::ObjectCursor::Step::invalid: return forward();
      case json::ObjectCursor::Step::end: return;  // complete object: wait for the blank line
      case json::ObjectCursor::Step::truncated: break;
    }
    // The next member is incomplete: decide if it is `choices` and its value
    // has started, which is the usual case for a long content chunk.
    std::string_view key;
    std::size_t value_pos = 0;
    const auto peek = prefix_->peek_key(key, value_pos);
    if (peek == json::ObjectCursor::Step::invalid) return forward();
    if (peek == json::ObjectCursor::Step::member && value_pos < data_.size() &&
        json::string_equals(key, "choices")) {
      bool decided = false;
      const bool may_be_empty = is_empty_array_start(data_, value_pos, decided);
      if (decided && !may_be_empty) return forward();
    }
    return;
  }
}

void SseRelayFilter::feed(std::string_view piece, SseSink& sink) {
  released_.clear();
  // The views of the last call are no longer needed: drop what a large
  // held event grew.
  if (released_.capacity() > kKeptCapacity) std::string().swap(released_);
  if (held_.empty() && held_.capacity() > kKeptCapacity) std::string().swap(held_);
  if (halted_ || piece.empty()) return;
  Cursor c{piece, &sink, 0, npos};
  const std::size_t n = piece.size();
  std::size_t i = 0;
  while (i < n && !halted_) {
    if (pending_cr_) {
      pending_cr_ = false;
      if (piece[i] == '\n') {  // second half of a \r\n line end
        if (drop_lf_) {
          flush(c, i);
          c.emit_from = i + 1;
        }
        drop_lf_ = false;
        ++i;
        continue;
      }
    }
    drop_lf_ = false;
    switch (line_) {
      case LineState::line_start: {
        const char ch = piece[i];
        if (ch == '\n' || ch == '\r') {  // blank line: dispatch
          pending_cr_ = ch == '\r';
          ++i;
          end_block(c, i);
          continue;
        }
        if (!block_open_) start_block(c, i);
        if (ch == ':') {
          field_ = Field::comment;
          line_ = LineState::value;
          ++i;
          continue;
        }
        block_has_fields_ = true;
        name_len_ = 0;
        name_is_data_ = true;
        line_ = LineState::field_name;
        continue;
      }
      case LineState::field_name:
        for (; i < n; ++i) {
          const char ch = piece[i];
          if (ch == ':') {
            field_ = name_is_data_ && name_len_ == kData.size() ? Field::data : Field::other;
            line_ = LineState::value_start;
            ++i;
            break;
          }
          if (ch == '\r' || ch == '\n') {
            if (end_line(c, i)) ++i;
            break;
          }
          if (name_len_ < kData.size() && ch == kData[name_len_]) {
            ++name_len_;
          } else {
            name_is_data_ = false;
          }
        }
        continue;
      case LineState::value_start:
        if (piece[i] == ' ') ++i;  // one optional space after the colon
        line_ = LineState::value;
        continue;
      case LineState::value: {
        const std::size_t j = find_line_end(piece, i);
        if (field_ == Field::data && j > i && !append_data(c, i, j)) continue;
        if (j == n) {
          i = n;
          continue;
        }
        if (end_line(c, j)) i = j + 1;
        continue;
      }
    }
  }
  if (halted_) return;  // halt() wrote what was due

  if (block_open_ && decision_ == Decision::undecided) try_early_decision(c);
  if (block_open_ && decision_ == Decision::undecided && block_length(c, n) > max_event_bytes_) {
    decision_ = Decision::forward;  // too big to be the usage chunk: stop holding
    release_held(c);
  }
  if (block_open_ && decision_ == Decision::undecided) {
    const std::size_t from = c.block_start == npos ? 0 : c.block_start;
    flush(c, from);
    held_.append(piece.substr(from));
  } else {
    flush(c, n);
  }
  if (block_open_) block_bytes_before_ = block_length(c, n);
}

std::string_view SseRelayFilter::close_for_error() const {
  // A block the client has seen nothing of (held, or not started) needs no
  // closing: the error event simply follows the last complete block.
  if (!block_open_ || decision_ == Decision::undecided) return "";
  // Inside a line: end it, then a blank line. After a line end: a blank line,
  // where a lone \r needs two \n, as the first pairs up with it as \r\n.
  if (line_ != LineState::line_start || pending_cr_) return "\n\n";
  return "\n";
}

void SseRelayFilter::finish(SseSink& sink) {
  released_.clear();
  if (held_.empty()) return;
  Cursor c{{}, &sink, 0, npos};
  release_held(c);
  decision_ = Decision::forward;
}

}  // namespace llmproxy::openai
