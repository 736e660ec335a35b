#include "tracing/otlp_encoder.hpp"
