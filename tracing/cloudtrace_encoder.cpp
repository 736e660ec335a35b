#include "tracing/cloudtrace_encoder.hpp"
