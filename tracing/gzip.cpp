#include "tracing/gzip.hpp"
