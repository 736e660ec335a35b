#include "tracing/zipkin_encoder.hpp"
