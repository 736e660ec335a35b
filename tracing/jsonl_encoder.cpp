#include "tracing/jsonl_encoder.hpp"
