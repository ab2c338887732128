// Boost.JSON's implementation, compiled once for the fake backend library
// (header-only use elsewhere). Alone in its file so that a binary which also
// links another copy pulls at most one of them from the static libraries.
#include <boost/json/src.hpp>
