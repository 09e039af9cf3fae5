// Identifiers across the C boundary: conversions, parsing and formatting.
#include <algorithm>
#include <cstdlib>

#include "common.hpp"

namespace gp::capi {

gp::Uuid to_core(const gp_uuid_t& u) { return gp::Uuid{u.high_bits, u.low_bits}; }

gp::WorkerId to_core(const gp_worker_id_t& w) {
  // The name must be NUL-terminated inside its array; never read past it.
  const void* nul = std::memchr(w.worker_name, '\0', sizeof w.worker_name);
  if (nul == nullptr) {
    throw gp::Error(gp::Errc::invalid, "worker_name is not NUL-terminated within GP_WORKER_NAME_MAX + 1 bytes");
  }
  gp::WorkerId out{to_core(w.component_id), std::string(w.worker_name)};
  gp::validate_worker_name(out.worker_name);
  return out;
}

gp::PromiseId to_core(const gp_promise_id_t& p) { return gp::PromiseId{to_core(p.worker_id), p.oplog_idx}; }

gp_uuid_t to_c(const gp::Uuid& u) { return gp_uuid_t{u.high_bits, u.low_bits}; }

gp_worker_id_t to_c(const gp::WorkerId& w) {
  gp_worker_id_t out{};
  out.component_id = to_c(w.component_id);
  // Names are validated to at most GP_WORKER_NAME_MAX characters before they get here.
  std::memcpy(out.worker_name, w.worker_name.data(), std::min(w.worker_name.size(), std::size_t{GP_WORKER_NAME_MAX}));
  return out;
}

gp_promise_id_t to_c(const gp::PromiseId& p) { return gp_promise_id_t{to_c(p.worker_id), p.oplog_idx}; }

void write_text(char* out, std::size_t out_size, const std::string& text) {
  if (out_size < text.size() + 1) {
    throw gp::Error(gp::Errc::invalid, "output buffer of " + std::to_string(out_size) + " bytes is too small for " +
                                           std::to_string(text.size() + 1) + " bytes");
  }
  std::memcpy(out, text.c_str(), text.size() + 1);
}

void give(gp_bytes_t* out, gp::Bytes&& bytes) {
  out->len = bytes.len;
  out->data = bytes.data.release();
}

gp::Timeout to_timeout(std::int64_t timeout_ms) { return gp::Timeout(timeout_ms < 0 ? -1 : timeout_ms); }

}  // namespace gp::capi

using namespace gp::capi;

extern "C" {

GP_API int gp_uuid_parse(gp_uuid_t* out, const char* text) {
  return guard([&] {
    require(out, "out");
    *out = gp_uuid_t{};  // what a failure leaves
    *out = to_c(gp::Uuid::parse(require(text, "text")));
  });
}

GP_API int gp_uuid_format(char* out, size_t out_size, const gp_uuid_t* uuid) {
  return guard([&] {
    require(out, "out");
    if (out_size) out[0] = '\0';  // what a failure leaves
    write_text(out, out_size, to_core(*require(uuid, "uuid")).to_string());
  });
}

GP_API int gp_worker_name_validate(const char* name) {
  return guard([&] { gp::validate_worker_name(require(name, "name")); });
}

GP_API int gp_worker_id_make(gp_worker_id_t* out, const gp_uuid_t* component_id, const char* worker_name) {
  return guard([&] {
    require(out, "out");
    *out = gp_worker_id_t{};  // what a failure leaves
    const std::string name = require(worker_name, "worker_name");
    gp::validate_worker_name(name);
    *out = to_c(gp::WorkerId{to_core(*require(component_id, "component_id")), name});
  });
}

GP_API int gp_worker_id_parse(gp_worker_id_t* out, const char* text) {
  return guard([&] {
    require(out, "out");
    *out = gp_worker_id_t{};  // what a failure leaves
    *out = to_c(gp::WorkerId::parse(require(text, "text")));
  });
}

GP_API int gp_worker_id_format(char* out, size_t out_size, const gp_worker_id_t* worker_id) {
  return guard([&] {
    require(out, "out");
    if (out_size) out[0] = '\0';  // what a failure leaves
    write_text(out, out_size, to_core(*require(worker_id, "worker_id")).to_string());
  });
}

GP_API int gp_promise_id_parse(gp_promise_id_t* out, const char* text) {
  return guard([&] {
    require(out, "out");
    *out = gp_promise_id_t{};  // what a failure leaves
    *out = to_c(gp::PromiseId::parse(require(text, "text")));
  });
}

GP_API int gp_promise_id_format(char* out, size_t out_size, const gp_promise_id_t* promise_id) {
  return guard([&] {
    require(out, "out");
    if (out_size) out[0] = '\0';  // what a failure leaves
    write_text(out, out_size, to_core(*require(promise_id, "promise_id")).to_string());
  });
}

GP_API void gp_bytes_free(gp_bytes_t* bytes) {
  if (bytes == nullptr) return;
  std::free(bytes->data);
  bytes->data = nullptr;
  bytes->len = 0;
}

GP_API void gp_string_free(char* text) { std::free(text); }

}  // extern "C"
