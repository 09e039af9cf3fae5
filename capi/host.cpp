// gp_host_*: opening hosts and the outside party's promise calls.
#include "common.hpp"
#include "store/sqlite/sqlite_store.hpp"

using namespace gp::capi;

extern "C" {

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
