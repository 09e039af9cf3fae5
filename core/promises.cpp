// The promise state machine (DESIGN §2).  States: pending, completed(payload), gone.
//
//                  pending                 completed               gone
//   complete    -> completed, true        false, payload kept     PromiseNotFound
//   await       waits                     payload                 PromiseNotFound
//   poll        none                      payload                 PromiseNotFound
//   delete      -> gone                   -> gone                 no-op
//
// A promise is kept with the oplog entry that created it (store.hpp).  Each state change is one
// atomic write of the store: a transaction (or one change of a group commit, write_each), or on
// a private store, where no other writer exists, a single write by itself.  A worker's call
// writes its oplog entry in the same change as its effect, so the entry and the effect are
// durable together or not at all.
#include <cstring>
#include <limits>

#include "deadline.hpp"
#include "error.hpp"
#include "host.hpp"

namespace gp {

namespace {

using State = Host::State;

Error not_found(const PromiseId& id) { return Error(Errc::not_found, "promise " + id.to_string() + " not found"); }

int status_of(State s) { return s == State::gone ? static_cast<int>(Errc::not_found) : 0; }

void check_payload_size(std::size_t len) {
  if (len > kMaxPayload) {
    throw Error(Errc::too_big, "payload of " + std::to_string(len) + " bytes exceeds the limit of " +
                                   std::to_string(kMaxPayload) + " bytes (GP_MAX_PAYLOAD)");
  }
}

// A read of the store: one consistent state, ended when the caller is done.
class Read {
 public:
  explicit Read(Store& store) : store_(store) { store_.begin_read(); }
  ~Read() {
    if (!done_) store_.abort_read();
  }
  Read(const Read&) = delete;
  Read& operator=(const Read&) = delete;
  void end() {
    store_.end_read();
    done_ = true;
  }

 private:
  Store& store_;
  bool done_ = false;
};

}  // namespace

Bytes allocate_bytes(std::size_t len) {
  Bytes out;
  out.data.reset(static_cast<std::uint8_t*>(std::malloc(len ? len : 1)));
  if (!out.data) throw Error(Errc::no_memory, "cannot allocate " + std::to_string(len) + " bytes for a payload");
  out.len = len;
  return out;
}

Bytes copy_bytes(std::string_view bytes) {
  Bytes out = allocate_bytes(bytes.size());
  if (!bytes.empty()) std::memcpy(out.data.get(), bytes.data(), bytes.size());
  return out;
}

// ---------------------------------------------------------------- complete

int Host::apply_complete(const Worker* recorder, const PromiseId& id, const std::uint8_t* data, std::size_t len) {
  const auto l = store_->lookup(id);
  if (l.state == State::pending) {
    store_->set_completed(l.key, data, len);
    store_->note_changed(id);
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
  auto& store = *store_;
  State state = State::gone;
  SyncTicket ticket;
  if (!store.is_private()) {
    // Durable completions share commits and syncs with concurrent ones (group commit).
    const std::function<void()> change = [&] { state = static_cast<State>(apply_complete(recorder, id, data, len)); };
    QueuedChange me{&change, nullptr, false, std::nullopt};
    store.write_each(&me, 1);
    if (me.error) std::rethrow_exception(me.error);
    ticket = me.ticket;
  } else {
    std::lock_guard lock(store.mutex());
    if (!recorder) {
      // The common outside-party case as one atomic change that only a pending promise takes,
      // so exactly one completer wins; a miss is told apart (false vs gone) afterwards.
      state = store.complete_if_pending(id, data, len) ? State::pending : store.lookup(id).state;
    } else {
      Write write(store);
      state = static_cast<State>(apply_complete(recorder, id, data, len));
      ticket = write.commit();
    }
  }
  // After the commit: waiters see it at once.  On a FULL host they read it before it is
  // synced, and wait for the same sync as we do next (wal_sync.hpp).
  if (state == State::pending) store.wake_all(id);
  // Whatever the answer (true, false, or gone), it is durable before it is given.
  store.wait_durable(ticket);
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
// for before handing it out (the store's mutex held).
Host::State Host::read_state(const PromiseId& id, std::optional<Bytes>& out, SyncTicket& ticket) {
  Read read(*store_);
  Bytes payload;
  const auto state = store_->lookup(id, &payload).state;
  read.end();
  if (state == State::completed) out = std::move(payload);
  if (state != State::pending) ticket = store_->read_ticket(&id);
  return state;
}

// One look of a poll or an await: host-level a read, a worker's recorded (observe); then the
// wait until what it saw is durable.  Throws if the promise is gone.
Host::State Host::look(const Worker* recorder, OplogKind kind, const PromiseId& id, std::optional<Bytes>& out) {
  State state;
  SyncTicket ticket;
  {
    std::lock_guard lock(store_->mutex());
    if (!recorder) {
      state = read_state(id, out, ticket);
    } else {
      // A worker awaiting on a shared store looks without a write first, so that it does not
      // queue behind other writers on every check.
      if (kind == OplogKind::await_promise && !store_->is_private() && store_->lookup(id).state == State::pending) {
        return State::pending;
      }
      state = observe(*recorder, kind, id, out, ticket);
    }
  }
  store_->wait_durable(ticket);
  if (state == State::gone) throw not_found(id);
  return state;
}

std::optional<std::size_t> Host::read_payload(const PromiseId& id, std::uint8_t* dst, std::size_t cap) {
  auto& store = *store_;
  State state;
  std::size_t len = 0;
  SyncTicket ticket;
  {
    std::lock_guard lock(store.mutex());
    Read read(store);
    const auto l = store.lookup(id);
    state = l.state;
    if (state == State::completed) {
      len = store.payload_length(l.key);
      if (dst && len <= cap) store.read_payload(l.key, 0, dst, len);
    }
    read.end();
    if (state != State::pending) ticket = store.read_ticket(&id);
  }
  store.wait_durable(ticket);  // what it saw is durable before it is handed out
  if (state == State::gone) throw not_found(id);
  if (state == State::pending) return std::nullopt;
  return len;
}

std::optional<Bytes> Host::poll_as(const Worker* recorder, const PromiseId& id) {
  std::optional<Bytes> out;
  look(recorder, OplogKind::poll_promise, id, out);
  return out;
}

// A worker's poll, or its await once the promise is no longer pending: reads the promise and
// records what the worker saw.  On a shared store this is one write; on a private one nobody
// else can touch it while its mutex is held, and the one append is atomic by itself.  An
// await of a pending promise writes nothing (it keeps waiting).  Completed payloads are never
// removed (deletion leaves a tombstone), so a recorded payload stays readable for replay.
Host::State Host::observe(const Worker& recorder, OplogKind kind, const PromiseId& id, std::optional<Bytes>& out,
                          SyncTicket& ticket) {
  std::optional<Write> txn;
  if (!store_->is_private()) txn.emplace(*store_);
  Bytes payload;
  const auto l = store_->lookup(id, &payload);
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
  auto& store = *store_;
  const auto fallback = store.recheck_interval();
  for (;;) {
    // Read the generation before checking, so a completion between check and wait is not lost.
    const auto seen = store.wake_generation(id);
    if (auto done = try_finish_await(recorder, id)) return std::move(*done);
    const auto now = clock::now();
    if (now >= deadline) {
      throw Error(Errc::timeout, "timed out awaiting promise " + id.to_string() + " after " +
                                     std::to_string(timeout.count()) + " ms");
    }
    // A private store is changed only by this process; a shared one may also be changed by
    // writers whose wake-up does not reach us, which the periodic re-check catches.
    auto until = deadline;
    if (!store.is_private() && deadline - now > fallback) until = now + fallback;
    store.wait_for_change(id, seen, until);
  }
}

// ---------------------------------------------------------------- delete

void Host::remove_as(const Worker* recorder, const PromiseId& id) {
  auto& store = *store_;
  State state;
  SyncTicket ticket;
  {
    std::lock_guard lock(store.mutex());
    Write write(store);
    const auto l = store.lookup(id);
    state = l.state;
    if (state != State::gone) {
      store.set_deleted(l.key);
      store.note_changed(id);
    }
    if (recorder) {
      OplogEntry entry;
      entry.kind = OplogKind::delete_promise;
      entry.promise = id;
      append_as(*recorder, entry);
    }
    if (state == State::gone && !recorder) return;  // nothing to write
    ticket = write.commit();
  }
  if (state != State::gone) store.wake_all(id);  // waiters learn it is gone
  store.wait_durable(ticket);
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
  store_->write_each(queued.data(), queued.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (queued[i].error) {
      batch[i].error = queued[i].error;
    } else if (states[i] == State::gone) {
      batch[i].error = std::make_exception_ptr(not_found(batch[i].id));
    } else {
      batch[i].completed = states[i] == State::pending;
      if (batch[i].completed) store_->wake_all(batch[i].id);
    }
  }
  // One ticket: the changes were queued together, so they share one commit.
  return queued.empty() ? std::nullopt : queued.front().ticket;
}

void Host::settle_many(std::vector<Completion>& batch, const SyncTicket& ticket) {
  // Every answer, whatever it is, is durable before it is given.
  try {
    store_->wait_durable(ticket);
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
    std::lock_guard lock(h.store_->mutex());
    if (auto e = replay({OplogKind::create_promise})) return std::move(*e->promise);
    // On a private store the one append (entry and pending promise) is atomic by itself; a
    // shared one needs the write so that the index it reads stays the last one.
    std::optional<Host::Write> txn;
    if (!h.store_->is_private()) txn.emplace(*h.store_);
    entry.kind = OplogKind::create_promise;
    // The promise's id is the index of the entry that creates it.
    entry.idx = h.store_->next_index(row_);
    if (entry.idx > kMaxIndex) throw Error(Errc::internal, "worker " + id_.to_string() + " has exhausted its oplog indexes");
    entry.promise = PromiseId{id_, entry.idx};
    h.append_as(*this, entry);
    if (txn) ticket = txn->commit();
  }
  h.store_->wait_durable(ticket);
  return *entry.promise;
}

bool Worker::complete_promise(const PromiseId& id, const std::uint8_t* data, std::size_t len) {
  {
    std::lock_guard lock(host_->store_->mutex());
    if (auto e = replay({OplogKind::complete_promise, &id, data, len})) {
      if (e->status != 0) throw recorded_error(*e);
      return e->result_flag;
    }
  }
  return host_->complete_as(this, id, data, len);
}

std::optional<Bytes> Worker::poll_promise(const PromiseId& id) {
  {
    std::lock_guard lock(host_->store_->mutex());
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
    std::lock_guard lock(host_->store_->mutex());
    if (auto e = replay({OplogKind::await_promise, &id})) {
      if (e->status != 0) throw recorded_error(*e);
      return recorded_payload(*e);
    }
  }
  return host_->await_as(this, id, timeout);
}

void Worker::delete_promise(const PromiseId& id) {
  {
    std::lock_guard lock(host_->store_->mutex());
    if (replay({OplogKind::delete_promise, &id})) return;
  }
  host_->remove_as(this, id);
}

std::uint64_t Worker::get_oplog_index() {
  auto& h = *host_;
  std::uint64_t idx;
  SyncTicket ticket;
  {
    std::lock_guard lock(h.store_->mutex());
    if (auto e = replay({OplogKind::get_oplog_index})) return e->idx;
    std::optional<Host::Write> txn;
    if (!h.store_->is_private()) txn.emplace(*h.store_);
    OplogEntry entry;
    entry.kind = OplogKind::get_oplog_index;
    idx = h.append_as(*this, entry);
    if (txn) ticket = txn->commit();
  }
  h.store_->wait_durable(ticket);
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
  std::lock_guard lock(host_->store_->mutex());
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
    std::lock_guard lock(h.store_->mutex());
    if (replay_next_ != 0) {
      throw Error(Errc::invalid, "worker " + id_.to_string() + " is replaying its oplog (at index " +
                                     std::to_string(replay_next_) + "): a call is recorded only once it is live");
    }
    std::optional<Host::Write> txn;
    if (!h.store_->is_private()) txn.emplace(*h.store_);
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
  h.store_->wait_durable(ticket);
  return idx;
}

}  // namespace gp
