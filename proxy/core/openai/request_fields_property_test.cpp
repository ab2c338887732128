// inject_include_usage: the output is valid JSON, asks for usage, has no new
// duplicate keys, and every other member keeps its exact bytes.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <boost/json.hpp>

#include <utility>
#include <vector>

#include "proxy/core/openai/json_scan.h"
#include "proxy/core/openai/json_test_gen.h"
#include "proxy/core/openai/request_fields.h"

namespace llmproxy::openai {
namespace {

namespace tg = json::testgen;
using Members = std::vector<std::pair<std::string, std::string>>;  // raw key, raw value

Members members_of(std::string_view object_raw) {
  Members out;
  json::ObjectCursor cursor(object_raw, 0);
  json::Member m;
  while (cursor.next(m) == json::ObjectCursor::Step::member)
    out.emplace_back(std::string(m.key_raw), std::string(m.value.raw));
  return out;
}

Members without(Members ms, std::string_view key) {
  std::erase_if(ms, [&](const auto& m) { return json::string_equals(m.first, key); });
  return ms;
}

std::string random_member() {
  if (*rc::gen::inRange(0, 4) == 0) return tg::pick({R"("model":"m")", R"("\u006dodel":"m2")"});
  return tg::pick({R"("messages")", R"("temperature")", R"("n")", R"("x")", R"("\u0078")"}) +
         tg::ws() + ":" + tg::ws() + tg::value(2);
}

std::string random_stream_options() {
  std::vector<std::string> inner;
  const int extra = *rc::gen::inRange(0, 3);
  for (int i = 0; i < extra; ++i)
    inner.push_back(tg::pick({R"("continuous_usage_stats")", R"("a")"}) + ":" + tg::value(1));
  switch (*rc::gen::inRange(0, 4)) {
    case 0: inner.push_back(R"("include_usage":false)"); break;
    case 1: inner.push_back(R"("include_usage":null)"); break;
    case 2: inner.push_back(R"("include_usage")" + tg::ws() + ":" + tg::ws() + "true"); break;
    default: break;
  }
  std::string s = "{" + tg::ws();
  for (std::size_t i = 0; i < inner.size(); ++i) s += (i ? "," + tg::ws() : "") + inner[i];
  return s + tg::ws() + "}";
}

RC_GTEST_PROP(InjectIncludeUsageProperty, KeepsEverythingElse, ()) {
  std::vector<std::string> members;
  const int n = *rc::gen::inRange(0, 4);
  for (int i = 0; i < n; ++i) members.push_back(random_member());
  const bool stream = *rc::gen::arbitrary<bool>();
  members.push_back(std::string(R"("stream":)") + (stream ? "true" : "false"));
  const int so = *rc::gen::inRange(0, 3);
  if (so == 1) members.push_back(R"("stream_options":null)");
  if (so == 2) members.push_back(R"("stream_options":)" + tg::ws() + random_stream_options());
  // Shuffle deterministically from the generated order.
  const auto order = *rc::gen::unique<std::vector<std::size_t>>(
      members.size(), rc::gen::inRange<std::size_t>(0, members.size()));
  std::string body = tg::ws() + "{" + tg::ws();
  for (std::size_t i = 0; i < order.size(); ++i)
    body += (i ? "," + tg::ws() : "") + members[order[i]];
  body += tg::ws() + "}" + tg::ws();
  RC_LOG() << body << "\n";
  RC_ASSERT(json::validate(body));

  std::string scratch;
  const RequestFields before = read_request_fields(body, scratch);
  RC_ASSERT(!before.error);
  std::string out;
  const bool changed = inject_include_usage(body, out);
  RC_ASSERT(changed == (stream && before.include_usage != true));
  if (!changed) return;

  const auto root = json::parse(out);
  RC_ASSERT(root.has_value());
  RC_ASSERT(boost::json::parse(out).is_object());
  const RequestFields after = read_request_fields(out, scratch);
  RC_ASSERT(after.include_usage == std::optional<bool>(true));
  RC_ASSERT(after.stream);

  const auto in_root = json::parse(body);
  // Top level: same members in the same order, byte for byte, except
  // stream_options, which appears exactly once.
  const Members in_members = members_of(in_root->raw);
  const Members out_members = members_of(root->raw);
  RC_ASSERT(without(in_members, "stream_options") == without(out_members, "stream_options"));
  RC_ASSERT(out_members.size() - without(out_members, "stream_options").size() == 1u);
  // Inside stream_options: the same, except include_usage appears exactly once.
  const auto out_so = json::find_member(*root, "stream_options");
  const auto in_so = json::find_member(*in_root, "stream_options");
  const Members out_inner = members_of(out_so->raw);
  const Members in_inner =
      in_so && in_so->kind == json::Kind::object ? members_of(in_so->raw) : Members{};
  RC_ASSERT(without(in_inner, "include_usage") == without(out_inner, "include_usage"));
  RC_ASSERT(out_inner.size() - without(out_inner, "include_usage").size() == 1u);
}

}  // namespace
}  // namespace llmproxy::openai
