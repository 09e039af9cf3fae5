// gp_host_oplog_*: reading a worker's oplog.
#include "common.hpp"

using namespace gp::capi;

extern "C" {

GP_API int gp_host_oplog_length(uint64_t* out, gp_host* host, const gp_worker_id_t* worker_id) {
  return guard([&] {
    require(out, "out");
    *out = 0;
    require(host, "host");
    *out = host->impl->oplog_length(to_core(*require(worker_id, "worker_id")));
  });
}

GP_API int gp_host_oplog_read(gp_oplog_entry_t* out, gp_host* host, const gp_worker_id_t* worker_id,
                              uint64_t oplog_idx) {
  return guard([&] {
    require(out, "out");
    *out = gp_oplog_entry_t{};
    require(host, "host");
    const auto e = host->impl->oplog_read(to_core(*require(worker_id, "worker_id")), oplog_idx);
    out->oplog_idx = e.idx;
    out->kind = static_cast<int32_t>(e.kind);
    out->status = e.status;
    out->timestamp_us = e.timestamp_us;
    if (e.promise) out->promise_id = to_c(*e.promise);
    out->has_payload = e.has_payload ? 1 : 0;
    out->result_flag = e.result_flag ? 1 : 0;
    out->payload_len = e.payload_len;
    out->payload_hash = e.payload_hash;
  });
}

GP_API int gp_host_oplog_read_call(gp_bytes_t* function, gp_bytes_t* data, gp_host* host,
                                   const gp_worker_id_t* worker_id, uint64_t oplog_idx) {
  return guard([&] {
    require(function, "function");
    *function = gp_bytes_t{nullptr, 0};
    require(data, "data");
    *data = gp_bytes_t{nullptr, 0};
    require(host, "host");
    const auto e = host->impl->oplog_read(to_core(*require(worker_id, "worker_id")), oplog_idx);
    if (!gp::is_recorded_call(e.kind)) {
      throw gp::Error(gp::Errc::invalid, "oplog entry " + std::to_string(oplog_idx) + " is a " +
                                             gp::kind_name(static_cast<int>(e.kind)) + " entry, not a recorded call");
    }
    auto f = gp::copy_bytes(e.function);
    auto d = gp::copy_bytes(e.data);
    give(function, std::move(f));
    give(data, std::move(d));
  });
}

// The core's kinds are the ABI's values, so the core names them for both.
static_assert(static_cast<int>(gp::OplogKind::create) == GP_OPLOG_CREATE &&
                  static_cast<int>(gp::OplogKind::create_promise) == GP_OPLOG_CREATE_PROMISE &&
                  static_cast<int>(gp::OplogKind::complete_promise) == GP_OPLOG_COMPLETE_PROMISE &&
                  static_cast<int>(gp::OplogKind::poll_promise) == GP_OPLOG_POLL_PROMISE &&
                  static_cast<int>(gp::OplogKind::await_promise) == GP_OPLOG_AWAIT_PROMISE &&
                  static_cast<int>(gp::OplogKind::delete_promise) == GP_OPLOG_DELETE_PROMISE &&
                  static_cast<int>(gp::OplogKind::get_oplog_index) == GP_OPLOG_GET_OPLOG_INDEX &&
                  static_cast<int>(gp::OplogKind::imported_function_invoked) == GP_OPLOG_IMPORTED_FUNCTION_INVOKED &&
                  static_cast<int>(gp::OplogKind::exported_function_invoked) == GP_OPLOG_EXPORTED_FUNCTION_INVOKED &&
                  static_cast<int>(gp::OplogKind::exported_function_completed) == GP_OPLOG_EXPORTED_FUNCTION_COMPLETED,
              "OplogKind matches GP_OPLOG_*");

GP_API const char* gp_oplog_kind_name(int32_t kind) { return gp::kind_name(kind); }

}  // extern "C"
