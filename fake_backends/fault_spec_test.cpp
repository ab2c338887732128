#include "fake_backends/fault_spec.h"

#include <gtest/gtest.h>

namespace llmproxy::fake {
namespace {

using namespace std::chrono_literals;

FaultSpec parse_ok(std::string_view text) {
  FaultSpec f;
  std::string err;
  EXPECT_TRUE(parse_fault_spec(text, f, err)) << text << ": " << err;
  return f;
}

std::string parse_err(std::string_view text) {
  FaultWindow w;
  std::string err;
  EXPECT_FALSE(parse_fault_window(text, w, err)) << text;
  return err;
}

TEST(ParseDuration, UnitsAndDecimals) {
  EXPECT_EQ(parse_duration("250ms"), Duration(250ms));
  EXPECT_EQ(parse_duration("2s"), Duration(2s));
  EXPECT_EQ(parse_duration("1.5s"), Duration(1500ms));
  EXPECT_EQ(parse_duration("500us"), Duration(500us));
  EXPECT_EQ(parse_duration("7ns"), Duration(7ns));
  EXPECT_EQ(parse_duration("1m"), Duration(60s));
  EXPECT_EQ(parse_duration("1h"), Duration(3600s));
  EXPECT_EQ(parse_duration("0"), Duration(0));
  EXPECT_EQ(parse_duration("0ms"), Duration(0));
}

TEST(ParseDuration, RejectsGarbage) {
  for (const char* bad : {"", "ms", "5", "5 ms", "-1s", "1.s", ".5s", "1x", "s5", "1e3s", "99999999h"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
}

TEST(ParseFault, Status) {
  const auto f = parse_ok("status=429,retry_after=2");
  EXPECT_EQ(f.status, 429);
  EXPECT_EQ(f.retry_after_s, 2);
  EXPECT_FALSE(f.empty());
  const auto g = parse_ok(" status = 400 , code = context_length_exceeded ");
  EXPECT_EQ(g.status, 400);
  EXPECT_EQ(g.code, "context_length_exceeded");
}

TEST(ParseFault, StreamFaults) {
  auto f = parse_ok("reset_after=3");
  EXPECT_EQ(f.reset_after, 3u);
  f = parse_ok("stall_after=2,for=1.5s");
  EXPECT_EQ(f.stall_after, 2u);
  EXPECT_EQ(f.stall_for, Duration(1500ms));
  f = parse_ok("malformed_at=0");
  EXPECT_EQ(f.malformed_at, 0u);
  f = parse_ok("no_done,slow_headers=20ms");
  EXPECT_TRUE(f.no_done);
  EXPECT_EQ(f.slow_headers, Duration(20ms));
  f = parse_ok("reset_before_headers");
  EXPECT_TRUE(f.reset_before_headers);
  f = parse_ok("hang");
  EXPECT_TRUE(f.hang);
}

TEST(ParseFault, HealthAndDown) {
  EXPECT_EQ(parse_ok("health=down").health, HealthMode::down);
  EXPECT_EQ(parse_ok("health=up").health, HealthMode::up);
  EXPECT_EQ(parse_ok("health=hang").health, HealthMode::hang);
  const auto down = parse_ok("down");
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.health, HealthMode::down);
  // Gray failure the other way round: health fine, completions fail.
  const auto gray = parse_ok("status=503,health=up");
  EXPECT_EQ(gray.health, HealthMode::up);
}

TEST(ParseFault, ProfileOverridesAndProbability) {
  const auto f = parse_ok("ttft=5ms,itl=1ms,tokens=3,p=0.25");
  EXPECT_EQ(f.ttft, Duration(5ms));
  EXPECT_EQ(f.itl, Duration(1ms));
  EXPECT_EQ(f.tokens, 3u);
  EXPECT_DOUBLE_EQ(f.probability, 0.25);
}

TEST(ParseFault, Window) {
  FaultWindow w;
  std::string err;
  ASSERT_TRUE(parse_fault_window("from=10s,to=20s,down", w, err)) << err;
  EXPECT_EQ(w.from, Duration(10s));
  EXPECT_EQ(w.to, Duration(20s));
  EXPECT_FALSE(w.active_at(9s));
  EXPECT_TRUE(w.active_at(10s));
  EXPECT_TRUE(w.active_at(19999ms));
  EXPECT_FALSE(w.active_at(20s));
  ASSERT_TRUE(parse_fault_window("status=500", w, err)) << err;
  EXPECT_EQ(w.from, Duration(0));
  EXPECT_EQ(w.to, Duration::max());
  EXPECT_TRUE(w.active_at(100h));
}

TEST(ParseFault, RejectsWithClearMessages) {
  EXPECT_NE(parse_err("").find("empty"), std::string::npos);
  EXPECT_NE(parse_err("status=200").find("400..599"), std::string::npos);
  EXPECT_NE(parse_err("status=abc").find("status=abc"), std::string::npos);
  EXPECT_NE(parse_err("bogus=1").find("unknown fault key 'bogus'"), std::string::npos);
  EXPECT_NE(parse_err("hang=1").find("takes no value"), std::string::npos);
  EXPECT_NE(parse_err("reset_after").find("needs a value"), std::string::npos);
  EXPECT_NE(parse_err("reset_after=-1").find("token count"), std::string::npos);
  EXPECT_NE(parse_err("status=500,status=502").find("duplicate"), std::string::npos);
  EXPECT_NE(parse_err("stall_after=2").find("go together"), std::string::npos);
  EXPECT_NE(parse_err("for=2s").find("go together"), std::string::npos);
  EXPECT_NE(parse_err("retry_after=2").find("need status"), std::string::npos);
  EXPECT_NE(parse_err("hang,reset_before_headers").find("exclude"), std::string::npos);
  EXPECT_NE(parse_err("from=5s,to=5s,down").find("window"), std::string::npos);
  EXPECT_NE(parse_err("down,status=500").find("duplicate"), std::string::npos);
  EXPECT_NE(parse_err("status=500,down").find("already"), std::string::npos);
  EXPECT_NE(parse_err("status=500,,hang").find("empty item"), std::string::npos);
  EXPECT_NE(parse_err("health=sideways").find("up, down or hang"), std::string::npos);
  EXPECT_NE(parse_err("p=1.5").find("probability"), std::string::npos);
  EXPECT_NE(parse_err("status=500,code=a b").find("error code"), std::string::npos);
  EXPECT_NE(parse_err("slow_headers=fast").find("duration"), std::string::npos);
}

TEST(ParseFault, WindowKeysOnlyInTimelines) {
  FaultSpec f;
  std::string err;
  EXPECT_FALSE(parse_fault_spec("from=1s,down", f, err));
  EXPECT_NE(err.find("timeline"), std::string::npos);
}

// Kept cases write fault timelines with print_fault_window; conform reads
// them back with the parser, so the two must agree exactly.
TEST(PrintFault, ReadsBackAsTheSameWindow) {
  for (const char* text :
       {"status=429,retry_after=30", "status=400,code=context_length_exceeded", "down", "hang",
        "reset_before_headers", "reset_after=2", "stall_after=3,for=1.5s", "malformed_at=0",
        "no_done,slow_headers=250us", "health=hang", "p=0.1,status=500", "ttft=5s,itl=7ns,tokens=3",
        "from=3s,to=6s,down", "from=1ms,health=down", "to=20s,status=503"}) {
    FaultWindow w;
    std::string err;
    ASSERT_TRUE(parse_fault_window(text, w, err)) << text << ": " << err;
    FaultWindow back;
    const std::string printed = print_fault_window(w);
    ASSERT_TRUE(parse_fault_window(printed, back, err)) << printed << ": " << err;
    EXPECT_EQ(back, w) << text << " printed as " << printed;
  }
}

TEST(PrintFault, PlainWhereItCanBe) {
  FaultWindow w;
  w.spec = parse_ok("down");
  // A whole-run window is a plain spec, which a scenario's bare form takes.
  EXPECT_EQ(print_fault_window(w), "status=503,health=down");
  w.from = 1500ms;
  w.to = 1h;
  EXPECT_EQ(print_fault_window(w), "from=1500ms,to=3600s,status=503,health=down");
  w.spec = parse_ok("stall_after=2,for=1.25s,p=0.3");
  w.from = Duration(0);
  w.to = Duration::max();
  EXPECT_EQ(print_fault_window(w), "stall_after=2,for=1250ms,p=0.3");
  EXPECT_EQ(print_fault_window(FaultWindow{}), "");
}

TEST(MergeFault, OverlayWins) {
  FaultSpec base = parse_ok("status=500,retry_after=3,slow_headers=10ms,health=down");
  merge_fault(base, parse_ok("status=429,reset_after=2,health=up"));
  EXPECT_EQ(base.status, 429);
  EXPECT_FALSE(base.retry_after_s.has_value());  // status, retry_after and code travel together
  EXPECT_EQ(base.reset_after, 2u);
  EXPECT_EQ(base.slow_headers, Duration(10ms));
  EXPECT_EQ(base.health, HealthMode::up);
  FaultSpec empty;
  EXPECT_TRUE(empty.empty());
  merge_fault(empty, FaultSpec{});
  EXPECT_TRUE(empty.empty());
}

}  // namespace
}  // namespace llmproxy::fake
