// The promise state machine (DESIGN §2).  States: pending, completed(payload), gone.
//
//                  pending                 completed               gone
//   complete    -> completed, true        false, payload kept     PromiseNotFound
//   await       waits                     payload                 PromiseNotFound
//   poll        none                      payload                 PromiseNotFound
//   delete      -> gone                   -> gone                 no-op
//
// A promise is stored in the oplog row of the entry that created it.  Each state change is
// atomic: one SQLite transaction on a file (or one savepoint of a group commit), and in memory
// a single statement or one savepoint of the open transaction that an in-memory host commits
// every so often (sql::Db::defer_commits).  A worker's call writes its oplog entry in the same
// change as its effect, so the entry and the effect are durable together or not at all.
#include <cstring>
#include <limits>

#include "deadline.hpp"
#include "error.hpp"
#include "host.hpp"

namespace gp {

namespace {

using State = Host::State;

// Promise states in the oplog rows of create-promise entries (NULL on other entries).
constexpr std::int64_t kRowPending = 0;
constexpr std::int64_t kRowCompleted = 1;
// kRowTombstone (2): deleted, payload kept for replay; reads as gone.

constexpr std::uint64_t kMaxIdx = kMaxIndex;

Error not_found(const PromiseId& id) { return Error(Errc::not_found, "promise " + id.to_string() + " not found"); }

int status_of(State s) { return s == State::gone ? static_cast<int>(Errc::not_found) : 0; }

}  // namespace


struct Host::Lookup {
  State state = State::gone;
  std::int64_t key = 0;
};

namespace {
Bytes allocate(std::size_t len) {
  Bytes out;
  out.data.reset(static_cast<std::uint8_t*>(std::malloc(len ? len : 1)));
  if (!out.data) throw Error(Errc::no_memory, "cannot allocate " + std::to_string(len) + " bytes for a payload");
  out.len = len;
  return out;
}
}  // namespace

Bytes copy_bytes(std::string_view bytes) {
  Bytes out = allocate(bytes.size());
  if (!bytes.empty()) std::memcpy(out.data.get(), bytes.data(), bytes.size());
  return out;
}

namespace {
// Takes a payload from a row's (length, bytes-if-small-else-NULL) columns at col, col + 1.
// Returns 0 when done, else the length still to read with blob I/O once the row is released.
std::size_t take_payload(const sql::Stmt& q, int col, Bytes& out) {
  const auto len = static_cast<std::size_t>(q.int64(col));
  if (q.is_null(col + 1)) return len;
  out = allocate(len);
  if (len) std::memcpy(out.data.get(), q.blob(col + 1), len);
  return 0;
}
}  // namespace

Host::Lookup Host::lookup(const PromiseId& id, Bytes* payload) {
  Lookup out;
  const auto row = worker_row(id.worker_id);
  if (!row || id.oplog_idx == 0 || id.oplog_idx > kMaxIdx) return out;
  out.key = promise_key(*row, id.oplog_idx);
  std::size_t big = 0;  // length of a payload too large to take from the row in one piece
  {
    auto q = db_->cached(payload
        ? "SELECT state, length(payload), CASE WHEN length(payload) <= 65536 THEN payload END "
          "FROM oplog WHERE key = ?1 AND state IS NOT NULL"
        : "SELECT state FROM oplog WHERE key = ?1 AND state IS NOT NULL");
    q->bind(1, out.key);
    if (!q->step()) return out;
    const auto state = q->int64(0);
    if (state == kRowPending) {
      out.state = State::pending;
    } else if (state == kRowCompleted) {
      out.state = State::completed;
      if (payload) big = take_payload(*q, 1, *payload);
    }
  }
  if (big) *payload = read_blob(out.key, big);
  return out;
}

Bytes Host::read_recorded_payload(std::int64_t key) {
  Bytes out;
  std::size_t big = 0;
  {
    auto q = db_->cached(
        "SELECT length(payload), CASE WHEN length(payload) <= 65536 THEN payload END "
        "FROM oplog WHERE key = ?1 AND payload IS NOT NULL");
    q->bind(1, key);
    if (!q->step()) {
      throw Error(Errc::corrupt, "the payload recorded in the oplog (promise row " + std::to_string(key) + ") is missing");
    }
    big = take_payload(*q, 0, out);
  }
  if (big) out = read_blob(key, big);
  return out;
}

Bytes Host::read_blob(std::int64_t key, std::size_t len) {
  // Straight from the database pages into the caller's buffer: no full-size intermediate copy.
  auto out = allocate(len);
  sqlite3_blob* blob = nullptr;
  int rc = sqlite3_blob_open(db_->raw(), "main", "oplog", "payload", key, 0, &blob);
  if (rc == SQLITE_OK) rc = sqlite3_blob_read(blob, out.data.get(), static_cast<int>(len), 0);
  const int close_rc = sqlite3_blob_close(blob);
  if (rc == SQLITE_OK) rc = close_rc;
  if (rc != SQLITE_OK) sql::throw_error(db_->raw(), rc, "reading a payload");
  return out;
}

namespace {
void check_payload_size(std::size_t len) {
  if (len > kMaxPayload) {
    throw Error(Errc::too_big, "payload of " + std::to_string(len) + " bytes exceeds the limit of " +
                                   std::to_string(kMaxPayload) + " bytes (GP_MAX_PAYLOAD)");
  }
}
}  // namespace

// ---------------------------------------------------------------- complete

int Host::apply_complete(const Worker* recorder, const PromiseId& id, const std::uint8_t* data, std::size_t len) {
  const auto l = lookup(id);
  if (l.state == State::pending) {
    write_payload(l.key, data, len);
    note_changed(id);
  }
  if (recorder) {
    OplogEntry entry;
    entry.kind = OplogKind::complete_promise;
    entry.promise = id;
    entry.status = status_of(l.state);
    entry.result_flag = l.state == State::pending;
    entry.has_payload = true;
    if (l.state == State::pending) entry.payload_id = l.key;
    entry.payload_len = len;
    entry.payload_hash = fnv1a64(data, len);
    append_as(*recorder, entry);
  }
  return static_cast<int>(l.state);
}

bool Host::complete_as(const Worker* recorder, const PromiseId& id, const std::uint8_t* data, std::size_t len) {
  check_payload_size(len);
  State state;
  SyncTicket ticket;
  if (!memory_) {
    // Durable completions share fsyncs with concurrent ones (group commit).
    ticket = group_commit([&] { state = static_cast<State>(apply_complete(recorder, id, data, len)); });
  } else {
    std::lock_guard lock(db_mu_);
    if (!recorder && len <= kInlinePayload) {
      // The common outside-party case in one atomic statement: it only matches a pending row,
      // so exactly one completer changes it; a miss is told apart (false vs gone) afterwards.
      const auto row = worker_row(id.worker_id);
      bool changed = false;
      if (row && id.oplog_idx != 0 && id.oplog_idx <= kMaxIdx) {
        auto q = db_->cached("UPDATE oplog SET state = 1, payload = ?2 WHERE key = ?1 AND state = 0");
        q->bind(1, promise_key(*row, id.oplog_idx)).bind_blob(2, data, len).exec();
        changed = db_->changes() == 1;
      }
      state = changed ? State::pending : lookup(id).state;
    } else {
      WriteTxn txn(*this);
      state = static_cast<State>(apply_complete(recorder, id, data, len));
      ticket = txn.commit();
    }
  }
  // After the commit: waiters see it at once.  On a FULL host they read it before it is
  // synced, and wait for the same sync as we do next (wal_sync.hpp).
  if (state == State::pending) wake_all(id);
  // Whatever the answer (true, false, or gone), it is durable before it is given.
  wait_durable(ticket);
  if (state == State::gone) throw not_found(id);
  return state == State::pending;
}

// ---------------------------------------------------------------- poll and await

// Records a poll or finished await of a completed or gone promise; pins a returned payload.
namespace {
OplogEntry observed_entry(OplogKind kind, const PromiseId& id, State state, std::int64_t key, const Bytes* payload) {
  OplogEntry entry;
  entry.kind = kind;
  entry.promise = id;
  entry.status = status_of(state);
  entry.result_flag = payload != nullptr;
  if (payload) {
    entry.has_payload = true;
    entry.payload_id = key;
    entry.payload_len = payload->len;
    entry.payload_hash = fnv1a64(payload->data.get(), payload->len);
  }
  return entry;
}
}  // namespace

// A host-level poll or await's look at a promise: it writes nothing, so a read transaction is
// enough.  A completion or deletion it finds may not be synced yet: the ticket says what to wait
// for before handing it out (db_mu_ held).
Host::State Host::read_state(const PromiseId& id, std::optional<Bytes>& out, SyncTicket& ticket) {
  sql::Txn txn(*db_, sql::Txn::read);
  Bytes payload;
  const auto state = lookup(id, &payload).state;
  txn.commit();  // the cached COMMIT; the destructor's ROLLBACK is parsed on every call
  if (state == State::completed) out = std::move(payload);
  if (state != State::pending) ticket = read_ticket(&id);
  return state;
}

// One look of a poll or an await: host-level a read, a worker's recorded (observe); then the
// wait until what it saw is durable.  Throws if the promise is gone.
Host::State Host::look(const Worker* recorder, OplogKind kind, const PromiseId& id, std::optional<Bytes>& out) {
  State state;
  SyncTicket ticket;
  {
    std::lock_guard lock(db_mu_);
    if (!recorder) {
      state = read_state(id, out, ticket);
    } else {
      // A worker awaiting on a file looks without the write lock first, so that it does not
      // queue behind other writers on every check.
      if (kind == OplogKind::await_promise && !memory_ && lookup(id).state == State::pending) return State::pending;
      state = observe(*recorder, kind, id, out, ticket);
    }
  }
  wait_durable(ticket);
  if (state == State::gone) throw not_found(id);
  return state;
}

std::optional<Bytes> Host::poll_as(const Worker* recorder, const PromiseId& id) {
  std::optional<Bytes> out;
  look(recorder, OplogKind::poll_promise, id, out);
  return out;
}

// A worker's poll, or its await once the promise is no longer pending: reads the promise and
// records what the worker saw.  On a file this is one write transaction; in memory nobody else
// can touch the database while db_mu_ is held, and the one INSERT is atomic by itself.  An
// await of a pending promise writes nothing (it keeps waiting).  Completed payloads are never
// removed (deletion leaves a tombstone), so a recorded payload stays readable for replay.
Host::State Host::observe(const Worker& recorder, OplogKind kind, const PromiseId& id, std::optional<Bytes>& out,
                          SyncTicket& ticket) {
  std::optional<WriteTxn> txn;
  if (!memory_) txn.emplace(*this);
  Bytes payload;
  const auto l = lookup(id, &payload);
  if (l.state == State::pending && kind == OplogKind::await_promise) return l.state;  // rolls back
  if (l.state == State::completed) out = std::move(payload);
  auto entry = observed_entry(kind, id, l.state, l.key, out ? &*out : nullptr);
  append_as(recorder, entry);
  // Its own commit's sync also covers the completion or deletion it read, committed earlier.
  if (txn) ticket = txn->commit();
  return l.state;
}

std::optional<Bytes> Host::try_finish_await(const Worker* recorder, const PromiseId& id) {
  std::optional<Bytes> out;
  if (look(recorder, OplogKind::await_promise, id, out) == State::pending) return std::nullopt;
  return out;
}

Bytes Host::await_as(const Worker* recorder, const PromiseId& id, Timeout timeout) {
  using clock = std::chrono::steady_clock;
  // A negative timeout waits forever, and so does one too long for the clock (deadline.hpp).
  const auto deadline = timeout.count() < 0 ? clock::time_point::max() : deadline_after(clock::now(), timeout);
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
    // In memory only this process can complete it; a file may also be changed by writers that
    // do not ring the doorbell, which the fallback re-check catches.
    auto until = deadline;
    if (!memory_ && deadline - now > fallback) until = now + fallback;
    wait_for_change(id, seen, until);
  }
}

// ---------------------------------------------------------------- delete

void Host::remove_as(const Worker* recorder, const PromiseId& id) {
  State state;
  SyncTicket ticket;
  {
    std::lock_guard lock(db_mu_);
    WriteTxn txn(*this);
    const auto l = lookup(id);
    state = l.state;
    if (state != State::gone) {
      // The row is the creating oplog entry, so it stays; a payload stays with it because
      // another oplog entry may refer to it, and replay must still be able to return it.
      auto q = db_->cached("UPDATE oplog SET state = 2 WHERE key = ?1");
      q->bind(1, l.key).exec();
      note_changed(id);
    }
    if (recorder) {
      OplogEntry entry;
      entry.kind = OplogKind::delete_promise;
      entry.promise = id;
      append_as(*recorder, entry);
    }
    if (state == State::gone && !recorder) return;  // nothing to write
    ticket = txn.commit();
  }
  if (state != State::gone) wake_all(id);  // waiters learn it is gone
  wait_durable(ticket);
}

// ---------------------------------------------------------------- the two faces

bool Host::complete(const PromiseId& id, const std::uint8_t* data, std::size_t len) {
  return complete_as(nullptr, id, data, len);
}
void Host::complete_many(std::vector<Completion>& batch) { settle_many(batch, commit_many(batch)); }

SyncTicket Host::commit_many(std::vector<Completion>& batch) {
  // One change per completion, queued together: group commit runs each in its own savepoint.
  std::vector<State> states(batch.size(), State::gone);
  std::vector<std::function<void()>> changes;
  changes.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    changes.emplace_back([this, &batch, &states, i] {
      const auto& c = batch[i];
      check_payload_size(c.len);
      states[i] = static_cast<State>(apply_complete(nullptr, c.id, c.data, c.len));
    });
  }
  std::vector<QueuedChange> queued;
  queued.reserve(changes.size());
  for (const auto& change : changes) queued.push_back(QueuedChange{&change, nullptr, false, std::nullopt});
  group_commit_each(queued.data(), queued.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (queued[i].error) {
      batch[i].error = queued[i].error;
    } else if (states[i] == State::gone) {
      batch[i].error = std::make_exception_ptr(not_found(batch[i].id));
    } else {
      batch[i].completed = states[i] == State::pending;
      if (batch[i].completed) wake_all(batch[i].id);
    }
  }
  // One ticket: the changes were queued together, so they share one commit.
  return queued.empty() ? std::nullopt : queued.front().ticket;
}

void Host::settle_many(std::vector<Completion>& batch, const SyncTicket& ticket) {
  // Every answer, whatever it is, is durable before it is given.
  try {
    wait_durable(ticket);
  } catch (...) {
    for (auto& c : batch) {
      c.error = std::current_exception();
      c.completed = false;
    }
  }
}

std::optional<Bytes> Host::poll(const PromiseId& id) { return poll_as(nullptr, id); }
Bytes Host::await(const PromiseId& id, Timeout timeout) { return await_as(nullptr, id, timeout); }
void Host::remove(const PromiseId& id) { remove_as(nullptr, id); }

// Worker calls: answered from the oplog while replaying (replay.cpp), else run live.

namespace {
// A recorded failure is replayed as the same failure.
Error recorded_error(const OplogEntry& e) {
  const auto what = e.promise ? "promise " + e.promise->to_string() : std::string("the call");
  return Error(static_cast<Errc>(e.status), what + " failed with status " + std::to_string(e.status) +
                                               " (replayed from oplog entry " + std::to_string(e.idx) + ")");
}
}  // namespace

PromiseId Worker::create_promise() {
  auto& h = *host_;
  OplogEntry entry;
  SyncTicket ticket;
  {
    std::lock_guard lock(h.db_mu_);
    if (auto e = replay({OplogKind::create_promise})) return std::move(*e->promise);
    // In memory the one INSERT (entry and pending promise in one row) is atomic by itself; a
    // file needs the transaction so that the index it reads stays the last one.
    std::optional<Host::WriteTxn> txn;
    if (!h.memory_) txn.emplace(h);
    entry.kind = OplogKind::create_promise;
    // The promise's id is the index of the entry that creates it.
    entry.idx = h.next_index(row_);
    if (entry.idx > kMaxIdx) throw Error(Errc::internal, "worker " + id_.to_string() + " has exhausted its oplog indexes");
    entry.promise = PromiseId{id_, entry.idx};
    h.append_as(*this, entry);
    if (txn) ticket = txn->commit();
  }
  h.wait_durable(ticket);
  return *entry.promise;
}

bool Worker::complete_promise(const PromiseId& id, const std::uint8_t* data, std::size_t len) {
  {
    std::lock_guard lock(host_->db_mu_);
    if (auto e = replay({OplogKind::complete_promise, &id, data, len})) {
      if (e->status != 0) throw recorded_error(*e);
      return e->result_flag;
    }
  }
  return host_->complete_as(this, id, data, len);
}

std::optional<Bytes> Worker::poll_promise(const PromiseId& id) {
  {
    std::lock_guard lock(host_->db_mu_);
    if (auto e = replay({OplogKind::poll_promise, &id})) {
      if (e->status != 0) throw recorded_error(*e);
      if (!e->result_flag) return std::nullopt;
      return recorded_payload(*e);
    }
  }
  return host_->poll_as(this, id);
}

Bytes Worker::await_promise(const PromiseId& id, Timeout timeout) {
  if (!(id.worker_id == id_)) {
    throw Error(Errc::not_owner, "worker " + id_.to_string() + " cannot await promise " + id.to_string() +
                                     ": only the worker that created a promise may await it");
  }
  {
    std::lock_guard lock(host_->db_mu_);
    if (auto e = replay({OplogKind::await_promise, &id})) {
      if (e->status != 0) throw recorded_error(*e);
      return recorded_payload(*e);
    }
  }
  return host_->await_as(this, id, timeout);
}

void Worker::delete_promise(const PromiseId& id) {
  {
    std::lock_guard lock(host_->db_mu_);
    if (replay({OplogKind::delete_promise, &id})) return;
  }
  host_->remove_as(this, id);
}

std::uint64_t Worker::get_oplog_index() {
  auto& h = *host_;
  std::uint64_t idx;
  SyncTicket ticket;
  {
    std::lock_guard lock(h.db_mu_);
    if (auto e = replay({OplogKind::get_oplog_index})) return e->idx;
    std::optional<Host::WriteTxn> txn;
    if (!h.memory_) txn.emplace(h);
    OplogEntry entry;
    entry.kind = OplogKind::get_oplog_index;
    idx = h.append_as(*this, entry);
    if (txn) ticket = txn->commit();
  }
  h.wait_durable(ticket);
  return idx;
}

namespace {
void check_recorded_call(OplogKind kind, std::string_view function) {
  if (!is_recorded_call(kind)) {
    throw Error(Errc::invalid, std::string("oplog kind ") + std::to_string(static_cast<int>(kind)) +
                                   " is not a recorded call (imported-function-invoked, exported-function-invoked "
                                   "or exported-function-completed)");
  }
  if (function.empty()) throw Error(Errc::invalid, "a recorded call needs its function's name");
  if (function.size() > 4096) throw Error(Errc::invalid, "a recorded call's function name is over 4096 bytes");
}
}  // namespace

std::optional<Worker::Recorded> Worker::replay_call(OplogKind kind, std::string_view function, const std::uint8_t* data,
                                                    std::size_t len) {
  check_recorded_call(kind, function);
  std::lock_guard lock(host_->db_mu_);
  auto e = replay({kind, nullptr, data, len, function});
  if (!e) return std::nullopt;
  return Recorded{e->idx, std::move(e->data)};
}

std::uint64_t Worker::record_call(OplogKind kind, std::string_view function, const std::uint8_t* data,
                                  std::size_t len) {
  check_recorded_call(kind, function);
  check_payload_size(len);
  auto& h = *host_;
  std::uint64_t idx;
  SyncTicket ticket;
  {
    std::lock_guard lock(h.db_mu_);
    if (replay_next_ != 0) {
      throw Error(Errc::invalid, "worker " + id_.to_string() + " is replaying its oplog (at index " +
                                     std::to_string(replay_next_) + "): a call is recorded only once it is live");
    }
    std::optional<Host::WriteTxn> txn;
    if (!h.memory_) txn.emplace(h);
    OplogEntry entry;
    entry.kind = kind;
    entry.function.assign(function);
    if (len) entry.data.assign(reinterpret_cast<const char*>(data), len);
    entry.has_payload = true;
    entry.payload_len = len;
    entry.payload_hash = fnv1a64(data, len);
    idx = h.append_as(*this, entry);
    if (txn) ticket = txn->commit();
  }
  h.wait_durable(ticket);
  return idx;
}

}  // namespace gp
