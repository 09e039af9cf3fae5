// Oplog entries: one per host call a worker makes, encoded as FlatBuffers (core/oplog.fbs) and
// verified whenever read back, so a damaged row is an error instead of undefined behaviour.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <flatbuffers/flatbuffers.h>

#include "ids.hpp"

namespace gp {

// Values equal GP_OPLOG_* and the FlatBuffers enum.
enum class OplogKind : int {
  create = 1,
  create_promise = 2,
  complete_promise = 3,
  poll_promise = 4,
  await_promise = 5,
  delete_promise = 6,
  get_oplog_index = 7,
  // Recorded by a component runner (Worker::record_call), replayed by function name.
  imported_function_invoked = 8,
  exported_function_invoked = 9,
  exported_function_completed = 10,
};
constexpr bool is_recorded_call(OplogKind k) {
  return k == OplogKind::imported_function_invoked || k == OplogKind::exported_function_invoked ||
         k == OplogKind::exported_function_completed;
}

// The kind's name as the oplog API shows it ("create-promise", ...); "unknown" for any other value.
const char* kind_name(int kind);

struct OplogEntry {
  std::uint64_t idx = 0;
  OplogKind kind = OplogKind::create;
  std::int64_t timestamp_us = 0;
  std::optional<PromiseId> promise;
  int status = 0;              // 0 or a GP_E* code
  bool result_flag = false;    // complete: completed it; poll: was ready
  bool has_payload = false;
  std::int64_t payload_id = 0; // promises.key of the row holding the payload (0: not stored)
  std::uint64_t payload_len = 0;
  std::uint64_t payload_hash = 0;
  // Recorded calls (is_recorded_call): the function and the bytes recorded with it.
  std::string function;
  std::string data;
};

// Encodes entry into fbb (cleared first, so one builder serves every call without
// reallocating); the bytes are fbb.GetBufferPointer() / fbb.GetSize() until the next use.
void encode_entry(const OplogEntry& entry, flatbuffers::FlatBufferBuilder& fbb);
// Verifies the buffer and that its kind agrees with the row's kind column; throws
// Error(corrupt) naming idx otherwise.
OplogEntry decode_entry(const void* data, std::size_t len, int row_kind, std::uint64_t idx);

// 64-bit FNV-1a: a cheap fingerprint of a payload, recorded so replay can tell payloads apart.
// Passing the hash of earlier bytes as basis continues it over more bytes.
constexpr std::uint64_t kFnv1a64Basis = 0xcbf29ce484222325ULL;
std::uint64_t fnv1a64(const std::uint8_t* data, std::size_t len, std::uint64_t basis = kFnv1a64Basis);

std::int64_t now_us();

}  // namespace gp
