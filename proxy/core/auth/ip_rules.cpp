#include "proxy/core/auth/ip_rules.h"

namespace llmproxy::auth {
namespace {

bool any_contains(const std::vector<util::Cidr>& blocks, const util::IpAddress& ip) {
  for (const auto& b : blocks)
    if (b.contains(ip)) return true;
  return false;
}

std::string parse_list(const std::vector<std::string>& in, std::vector<util::Cidr>& out,
                       const char* what) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    auto c = util::parse_cidr(in[i]);
    if (!c) return std::string(what) + "[" + std::to_string(i) + "]: " + c.error;
    out.push_back(*c);
  }
  return {};
}

}  // namespace

util::Parsed<IpRules> IpRules::parse(const std::vector<std::string>& allowed,
                                     const std::vector<std::string>& denied) {
  IpRules r;
  if (auto e = parse_list(allowed, r.allow_, "allowed_ips"); !e.empty())
    return util::Parsed<IpRules>::failure(std::move(e));
  if (auto e = parse_list(denied, r.deny_, "denied_ips"); !e.empty())
    return util::Parsed<IpRules>::failure(std::move(e));
  return util::Parsed<IpRules>::success(std::move(r));
}

bool IpRules::permits(const std::optional<util::IpAddress>& client) const {
  if (empty()) return true;
  if (!client) return false;
  if (any_contains(deny_, *client)) return false;
  return allow_.empty() || any_contains(allow_, *client);
}

}  // namespace llmproxy::auth
