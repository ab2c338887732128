// Item 9 of issue #11, for every simulation property built on a
// harness::Scenario: on a failing run the case is written as a scenario
// file (conform::keep_failing_case) and its path and the one command that
// replays it go into the counterexample RapidCheck prints. Since every
// failing run (each shrink step too) rewrites the files, they hold the
// shrunk case at the end.
//
//   const KeepIfFails keep(sc, "routing-retry-failure");  // after drawing sc
//
// Properties that report violations themselves call keep_failing_case
// directly with the first violated invariant.
#pragma once

#include <rapidcheck.h>

#include <exception>
#include <string>

#include "conformance/harness/gateway_sim.h"
#include "conformance/scenario/case_writer.h"

namespace llmproxy::harness {

class KeepIfFails {
 public:
  KeepIfFails(const Scenario& sc, std::string name)
      : sc_(sc), name_(std::move(name)), exceptions_(std::uncaught_exceptions()) {}
  ~KeepIfFails() {
    // An RC_ASSERT failing is an exception leaving the property: the
    // property's log is still open while it unwinds through here.
    if (std::uncaught_exceptions() > exceptions_)
      RC_LOG() << conform::keep_failing_case(sc_, name_, "an assertion of " + name_ + " failed");
  }
  KeepIfFails(const KeepIfFails&) = delete;
  KeepIfFails& operator=(const KeepIfFails&) = delete;

 private:
  const Scenario& sc_;
  std::string name_;
  int exceptions_;
};

}  // namespace llmproxy::harness
