// gp_host_*: opening hosts and the outside party's promise calls.
#include <tuple>

#include "common.hpp"
#include "store/sqlite/sqlite_store.hpp"

using namespace gp::capi;

extern "C" {

GP_API int gp_host_options_init(gp_host_options_t* opts, unsigned int version) {
  return guard([&] {
    require(opts, "opts");
    if (version < 1 || version > GP_HOST_OPTIONS_VERSION) {
      throw gp::Error(gp::Errc::invalid, "gp_host_options_init: version must be 1.." +
                                             std::to_string(GP_HOST_OPTIONS_VERSION) + ", got " + std::to_string(version));
    }
    *opts = gp_host_options_t{};
    opts->version = version;
  });
}

GP_API int gp_host_open(gp_host** out, const char* path, const gp_host_options_t* opts) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    require(path, "path");
    gp::SqliteOptions options;
    if (opts) {
      if (opts->version < 1 || opts->version > GP_HOST_OPTIONS_VERSION) {
        throw gp::Error(gp::Errc::invalid, "gp_host_options_t.version must be GP_HOST_OPTIONS_VERSION (1), got " +
                                               std::to_string(opts->version));
      }
      // Each field on its own: 0 takes the default, a negative value is named with its rule.
      for (const auto& [name, value, fallback] : {std::tuple{"busy_timeout_ms", opts->busy_timeout_ms, options.busy_timeout_ms},
                                                   std::tuple{"fallback_poll_us", opts->fallback_poll_us, options.fallback_poll_us}}) {
        if (value < 0) {
          throw gp::Error(gp::Errc::invalid, std::string("gp_host_options_t.") + name + " must be >= 0 (0 = the default, " +
                                                 std::to_string(fallback) + "), got " + std::to_string(value));
        }
      }
      if (opts->synchronous) options.synchronous = opts->synchronous;
      if (opts->busy_timeout_ms) options.busy_timeout_ms = opts->busy_timeout_ms;
      if (opts->fallback_poll_us) options.fallback_poll_us = opts->fallback_poll_us;
    }
    auto handle = std::make_unique<gp_host>();
    handle->impl = gp::Host::open(gp::SqliteStore::open(path, options));
    *out = handle.release();
  });
}

GP_API void gp_host_close(gp_host** host) {
  if (host == nullptr) return;
  std::unique_ptr<gp_host> owned(*host);
  *host = nullptr;
}

GP_API int gp_host_complete_promise(int* out, gp_host* host, const gp_promise_id_t* promise_id,
                                    const uint8_t* data, size_t len) {
  return guard([&] {
    require(out, "out");
    *out = 0;
    require(host, "host");
    const auto id = to_core(*require(promise_id, "promise_id"));
    if (data == nullptr && len != 0) require(data, "data");
    *out = host->impl->complete(id, data, len) ? 1 : 0;
  });
}

GP_API int gp_host_poll_promise(gp_bytes_t* out, int* out_ready, gp_host* host,
                                const gp_promise_id_t* promise_id) {
  return guard([&] {
    require(out, "out");
    *out = gp_bytes_t{nullptr, 0};
    require(out_ready, "out_ready");
    *out_ready = 0;
    require(host, "host");
    auto r = host->impl->poll(to_core(*require(promise_id, "promise_id")));
    if (r) {
      give(out, std::move(*r));
      *out_ready = 1;
    }
  });
}

GP_API int gp_host_read_payload(size_t* out_len, int* out_ready, gp_host* host, const gp_promise_id_t* promise_id,
                                uint8_t* buf, size_t cap) {
  return guard([&] {
    require(out_len, "out_len");
    *out_len = 0;
    require(out_ready, "out_ready");
    *out_ready = 0;
    require(host, "host");
    if (buf == nullptr && cap != 0) throw gp::Error(gp::Errc::invalid, "buf is NULL but cap is " + std::to_string(cap));
    const auto len = host->impl->read_payload(to_core(*require(promise_id, "promise_id")), buf, cap);
    if (len) {
      *out_len = *len;
      *out_ready = 1;
    }
  });
}

GP_API int gp_host_await_promise(gp_bytes_t* out, gp_host* host, const gp_promise_id_t* promise_id,
                                 int64_t timeout_ms) {
  return guard([&] {
    require(out, "out");
    *out = gp_bytes_t{nullptr, 0};
    require(host, "host");
    give(out, host->impl->await(to_core(*require(promise_id, "promise_id")), to_timeout(timeout_ms)));
  });
}

GP_API int gp_host_delete_promise(gp_host* host, const gp_promise_id_t* promise_id) {
  return guard([&] {
    require(host, "host");
    host->impl->remove(to_core(*require(promise_id, "promise_id")));
  });
}

}  // extern "C"
