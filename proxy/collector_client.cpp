#include "proxy/collector_client.hpp"
