// gp_promise_*: promise handles (Golem 1.3+ get-promise) and the batch check event loops use.
// Built only on the core's host-level calls (Host::poll / Host::await): nothing here writes to
// the store or to an oplog.
#include <vector>

#include "common.hpp"

struct gp_promise {
  std::shared_ptr<gp::Host> host;  // keeps the host (and its change feed) alive
  gp::PromiseId id;
};

using namespace gp::capi;

namespace {

// The promise's state by a host-level poll; payload receives the bytes when completed.
int32_t state_of(gp_promise& p, gp::Bytes* payload) {
  try {
    auto r = p.host->poll(p.id);
    if (!r) return GP_PROMISE_PENDING;
    if (payload) *payload = std::move(*r);
    return GP_PROMISE_COMPLETED;
  } catch (const gp::Error& e) {
    if (e.code() == gp::Errc::not_found) return GP_PROMISE_GONE;
    throw;
  }
}

}  // namespace

extern "C" {

GP_API int gp_host_get_promise(gp_promise** out, gp_host* host, const gp_promise_id_t* promise_id) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    require(host, "host");
    auto id = to_core(*require(promise_id, "promise_id"));
    auto handle = std::make_unique<gp_promise>();
    handle->host = host->impl;
    handle->id = std::move(id);
    *out = handle.release();
  });
}

GP_API void gp_promise_close(gp_promise** promise) {
  if (promise == nullptr) return;
  std::unique_ptr<gp_promise> owned(*promise);
  *promise = nullptr;
}

GP_API int gp_promise_get_id(gp_promise_id_t* out, const gp_promise* promise) {
  return guard([&] {
    require(out, "out");
    *out = gp_promise_id_t{};
    *out = to_c(require(promise, "promise")->id);
  });
}

GP_API int gp_promise_get(gp_bytes_t* out, int* out_ready, gp_promise* promise) {
  return guard([&] {
    require(out, "out");
    *out = gp_bytes_t{nullptr, 0};
    require(out_ready, "out_ready");
    *out_ready = 0;
    auto& p = *require(promise, "promise");
    auto r = p.host->poll(p.id);
    if (r) {
      give(out, std::move(*r));
      *out_ready = 1;
    }
  });
}

GP_API int gp_promise_state(int32_t* out, gp_promise* promise) {
  return guard([&] {
    require(out, "out");
    *out = GP_PROMISE_PENDING;
    *out = state_of(*require(promise, "promise"), nullptr);
  });
}

GP_API int gp_promise_ready(int* out, gp_promise* promise) {
  return guard([&] {
    require(out, "out");
    *out = 0;
    *out = state_of(*require(promise, "promise"), nullptr) != GP_PROMISE_PENDING ? 1 : 0;
  });
}

GP_API int gp_promise_block(gp_promise* promise, int64_t timeout_ms) {
  return guard([&] {
    auto& p = *require(promise, "promise");
    try {
      p.host->await(p.id, to_timeout(timeout_ms));
    } catch (const gp::Error& e) {
      if (e.code() != gp::Errc::not_found) throw;  // gone: ready, get() will say so
    }
  });
}

GP_API int gp_promise_poll_many(int32_t* out_states, gp_bytes_t* out_payloads,
                                gp_promise* const* promises, size_t count) {
  // Outputs are set only once every check has succeeded, so a failure leaves nothing to free.
  if (out_states && promises) {
    for (size_t i = 0; i < count; ++i) out_states[i] = GP_PROMISE_PENDING;
  }
  if (out_payloads && promises) {
    for (size_t i = 0; i < count; ++i) out_payloads[i] = gp_bytes_t{nullptr, 0};
  }
  return guard([&] {
    if (count == 0) return;
    require(out_states, "out_states");
    require(promises, "promises");
    for (size_t i = 0; i < count; ++i) require(promises[i], "promises[i]");
    std::vector<int32_t> states(count, GP_PROMISE_PENDING);
    std::vector<gp::Bytes> payloads(out_payloads ? count : 0);
    for (size_t i = 0; i < count; ++i) {
      states[i] = state_of(*promises[i], out_payloads ? &payloads[i] : nullptr);
    }
    for (size_t i = 0; i < count; ++i) {
      out_states[i] = states[i];
      if (out_payloads && states[i] == GP_PROMISE_COMPLETED) give(&out_payloads[i], std::move(payloads[i]));
    }
  });
}

}  // extern "C"
