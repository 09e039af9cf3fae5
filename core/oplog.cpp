#include "oplog.hpp"

#include <chrono>

#include "error.hpp"
#include "oplog_generated.h"

namespace gp {

void encode_entry(const OplogEntry& e, flatbuffers::FlatBufferBuilder& fbb) {
  fbb.Clear();
  flatbuffers::Offset<fb::PromiseRef> promise;
  flatbuffers::Offset<flatbuffers::String> function;
  flatbuffers::Offset<flatbuffers::Vector<std::uint8_t>> data;
  if (is_recorded_call(e.kind)) {
    function = fbb.CreateString(e.function);
    data = fbb.CreateVector(reinterpret_cast<const std::uint8_t*>(e.data.data()), e.data.size());
  }
  if (e.promise) {
    const auto name = fbb.CreateString(e.promise->worker_id.worker_name);
    promise = fb::CreatePromiseRef(fbb, e.promise->worker_id.component_id.high_bits,
                                   e.promise->worker_id.component_id.low_bits, name,
                                   e.promise->oplog_idx);
  }
  fb::EntryBuilder b(fbb);
  b.add_kind(static_cast<fb::Kind>(e.kind));
  b.add_timestamp_us(e.timestamp_us);
  if (e.promise) b.add_promise(promise);
  b.add_status(e.status);
  b.add_result_flag(e.result_flag);
  b.add_has_payload(e.has_payload);
  b.add_payload_id(e.payload_id);
  b.add_payload_len(e.payload_len);
  b.add_payload_hash(e.payload_hash);
  if (is_recorded_call(e.kind)) {
    b.add_function(function);
    b.add_data(data);
  }
  fbb.Finish(b.Finish());
}

const char* kind_name(int kind) {
  static constexpr const char* kNames[] = {"create", "create-promise", "complete-promise", "poll-promise",
                                           "await-promise", "delete-promise", "get-oplog-index",
                                           "imported-function-invoked", "exported-function-invoked",
                                           "exported-function-completed"};
  const int first = static_cast<int>(OplogKind::create);
  const int last = static_cast<int>(OplogKind::exported_function_completed);
  return kind >= first && kind <= last ? kNames[kind - first] : "unknown";
}

OplogEntry decode_entry(const void* data, std::size_t len, int row_kind, std::uint64_t idx) {
  const auto corrupt = [idx](const std::string& why) {
    return Error(Errc::corrupt, "oplog entry " + std::to_string(idx) + " is damaged: " + why);
  };
  if (data == nullptr || len == 0) throw corrupt("empty entry");
  flatbuffers::Verifier verifier(static_cast<const std::uint8_t*>(data), len);
  if (!fb::VerifyEntryBuffer(verifier)) throw corrupt("it fails FlatBuffers verification");
  const auto* fe = fb::GetEntry(data);
  const int kind = static_cast<int>(fe->kind());
  if (kind < static_cast<int>(OplogKind::create) || kind > static_cast<int>(OplogKind::exported_function_completed)) {
    throw corrupt("unknown kind " + std::to_string(kind));
  }
  if (kind != row_kind) {
    throw corrupt("its kind " + std::to_string(kind) + " disagrees with the row's kind " +
                  std::to_string(row_kind));
  }
  OplogEntry e;
  e.idx = idx;
  e.kind = static_cast<OplogKind>(kind);
  e.timestamp_us = fe->timestamp_us();
  if (const auto* p = fe->promise()) {
    // FlatBuffers leaves every field optional; verification only says the bytes are sound.
    if (!p->worker_name() || p->worker_name()->size() == 0) throw corrupt("its promise has no worker name");
    PromiseId id;
    id.worker_id.component_id = Uuid{p->component_high(), p->component_low()};
    id.worker_id.worker_name = p->worker_name()->str();
    id.oplog_idx = p->oplog_idx();
    e.promise = std::move(id);
  }
  // Every call on a promise names it; create-promise names the promise it made, which is
  // numbered by this very entry.  A damaged or foreign row may pass verification without that.
  if (e.kind != OplogKind::create && e.kind != OplogKind::get_oplog_index && !is_recorded_call(e.kind) && !e.promise) {
    throw corrupt(std::string("a ") + kind_name(kind) + " entry without its promise");
  }
  if (e.kind == OplogKind::create_promise && e.promise->oplog_idx != idx) {
    throw corrupt("it creates promise " + std::to_string(e.promise->oplog_idx) + ", not " + std::to_string(idx));
  }
  e.status = fe->status();
  e.result_flag = fe->result_flag();
  e.has_payload = fe->has_payload();
  e.payload_id = fe->payload_id();
  e.payload_len = fe->payload_len();
  e.payload_hash = fe->payload_hash();
  if (is_recorded_call(e.kind)) {
    if (!fe->function() || fe->function()->size() == 0) throw corrupt(std::string("a ") + kind_name(kind) + " entry without its function");
    e.function = fe->function()->str();
    if (const auto* d = fe->data()) e.data.assign(reinterpret_cast<const char*>(d->data()), d->size());
    if (e.data.size() != e.payload_len || fnv1a64(reinterpret_cast<const std::uint8_t*>(e.data.data()), e.data.size()) != e.payload_hash) {
      throw corrupt("its recorded bytes do not match their length and hash");
    }
  }
  return e;
}

std::uint64_t fnv1a64(const std::uint8_t* data, std::size_t len, std::uint64_t basis) {
  std::uint64_t h = basis;
  for (std::size_t i = 0; i < len; ++i) {
    h ^= data[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace gp
