// The promise state machine (DESIGN §2).  States: pending, completed(payload), gone.
//
//                  pending                 completed               gone
//   complete    -> completed, true        false, payload kept     PromiseNotFound
//   await       waits                     payload                 PromiseNotFound
//   poll        none                      payload                 PromiseNotFound
//   delete      -> gone                   -> gone                 no-op
//
// Each state change is one SQLite transaction; a worker's call writes its oplog entry in that
// same transaction, so the entry and the effect are durable together or not at all.
#include <limits>

#include "error.hpp"
#include "host.hpp"

namespace gp {

enum class State { gone, pending, completed };

struct Host::Lookup {
  State state = State::gone;
  std::int64_t payload_id = 0;
};

namespace {

Error not_found(const PromiseId& id) {
  return Error(Errc::not_found, "promise " + id.to_string() + " not found");
}

}  // namespace

Host::Lookup Host::lookup(const PromiseId& id) {
  Lookup out;
  const auto row = worker_row(id.worker_id);
  if (!row || id.oplog_idx > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return out;
  auto q = db_->cached("SELECT payload FROM promises WHERE worker = ?1 AND idx = ?2");
  q->bind(1, *row).bind(2, static_cast<std::int64_t>(id.oplog_idx));
  if (!q->step()) return out;
  if (q->is_null(0)) {
    out.state = State::pending;
  } else {
    out.state = State::completed;
    out.payload_id = q->int64(0);
  }
  return out;
}

// ---------------------------------------------------------------- complete

bool Host::complete_as(const Worker* recorder, const PromiseId& id, const std::uint8_t* data,
                       std::size_t len) {
  OplogEntry entry;
  bool completed = false;
  {
    std::lock_guard lock(db_mu_);
    sql::Txn txn(*db_);
    const auto l = lookup(id);
    if (l.state == State::pending) {
      // The promise row and (for a worker) the oplog entry both refer to the new payload.
      const auto payload_id = store_payload(data, len, recorder ? 2 : 1);
      auto q = db_->cached("UPDATE promises SET payload = ?3 WHERE worker = ?1 AND idx = ?2 AND payload IS NULL");
      q->bind(1, *worker_row(id.worker_id)).bind(2, static_cast<std::int64_t>(id.oplog_idx)).bind(3, payload_id).exec();
      completed = true;
      entry.payload_id = payload_id;
    }
    if (recorder) {
      entry.kind = OplogKind::complete_promise;
      entry.promise = id;
      entry.status = l.state == State::gone ? static_cast<int>(Errc::not_found) : 0;
      entry.result_flag = completed;
      entry.has_payload = true;
      entry.payload_len = len;
      entry.payload_hash = fnv1a64(data, len);
      append_entry(recorder->row_, entry);
    }
    txn.commit();  // durable (file host) before anyone hears "true"
    if (l.state == State::gone) throw not_found(id);
  }
  if (completed) wake_all(id);
  return completed;
}

// ---------------------------------------------------------------- poll

std::optional<Bytes> Host::poll_as(const Worker* recorder, const PromiseId& id) {
  std::lock_guard lock(db_mu_);
  // A host-level poll writes nothing, so it only needs a read transaction.
  sql::Txn txn(*db_, recorder ? sql::Txn::write : sql::Txn::read);
  const auto l = lookup(id);
  std::optional<Bytes> out;
  if (l.state == State::completed) out = read_payload(l.payload_id);
  if (recorder) {
    OplogEntry entry;
    entry.kind = OplogKind::poll_promise;
    entry.promise = id;
    entry.status = l.state == State::gone ? static_cast<int>(Errc::not_found) : 0;
    entry.result_flag = out.has_value();
    if (out) {
      entry.has_payload = true;
      entry.payload_id = l.payload_id;
      entry.payload_len = out->len;
      entry.payload_hash = fnv1a64(out->data.get(), out->len);
      add_payload_ref(l.payload_id, +1);  // the entry keeps the payload alive for replay
    }
    append_entry(recorder->row_, entry);
    txn.commit();
  }
  // A host-level poll wrote nothing; the guard's rollback just ends its read.
  if (l.state == State::gone) throw not_found(id);
  return out;
}

// ---------------------------------------------------------------- await

std::optional<Bytes> Host::try_finish_await(const Worker* recorder, const PromiseId& id) {
  std::lock_guard lock(db_mu_);
  if (!recorder) {
    // Read-only: a read transaction gives a consistent view of promise + payload.
    sql::Txn txn(*db_, sql::Txn::read);
    const auto l = lookup(id);
    if (l.state == State::gone) throw not_found(id);
    if (l.state == State::pending) return std::nullopt;
    return read_payload(l.payload_id);
  }
  // Cheap unlocked look first, so a waiting worker does not take the write lock on every check.
  if (lookup(id).state == State::pending) return std::nullopt;
  sql::Txn txn(*db_);
  const auto l = lookup(id);
  if (l.state == State::pending) return std::nullopt;  // cannot happen: completion is final
  OplogEntry entry;
  entry.kind = OplogKind::await_promise;
  entry.promise = id;
  std::optional<Bytes> out;
  if (l.state == State::gone) {
    entry.status = static_cast<int>(Errc::not_found);
  } else {
    out = read_payload(l.payload_id);
    entry.has_payload = true;
    entry.payload_id = l.payload_id;
    entry.payload_len = out->len;
    entry.payload_hash = fnv1a64(out->data.get(), out->len);
    add_payload_ref(l.payload_id, +1);
  }
  append_entry(recorder->row_, entry);
  txn.commit();
  if (!out) throw not_found(id);
  return out;
}

Bytes Host::await_as(const Worker* recorder, const PromiseId& id, Timeout timeout) {
  using clock = std::chrono::steady_clock;
  const bool forever = timeout.count() < 0;
  const auto deadline = forever ? clock::time_point::max() : clock::now() + timeout;
  const auto fallback = std::chrono::microseconds(options_.fallback_poll_us);
  for (;;) {
    // Read the generation before checking, so a completion between check and wait is not lost.
    const auto seen = wake_generation(id);
    if (auto done = try_finish_await(recorder, id)) return std::move(*done);
    const auto now = clock::now();
    if (now >= deadline) {
      throw Error(Errc::timeout, "timed out awaiting promise " + id.to_string() + " after " +
                                     std::to_string(timeout.count()) + " ms");
    }
    // In memory only this process can complete it; a file may be completed by another process,
    // which the fallback re-check catches.
    auto until = deadline;
    if (!memory_ && deadline - now > fallback) until = now + fallback;
    wait_for_change(id, seen, until);
  }
}

// ---------------------------------------------------------------- delete

void Host::remove_as(const Worker* recorder, const PromiseId& id) {
  bool removed = false;
  {
    std::lock_guard lock(db_mu_);
    sql::Txn txn(*db_);
    const auto l = lookup(id);
    if (l.state != State::gone) {
      auto q = db_->cached("DELETE FROM promises WHERE worker = ?1 AND idx = ?2");
      q->bind(1, *worker_row(id.worker_id)).bind(2, static_cast<std::int64_t>(id.oplog_idx)).exec();
      if (l.state == State::completed) add_payload_ref(l.payload_id, -1);
      removed = true;
    }
    if (recorder) {
      OplogEntry entry;
      entry.kind = OplogKind::delete_promise;
      entry.promise = id;
      append_entry(recorder->row_, entry);
    }
    if (removed || recorder) txn.commit();
  }
  if (removed) wake_all(id);  // waiters learn it is gone
}

// ---------------------------------------------------------------- the two faces

bool Host::complete(const PromiseId& id, const std::uint8_t* data, std::size_t len) {
  return complete_as(nullptr, id, data, len);
}
std::optional<Bytes> Host::poll(const PromiseId& id) { return poll_as(nullptr, id); }
Bytes Host::await(const PromiseId& id, Timeout timeout) { return await_as(nullptr, id, timeout); }
void Host::remove(const PromiseId& id) { remove_as(nullptr, id); }

PromiseId Worker::create_promise() {
  auto& h = *host_;
  std::lock_guard lock(h.db_mu_);
  sql::Txn txn(*h.db_);
  OplogEntry entry;
  entry.kind = OplogKind::create_promise;
  // The promise's id is the index of the entry that creates it.
  {
    auto q = h.db_->cached("SELECT coalesce(max(idx), 0) + 1 FROM oplog WHERE worker = ?1");
    q->bind(1, row_).step();
    entry.promise = PromiseId{id_, static_cast<std::uint64_t>(q->int64(0))};
  }
  const auto idx = h.append_entry(row_, entry);
  {
    auto q = h.db_->cached("INSERT INTO promises (worker, idx, payload) VALUES (?1, ?2, NULL)");
    q->bind(1, row_).bind(2, static_cast<std::int64_t>(idx)).exec();
  }
  txn.commit();
  return *entry.promise;
}

bool Worker::complete_promise(const PromiseId& id, const std::uint8_t* data, std::size_t len) {
  return host_->complete_as(this, id, data, len);
}
std::optional<Bytes> Worker::poll_promise(const PromiseId& id) { return host_->poll_as(this, id); }

Bytes Worker::await_promise(const PromiseId& id, Timeout timeout) {
  if (!(id.worker_id == id_)) {
    throw Error(Errc::not_owner, "worker " + id_.to_string() + " cannot await promise " + id.to_string() +
                                     ": only the worker that created a promise may await it");
  }
  return host_->await_as(this, id, timeout);
}

void Worker::delete_promise(const PromiseId& id) { host_->remove_as(this, id); }

std::uint64_t Worker::get_oplog_index() {
  auto& h = *host_;
  std::lock_guard lock(h.db_mu_);
  sql::Txn txn(*h.db_);
  OplogEntry entry;
  entry.kind = OplogKind::get_oplog_index;
  const auto idx = h.append_entry(row_, entry);
  txn.commit();
  return idx;
}

}  // namespace gp
