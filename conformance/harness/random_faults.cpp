#include "conformance/harness/random_faults.h"

#include <array>

namespace llmproxy::harness {
namespace {

using K = FaultKind;

constexpr std::array<FaultKind, 10> kAll = {K::none,        K::reset_after,  K::no_done,
                                            K::malformed_at, K::status_500,  K::status_400_context,
                                            K::reset_before_headers, K::slow_headers, K::hang,
                                            K::stall_after};
constexpr std::array<FaultKind, 9> kNoStall = {K::none,         K::reset_after, K::no_done,
                                               K::malformed_at, K::status_500,  K::status_400_context,
                                               K::reset_before_headers, K::slow_headers, K::hang};
constexpr std::array<FaultKind, 9> kNoHang = {K::none,         K::reset_after, K::no_done,
                                              K::malformed_at, K::status_500,  K::status_400_context,
                                              K::reset_before_headers, K::slow_headers, K::stall_after};
constexpr std::array<FaultKind, 8> kNeither = {K::none,         K::reset_after, K::no_done,
                                               K::malformed_at, K::status_500,  K::status_400_context,
                                               K::reset_before_headers, K::slow_headers};

std::int64_t in_range(Rng& r, std::int64_t lo, std::int64_t hi) {  // [lo, hi)
  return lo + static_cast<std::int64_t>(r.below(static_cast<std::uint64_t>(hi - lo)));
}

}  // namespace

const char* fault_kind_name(FaultKind k) {
  switch (k) {
    case K::none: return "none";
    case K::reset_after: return "reset_after";
    case K::no_done: return "no_done";
    case K::malformed_at: return "malformed_at";
    case K::status_500: return "status_500";
    case K::status_400_context: return "status_400_context";
    case K::reset_before_headers: return "reset_before_headers";
    case K::slow_headers: return "slow_headers";
    case K::hang: return "hang";
    case K::stall_after: return "stall_after";
  }
  return "?";
}

std::span<const FaultKind> available_faults(bool first_byte_timeout, bool idle_timeout) {
  if (first_byte_timeout && idle_timeout) return kAll;
  if (first_byte_timeout) return kNoStall;
  if (idle_timeout) return kNoHang;
  return kNeither;
}

std::string fault_spec(FaultKind k, Rng& r) {
  switch (k) {
    case K::none: return "";
    case K::reset_after: return "reset_after=" + std::to_string(in_range(r, 0, 6));
    case K::no_done: return "no_done";
    case K::malformed_at: return "malformed_at=" + std::to_string(in_range(r, 0, 5));
    case K::status_500: return "status=500";
    case K::status_400_context: return "status=400,code=context_length_exceeded";
    case K::reset_before_headers: return "reset_before_headers";
    case K::slow_headers: return "slow_headers=" + std::to_string(in_range(r, 1, 300)) + "ms";
    case K::hang: return "hang";
    case K::stall_after:
      return "stall_after=" + std::to_string(in_range(r, 0, 4)) + ",for=" +
             std::to_string(in_range(r, 10, 2000)) + "ms";
  }
  return "";
}

FaultKind fault_kind_of(std::string_view spec) {
  if (spec.empty()) return K::none;
  for (FaultKind k : kAll) {
    const std::string_view name = fault_kind_name(k);
    if (k == K::status_500 && spec.starts_with("status=500")) return k;
    if (k == K::status_400_context && spec.starts_with("status=400")) return k;
    if (spec.starts_with(name)) return k;
  }
  return K::none;
}

}  // namespace llmproxy::harness
