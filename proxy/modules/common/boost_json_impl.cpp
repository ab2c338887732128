// Boost.JSON's implementation for the modules that read JSON (admin, auth),
// compiled once; they use the library header-only. Alone in its file, as
// fake_backends/boost_json_impl.cpp is: a binary that links both libraries
// pulls one of the two identical objects.
#include <boost/json/src.hpp>
