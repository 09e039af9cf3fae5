// gp_host_change_*: the change feed for event loops.
#include "common.hpp"

using namespace gp::capi;

extern "C" {

GP_API int gp_host_change_fd(int* out, gp_host* host) {
  return guard([&] {
    require(out, "out");
    *out = -1;
    *out = require(host, "host")->impl->change_fd();
  });
}

GP_API int gp_host_change_ack(gp_host* host) {
  return guard([&] { require(host, "host")->impl->change_ack(); });
}

GP_API int gp_host_change_counter(uint64_t* out, gp_host* host) {
  return guard([&] {
    require(out, "out");
    *out = 0;
    *out = require(host, "host")->impl->change_counter();
  });
}

}  // extern "C"
