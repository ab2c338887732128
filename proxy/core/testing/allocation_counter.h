// Counts heap allocations in a test binary: linking allocation_counter.cpp
// replaces the global operator new (and delete) of that binary, so a test can
// assert that a hot path allocates nothing in its steady state:
//
//   const long before = testing::allocations();
//   …the code under test…
//   EXPECT_EQ(testing::allocations() - before, 0);
//
// Link it only into tests whose subject is allocation (the no_alloc tests).
#pragma once

namespace llmproxy::testing {

// Calls of the global operator new since the program started.
long allocations();

}  // namespace llmproxy::testing
