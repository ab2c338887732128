// Boost.JSON's implementation for the admin module (header-only use
// elsewhere). Alone in its file, as fake_backends/boost_json_impl.cpp is: a
// binary that links both libraries pulls one of the two identical objects.
#include <boost/json/src.hpp>
