// Durable execution: a restarted worker's host calls are answered from its oplog, in order.
//
// A worker opened over an oplog with recorded calls starts in replay.  Each call is matched
// with the next recorded entry: same function, same promise id, same payload (length and
// FNV-1a hash).  A match returns the recorded result and writes nothing; a mismatch is a
// non-determinism error naming the index, the recorded call and the attempted one, and also
// writes nothing.  When the recorded entries run out, the worker is live again.  An await
// that was still waiting at the crash was never recorded, so it runs live against the store.
//
// Recorded entries never change (the oplog is append-only and the replayed range ends at the
// index read at restart), and neither does a completed promise's payload, so both are read
// ahead in batches: a replayed call is then a comparison in memory.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "error.hpp"
#include "host.hpp"

namespace gp {

namespace {

const char* kind_name(OplogKind k) { return gp::kind_name(static_cast<int>(k)); }

// payload_hash is given when two payloads differ only in content, so the texts differ too.
std::string describe(OplogKind kind, const PromiseId* promise, std::optional<std::uint64_t> payload_len,
                     std::optional<std::uint64_t> payload_hash = std::nullopt, std::string_view function = {}) {
  std::string s = kind_name(kind);
  s += "(";
  // create-promise records the id it returned, which is no argument of the call.
  if (promise && kind != OplogKind::create_promise) s += promise->to_string();
  if (is_recorded_call(kind)) s.append(function);
  if (payload_len) s += ", " + std::to_string(*payload_len) + " bytes";
  if (payload_hash) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(*payload_hash));
    s += std::string(", fnv1a64 ") + hex;
  }
  return s + ")";
}

// The calls whose data is an argument, compared on replay (an imported function's data is its
// answer, which replay returns instead of computing).
bool compares_data(OplogKind k) {
  return k == OplogKind::complete_promise || k == OplogKind::exported_function_invoked ||
         k == OplogKind::exported_function_completed;
}

std::string describe(const OplogEntry& e, bool with_hash) {
  const bool with_payload = compares_data(e.kind);
  return describe(e.kind, e.promise ? &*e.promise : nullptr,
                  with_payload ? std::optional<std::uint64_t>(e.payload_len) : std::nullopt,
                  with_hash ? std::optional<std::uint64_t>(e.payload_hash) : std::nullopt, e.function);
}

// Recorded entries read per query, and the largest payload read along with them.
constexpr std::uint64_t kBatch = 256;
constexpr std::size_t kAheadPayload = 4096;

}  // namespace

void Worker::start_replay() {
  replay_end_ = host_->store_->last_index(row_);
  last_seen_ = replay_end_;  // a restart takes the oplog as it is now, whoever wrote it
  replay_next_ = replay_end_ >= 2 ? 2 : 0;  // entry 1 is the worker's creation
  ahead_.clear();
  ahead_payloads_.clear();
}

bool Worker::is_replaying() {
  std::lock_guard lock(host_->store_->mutex());
  return replay_next_ != 0;
}

std::uint64_t Worker::oplog_position() {
  std::lock_guard lock(host_->store_->mutex());
  return replay_next_ != 0 ? replay_next_ - 1 : host_->store_->last_index(row_);
}

void Worker::restart() {
  SyncTicket ticket;
  {
    std::lock_guard lock(host_->store_->mutex());
    start_replay();
    if (replay_end_ >= 2) ticket = host_->store_->read_ticket(nullptr);  // as in Host::open_worker
  }
  host_->store_->wait_durable(ticket);
}

void Worker::read_ahead() {
  const auto from = replay_next_;
  const auto to = std::min(replay_end_, from + kBatch - 1);
  // A promise created in the previous batch may still be polled or awaited in this one.
  const std::uint64_t keep = from > kBatch ? from - kBatch : 0;
  ahead_payloads_.erase(ahead_payloads_.begin(),
                        std::lower_bound(ahead_payloads_.begin(), ahead_payloads_.end(), keep,
                                         [](const auto& p, std::uint64_t k) { return p.first < k; }));
  // One read for the batch.  Payloads up to 4 KiB come along, which bounds what a worker holds
  // ahead; larger ones are read when a call that returned one is replayed.
  host_->store_->read_entries(row_, from, to, kAheadPayload, ahead_, ahead_payloads_);
}

Bytes Worker::recorded_payload(const OplogEntry& e) {
  // Read ahead are the payloads of this worker's own promises, by index; a poll of another
  // worker's promise reads its recorded payload from the store.
  if (e.promise && e.promise->worker_id == id_) {
    const auto idx = e.promise->oplog_idx;
    const auto it = std::lower_bound(ahead_payloads_.begin(), ahead_payloads_.end(), idx,
                                     [](const auto& p, std::uint64_t k) { return p.first < k; });
    // A copy the caller owns: a promise may be polled and awaited, each returning its payload.
    if (it != ahead_payloads_.end() && it->first == idx) return copy_bytes(it->second);
  }
  return host_->store_->read_recorded_payload(e.payload_id);
}

std::optional<OplogEntry> Worker::replay(const Call& call) {
  if (replay_next_ == 0) {
    // Live: the payloads read ahead for the last replayed calls are no longer needed.
    if (ahead_payloads_.capacity() != 0) decltype(ahead_payloads_)().swap(ahead_payloads_);
    return std::nullopt;
  }
  if (ahead_.empty()) read_ahead();
  if (ahead_.empty() || ahead_.front().idx != replay_next_) {
    throw Error(Errc::corrupt, "worker " + id_.to_string() + " is missing oplog entry " + std::to_string(replay_next_));
  }
  const OplogEntry& e = ahead_.front();
  bool same = e.kind == call.kind;
  const bool by_promise = call.kind != OplogKind::create_promise && call.kind != OplogKind::get_oplog_index &&
                          !is_recorded_call(call.kind);
  if (same && by_promise) same = e.promise && call.promise && *e.promise == *call.promise;
  if (same && is_recorded_call(call.kind)) same = e.function == call.function;
  if (same && compares_data(call.kind)) {
    same = e.payload_len == call.len && e.payload_hash == fnv1a64(call.data, call.len);
  }
  if (!same) {
    const bool with_payload = compares_data(call.kind);
    // Same call, same length, other bytes: name the hashes, or both texts would read the same.
    const bool with_hash = with_payload && e.kind == call.kind && e.payload_len == call.len &&
                           (by_promise ? e.promise && call.promise && *e.promise == *call.promise
                                       : e.function == call.function);
    throw Error(Errc::non_determinism,
                "non-deterministic replay of worker " + id_.to_string() + " at oplog index " +
                    std::to_string(e.idx) + ": recorded " + describe(e, with_hash) + ", attempted " +
                    describe(call.kind, call.promise,
                             with_payload ? std::optional<std::uint64_t>(call.len) : std::nullopt,
                             with_hash ? std::optional<std::uint64_t>(fnv1a64(call.data, call.len))
                                       : std::nullopt,
                             call.function));
  }
  replay_next_ = replay_next_ < replay_end_ ? replay_next_ + 1 : 0;  // past the end: live
  auto out = std::move(ahead_.front());
  ahead_.pop_front();
  return out;
}

}  // namespace gp
