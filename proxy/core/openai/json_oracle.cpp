// Boost.JSON compiled once, for tests and fuzz targets only, where it is the
// reference ("oracle") the allocation-free scanner is checked against.
// Production code never links it.
#include <boost/json/src.hpp>
