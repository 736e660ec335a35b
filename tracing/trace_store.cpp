#include "tracing/trace_store.hpp"
