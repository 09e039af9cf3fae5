// gp_worker_*: the host functions a worker calls, each recorded in its oplog.
#include "common.hpp"

using namespace gp::capi;

extern "C" {

GP_API int gp_worker_open_v2(gp_worker** out, gp_host* host, const gp_worker_id_t* worker_id, uint32_t flags) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    require(host, "host");
    if (flags & ~GP_WORKER_OPEN_LIVE) {
      throw gp::Error(gp::Errc::invalid, "unknown gp_worker_open_v2 flags " + std::to_string(flags));
    }
    auto handle = std::make_unique<gp_worker>();
    handle->impl = host->impl->open_worker(to_core(*require(worker_id, "worker_id")), (flags & GP_WORKER_OPEN_LIVE) != 0);
    *out = handle.release();
  });
}

GP_API int gp_worker_open(gp_worker** out, gp_host* host, const gp_worker_id_t* worker_id) {
  return gp_worker_open_v2(out, host, worker_id, 0);
}

GP_API int gp_worker_restart(gp_worker* worker) {
  return guard([&] { require(worker, "worker")->impl->restart(); });
}

GP_API int gp_worker_is_replaying(int* out, gp_worker* worker) {
  return guard([&] {
    require(out, "out");
    *out = 0;
    *out = require(worker, "worker")->impl->is_replaying() ? 1 : 0;
  });
}

GP_API int gp_worker_oplog_position(uint64_t* out, gp_worker* worker) {
  return guard([&] {
    require(out, "out");
    *out = 0;
    *out = require(worker, "worker")->impl->oplog_position();
  });
}

GP_API void gp_worker_close(gp_worker** worker) {
  if (worker == nullptr) return;
  std::unique_ptr<gp_worker> owned(*worker);
  *worker = nullptr;
}

GP_API int gp_worker_get_id(gp_worker_id_t* out, const gp_worker* worker) {
  return guard([&] {
    require(out, "out");
    *out = gp_worker_id_t{};  // what a failure leaves
    *out = to_c(require(worker, "worker")->impl->id());
  });
}

GP_API int gp_worker_create_promise(gp_promise_id_t* out, gp_worker* worker) {
  return guard([&] {
    require(out, "out");
    *out = gp_promise_id_t{};
    *out = to_c(require(worker, "worker")->impl->create_promise());
  });
}

GP_API int gp_worker_complete_promise(int* out, gp_worker* worker, const gp_promise_id_t* promise_id,
                                      const uint8_t* data, size_t len) {
  return guard([&] {
    require(out, "out");
    *out = 0;
    require(worker, "worker");
    const auto id = to_core(*require(promise_id, "promise_id"));
    if (data == nullptr && len != 0) require(data, "data");
    *out = worker->impl->complete_promise(id, data, len) ? 1 : 0;
  });
}

GP_API int gp_worker_poll_promise(gp_bytes_t* out, int* out_ready, gp_worker* worker,
                                  const gp_promise_id_t* promise_id) {
  return guard([&] {
    require(out, "out");
    *out = gp_bytes_t{nullptr, 0};
    require(out_ready, "out_ready");
    *out_ready = 0;
    require(worker, "worker");
    auto r = worker->impl->poll_promise(to_core(*require(promise_id, "promise_id")));
    if (r) {
      give(out, std::move(*r));
      *out_ready = 1;
    }
  });
}

GP_API int gp_worker_await_promise(gp_bytes_t* out, gp_worker* worker, const gp_promise_id_t* promise_id,
                                   int64_t timeout_ms) {
  return guard([&] {
    require(out, "out");
    *out = gp_bytes_t{nullptr, 0};
    require(worker, "worker");
    give(out, worker->impl->await_promise(to_core(*require(promise_id, "promise_id")), to_timeout(timeout_ms)));
  });
}

GP_API int gp_worker_delete_promise(gp_worker* worker, const gp_promise_id_t* promise_id) {
  return guard([&] {
    require(worker, "worker");
    worker->impl->delete_promise(to_core(*require(promise_id, "promise_id")));
  });
}

namespace {
// The kind and the name's length are checked by the core (Worker::replay_call, record_call).
std::string_view function_name(const char* function) {
  require(function, "function");
  const auto* end = static_cast<const char*>(std::memchr(function, '\0', 4097));
  if (end == nullptr) throw gp::Error(gp::Errc::invalid, "function: a name over 4096 bytes");
  return {function, static_cast<std::size_t>(end - function)};
}
}  // namespace

GP_API int gp_worker_replay_call(gp_bytes_t* out, int* replayed, uint64_t* oplog_idx, gp_worker* worker,
                                 int32_t kind, const char* function, const uint8_t* data, size_t len) {
  return guard([&] {
    require(out, "out");
    *out = gp_bytes_t{nullptr, 0};
    require(replayed, "replayed");
    *replayed = 0;
    require(oplog_idx, "oplog_idx");
    *oplog_idx = 0;
    require(worker, "worker");
    if (len > 0) require(data, "data");
    auto r = worker->impl->replay_call(static_cast<gp::OplogKind>(kind), function_name(function), data, len);
    if (!r) return;
    give(out, gp::copy_bytes(r->data));
    *oplog_idx = r->idx;
    *replayed = 1;
  });
}

GP_API int gp_worker_record_call(uint64_t* out, gp_worker* worker, int32_t kind, const char* function,
                                 const uint8_t* data, size_t len) {
  return guard([&] {
    require(out, "out");
    *out = 0;
    require(worker, "worker");
    if (len > 0) require(data, "data");
    *out = worker->impl->record_call(static_cast<gp::OplogKind>(kind), function_name(function), data, len);
  });
}

GP_API int gp_worker_get_oplog_index(uint64_t* out, gp_worker* worker) {
  return guard([&] {
    require(out, "out");
    *out = 0;
    *out = require(worker, "worker")->impl->get_oplog_index();
  });
}

}  // extern "C"
