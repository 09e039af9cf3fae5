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

GP_API const char* gp_oplog_kind_name(int32_t kind) {
  switch (kind) {
    case GP_OPLOG_CREATE: return "create";
    case GP_OPLOG_CREATE_PROMISE: return "create-promise";
    case GP_OPLOG_COMPLETE_PROMISE: return "complete-promise";
    case GP_OPLOG_POLL_PROMISE: return "poll-promise";
    case GP_OPLOG_AWAIT_PROMISE: return "await-promise";
    case GP_OPLOG_DELETE_PROMISE: return "delete-promise";
    case GP_OPLOG_GET_OPLOG_INDEX: return "get-oplog-index";
    default: return "unknown";
  }
}

}  // extern "C"
