#include "proxy/stores/redis/reply.h"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <array>
#include <cstdlib>
#include <new>

namespace llmproxy::stores::redis {
namespace {

// ---------------------------------------------------------------- parser callbacks
// hiredis calls these as it recognises values. The root value is allocated
// here and handed to us by redisReaderGetReply; a child is constructed in
// place at the end of its parent's element vector and belongs to the parent,
// so hiredis only ever frees roots (after a protocol error or on destruction),
// which frees the whole tree. Children arrive in index order, and a parent's
// vector only grows after the child at its end is complete, so the pointers
// hiredis keeps for arrays in progress stay valid.
// No exception may cross the C code: allocation failures become nullptr,
// which hiredis reports as an error.

Reply* new_value(const redisReadTask* task, Reply::Type type) noexcept {
  try {
    if (task->parent == nullptr) {
      auto* r = new Reply;
      r->type = type;
      return r;
    }
    auto* parent = static_cast<Reply*>(task->parent->obj);
    if (parent == nullptr || static_cast<std::size_t>(task->idx) != parent->elements.size())
      return nullptr;
    Reply& r = parent->elements.emplace_back();
    r.type = type;
    return &r;
  } catch (...) {
    return nullptr;
  }
}

Reply::Type string_type(int hiredis_type) {
  switch (hiredis_type) {
    case REDIS_REPLY_STATUS: return Reply::Type::status;
    case REDIS_REPLY_ERROR: return Reply::Type::error;
    default: return Reply::Type::string;
  }
}

void* create_string(const redisReadTask* task, char* str, std::size_t len) noexcept {
  Reply* r = new_value(task, string_type(task->type));
  if (r == nullptr) return nullptr;
  try {
    r->str.assign(str, len);
  } catch (...) {
    // A root is still ours to free; a child is freed with its root.
    if (task->parent == nullptr) delete r;
    return nullptr;
  }
  return r;
}

void* create_integer(const redisReadTask* task, long long value) noexcept {
  Reply* r = new_value(task, Reply::Type::integer);
  if (r != nullptr) r->integer = value;
  return r;
}

void* create_nil(const redisReadTask* task) noexcept { return new_value(task, Reply::Type::nil); }

// Upstream hiredis 0.14 reads an array's count with an unchecked digit loop
// into a long and hands it to us as an int (Debian's 0.14.1-3 backports the
// strict checks; other builds may not), but keeps the long to decide whether
// children follow: "*4294967296" arrives here as 0 while hiredis then waits
// for children and trips an assert, and "*-5" would be a negative size.
// So the count line (which ends just before the reader's cursor) is read
// again here and only a count that is exactly `elements` (0 ≤ count < 10^9)
// is accepted; anything else fails the parse.
bool count_line_matches(const redisReader* rd, int elements) {
  if (rd == nullptr || elements < 0 || rd->pos < 3 || rd->pos > rd->len) return false;
  const char* line_end = rd->buf + rd->pos - 2;  // the '\r' of the count line
  const char* p = line_end;
  while (p > rd->buf && p[-1] != '*') --p;
  if (p == rd->buf) return false;
  if (p < line_end && (*p == '+' || *p == '-')) {
    if (*p == '-') return false;
    ++p;
  }
  long long value = 0;
  int significant = 0;
  for (; p < line_end; ++p) {
    if (*p < '0' || *p > '9') return false;
    if (value == 0 && *p == '0') continue;  // leading zeros
    if (++significant > 9) return false;
    value = value * 10 + (*p - '0');
  }
  return value == elements;
}

void* create_array(const redisReadTask* task, int elements) noexcept {
  const auto* rd = static_cast<const redisReader*>(task->privdata);
  if (!count_line_matches(rd, elements)) return nullptr;
  Reply* r = new_value(task, Reply::Type::array);
  if (r == nullptr) return nullptr;
  try {
    // Reserve for what is cheap; a large claimed count grows as data arrives.
    r->elements.reserve(static_cast<std::size_t>(elements < 64 ? elements : 64));
  } catch (...) {
    if (task->parent == nullptr) delete r;
    return nullptr;
  }
  return r;
}

void free_object(void* obj) noexcept { delete static_cast<Reply*>(obj); }

redisReplyObjectFunctions callbacks = {create_string, create_array, create_integer, create_nil,
                                       free_object};

redisReader* make_reader() {
  redisReader* r = redisReaderCreateWithFunctions(&callbacks);
  if (r == nullptr) throw std::bad_alloc();
  // The callbacks find the reader (for count_line_matches) through the
  // task's privdata, which hiredis copies from here.
  r->privdata = r;
  return r;
}

void describe_to(std::string& out, const Reply& r) {
  switch (r.type) {
    case Reply::Type::nil: out += "nil"; break;
    case Reply::Type::integer: out += std::to_string(r.integer); break;
    case Reply::Type::string:
      out += '"';
      out += r.str;
      out += '"';
      break;
    case Reply::Type::status:
      out += '+';
      out += r.str;
      break;
    case Reply::Type::error:
      out += '-';
      out += r.str;
      break;
    case Reply::Type::array:
      out += '[';
      for (std::size_t i = 0; i < r.elements.size(); ++i) {
        if (i > 0) out += ", ";
        describe_to(out, r.elements[i]);
      }
      out += ']';
      break;
  }
}

}  // namespace

std::string Reply::describe() const {
  std::string out;
  describe_to(out, *this);
  return out;
}

ReplyReader::ReplyReader() : reader_(make_reader()) {}

ReplyReader::~ReplyReader() { redisReaderFree(reader_); }

bool ReplyReader::feed(const char* data, std::size_t size) {
  if (size == 0) return reader_->err == 0;
  return redisReaderFeed(reader_, data, size) == REDIS_OK;
}

ReplyReader::Status ReplyReader::next(Reply& out) {
  void* obj = nullptr;
  if (redisReaderGetReply(reader_, &obj) != REDIS_OK) return Status::error;
  if (obj == nullptr) return Status::incomplete;
  Reply* r = static_cast<Reply*>(obj);
  out = std::move(*r);
  delete r;
  return Status::reply;
}

std::string_view ReplyReader::error_message() const {
  return reader_->err != 0 ? std::string_view(reader_->errstr) : std::string_view();
}

void ReplyReader::reset() {
  redisReader* fresh = make_reader();
  redisReaderFree(reader_);
  reader_ = fresh;
}

void append_command(std::string& out, std::span<const std::string_view> args) {
  // Most commands have a handful of arguments: keep the argv on the stack.
  constexpr std::size_t kInline = 16;
  std::array<const char*, kInline> argv_inline;
  std::array<std::size_t, kInline> len_inline;
  std::vector<const char*> argv_heap;
  std::vector<std::size_t> len_heap;
  const char** argv = argv_inline.data();
  std::size_t* lens = len_inline.data();
  if (args.size() > kInline) {
    argv_heap.resize(args.size());
    len_heap.resize(args.size());
    argv = argv_heap.data();
    lens = len_heap.data();
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    argv[i] = args[i].data();
    lens[i] = args[i].size();
  }
  char* cmd = nullptr;
  const int n = redisFormatCommandArgv(&cmd, static_cast<int>(args.size()), argv, lens);
  if (n < 0 || cmd == nullptr) throw std::bad_alloc();
  out.append(cmd, static_cast<std::size_t>(n));
  redisFreeCommand(cmd);
}

}  // namespace llmproxy::stores::redis
