// The streaming relay filter (BEHAVIOR §3). The shell reads upstream response
// body bytes (already de-chunked) in arbitrary pieces and passes each piece to
// feed(); the filter hands back, through an SseSink, the bytes to write to the
// client now. It parses the stream incrementally as a WHATWG event stream
// (lines end in \n, \r\n or \r, a \r\n may be split across pieces; `data:`
// with one optional space; `:` comments; data lines joined with \n; dispatch
// on a blank line; event/id/retry fields are forwarded but not interpreted)
// and records what the gateway must know: [DONE], usage, event count,
// truncation, malformed payloads. Results do not depend on how the stream is
// split into pieces.
//
// Output:
//   - strip_usage_chunk == false (pass-through): every byte is forwarded in
//     the same feed() call, as views into the piece; nothing is held.
//   - strip_usage_chunk == true (the gateway injected include_usage): the
//     usage-only chunk (a JSON object whose `choices` is [] and whose `usage`
//     is an object) is removed with its whole event block, i.e. every line
//     from the end of the previous blank line through its own blank line
//     (and the \n of a \r\n). Everything else is forwarded unchanged.
//     Bytes are held back only while undecidable: from the start of an event
//     block until either (a) its data shows it cannot be a usage-only chunk
//     (data not starting with '{', a `choices` value starting with anything
//     but `[]`, e.g. `[{`, or a syntax error), or (b) the block ends. For a
//     vLLM/OpenAI content chunk that is as soon as `"choices":[{` has arrived;
//     a block is never held past max_event_bytes.
//   - After a malformed payload (a data payload that is neither [DONE] nor
//     valid JSON -- judged with json::Utf8::lax, so stray non-UTF-8 bytes in
//     a string do not count -- or data longer than max_event_bytes) the filter forwards the
//     bytes up to the end of that event (or up to the byte that crossed the
//     limit) and then nothing more: malformed() is set and the shell ends the
//     stream with an error event, so a [DONE] after garbage never reaches the
//     client.
//
// Views handed to the sink are valid until the next feed()/finish() call.
// Steady state allocates nothing: the event data buffer and the hold buffers
// keep their capacity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/core/openai/json_scan.h"
#include "proxy/core/openai/usage.h"

namespace llmproxy::openai {

class SseSink {
 public:
  virtual void write(std::string_view bytes) = 0;

 protected:
  ~SseSink() = default;
};

// Appends everything to a string (tests, benchmarks, buffered callers).
class StringSink final : public SseSink {
 public:
  void write(std::string_view bytes) override { out.append(bytes); }
  std::string out;
};

class SseRelayFilter {
 public:
  // One event's data is assembled (to judge it and find usage) up to this
  // size; a longer one is malformed. Streaming deltas are a few hundred
  // bytes; 1 MiB leaves room for large tool-call arguments and logprobs
  // while bounding what a stream holds for a slow client (it was 4 MiB:
  // 50 slow streams of huge events held 230 MB).
  static constexpr std::size_t kDefaultMaxEventBytes = 1 << 20;
  // Buffers grown past this by one large event are given back after it, so
  // a stream keeps only what a normal event needs.
  static constexpr std::size_t kKeptCapacity = 64 << 10;

  explicit SseRelayFilter(bool strip_usage_chunk,
                          std::size_t max_event_bytes = kDefaultMaxEventBytes);

  // Processes the next piece of the upstream body.
  void feed(std::string_view piece, SseSink& sink);
  // At upstream end of body: forwards any bytes still held (an unfinished
  // event is passed on as it came; the client's parser discards it).
  void finish(SseSink& sink);

  bool saw_done() const { return saw_done_; }
  // From the last dispatched event whose payload had a `usage` object
  // (including a stripped usage-only chunk); present == false if none.
  const Usage& usage() const { return usage_; }
  std::uint64_t events() const { return events_; }
  std::uint64_t stripped_events() const { return stripped_; }
  // Dispatched events whose payload carried generated output (ChunkInfo::
  // carries_output): the completion tokens of usage_estimate.h's estimate.
  std::uint64_t output_events() const { return output_events_; }
  bool malformed() const { return malformed_; }
  // The stream so far ends inside an event: a field line was seen since the
  // last blank line, or a line is unterminated (complete comment lines alone
  // do not count). At end of body this means the upstream was truncated.
  bool ended_mid_event() const {
    return block_open_ && (block_has_fields_ || line_ != LineState::line_start);
  }
  std::size_t held_bytes() const { return held_.size(); }
  // Memory the filter holds now (its buffers' capacity): what the shell
  // charges against the process's buffer budget.
  std::size_t buffered_bytes() const {
    return data_.capacity() + held_.capacity() + released_.capacity();
  }

  // For a stream that fails mid-way (upstream reset, stall, malformed): the
  // bytes to write after what was forwarded and before the gateway's SSE
  // error event, so the client's parser sees that error event on its own and
  // whole. "" at an event boundary; "\n" or "\n\n" inside an event (the
  // partial event is dispatched first, as its bytes already reached the
  // client). Call instead of finish(): held bytes are then dropped.
  std::string_view close_for_error() const;

 private:
  enum class LineState : std::uint8_t { line_start, field_name, value_start, value };
  enum class Field : std::uint8_t { data, comment, other };
  enum class Decision : std::uint8_t { undecided, forward };

  // State of one feed() call.
  struct Cursor {
    std::string_view piece;
    SseSink* sink;
    std::size_t emit_from = 0;          // start of the not yet written range
    std::size_t block_start;            // where the open block began in piece, or npos
  };

  void flush(Cursor& c, std::size_t end);
  void release_held(Cursor& c);
  void start_block(Cursor& c, std::size_t pos);
  // A line ended (the terminator is at piece[pos]); returns false if halted.
  bool end_line(Cursor& c, std::size_t pos);
  bool append_data(Cursor& c, std::size_t from, std::size_t to);
  void end_block(Cursor& c, std::size_t end);
  void halt(Cursor& c, std::size_t end);
  void try_early_decision(Cursor& c);
  std::size_t block_length(const Cursor& c, std::size_t end) const;

  const bool strip_;
  const std::size_t max_event_bytes_;

  // Line parser.
  LineState line_ = LineState::line_start;
  Field field_ = Field::other;
  std::uint8_t name_len_ = 0;    // bytes of the field name matched against "data"
  bool name_is_data_ = true;     // so far the name is a prefix of "data"
  bool pending_cr_ = false;      // last byte was a \r line end; a following \n is part of it
  bool drop_lf_ = false;         // ...and that line ended a stripped block

  // Current event block (bytes since the last blank line).
  bool block_open_ = false;
  bool block_has_fields_ = false;
  std::size_t block_bytes_before_ = 0;  // block bytes in earlier pieces
  Decision decision_ = Decision::forward;
  std::string data_;
  std::optional<json::ObjectCursor> prefix_;  // resumable scan of data_ for early decisions

  // Held-back bytes (strip mode) and the buffer the last release was written from.
  std::string held_;
  std::string released_;

  bool halted_ = false;
  bool malformed_ = false;
  bool saw_done_ = false;
  std::uint64_t events_ = 0;
  std::uint64_t stripped_ = 0;
  std::uint64_t output_events_ = 0;
  Usage usage_;
};

}  // namespace llmproxy::openai
