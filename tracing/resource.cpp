#include "tracing/resource.hpp"
