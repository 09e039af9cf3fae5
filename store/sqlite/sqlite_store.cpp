// The SQLite store (sqlite_store.hpp): the core's storage calls as SQL, blob I/O, group commit,
// durability tickets and wake-ups.  Callers hold mu_ where core/store.hpp says so.
#include "sqlite_store.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "core/error.hpp"
#include "schema.hpp"

namespace gp {

namespace {

// Promise states in the oplog rows of create-promise entries (NULL on other entries).
constexpr std::int64_t kRowPending = 0;
constexpr std::int64_t kRowCompleted = 1;
// 2: a tombstone (deleted, payload kept for replay), which reads as gone.

// A file cut short (a failed copy, a full disk) still has an intact header that promises more
// pages than the file holds; refuse it up front instead of failing on some later read.  Pages
// may legitimately live only in the WAL, so a non-empty WAL file makes the check moot.  file
// is the database as SQLite resolved it (its WAL is file + "-wal"); path names it to the user.
void check_not_truncated(sql::Db& db, const std::string& file, const std::string& path) {
  struct stat st {};
  struct stat wal {};
  if (::stat(file.c_str(), &st) != 0) return;
  if (::stat((file + "-wal").c_str(), &wal) == 0 && wal.st_size > 0) return;
  const auto expected = db.pragma_int("PRAGMA page_count") * db.pragma_int("PRAGMA page_size");
  if (static_cast<std::int64_t>(st.st_size) < expected) {
    throw Error(Errc::corrupt, "database file '" + path + "' is truncated: " + std::to_string(st.st_size) +
                                   " bytes, but its header describes " + std::to_string(expected));
  }
}

// Switching to WAL takes an exclusive lock that SQLite's busy handler does not wait for, so
// retry here until the busy timeout; a file already in WAL mode (the usual case) needs nothing.
void switch_to_wal(sql::Db& db, int busy_timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
  for (auto pause = std::chrono::microseconds(200);; pause = std::min(pause * 2, std::chrono::microseconds(20000))) {
    try {
      std::string mode;
      {
        sql::Stmt q(db.raw(), "PRAGMA journal_mode");  // finalized before the switch below
        if (q.step()) mode = q.text(0);
      }
      if (mode == "wal") return;
      db.exec("PRAGMA journal_mode = WAL");
      return;
    } catch (const Error& e) {
      if (e.code() != Errc::busy || std::chrono::steady_clock::now() >= deadline) throw;
    }
    std::this_thread::sleep_for(pause);
  }
}

}  // namespace

std::unique_ptr<SqliteStore> SqliteStore::open(const std::string& path, const SqliteOptions& options) {
  if (path.empty()) throw Error(Errc::invalid, "host path is empty (use \":memory:\" for a private in-memory host)");
  if (options.synchronous != 1 && options.synchronous != 2) {
    throw Error(Errc::invalid, "synchronous must be GP_SYNCHRONOUS_FULL (2) or GP_SYNCHRONOUS_NORMAL (1)");
  }
  if (options.busy_timeout_ms < 0) {
    throw Error(Errc::invalid, "busy_timeout_ms must be >= 0, got " + std::to_string(options.busy_timeout_ms));
  }
  if (options.fallback_poll_us <= 0) {
    throw Error(Errc::invalid, "fallback_poll_us must be > 0, got " + std::to_string(options.fallback_poll_us));
  }
  const bool memory = path == ":memory:";
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, memory, options));
  store->db_ = std::make_unique<sql::Db>(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                                  SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE);
  auto& db = *store->db_;
  sqlite3_busy_timeout(db.raw(), options.busy_timeout_ms);
  if (!memory && sqlite3_db_readonly(db.raw(), "main") == 1) {
    throw Error(Errc::io, "cannot open database '" + path + "' for writing (read-only file or directory)");
  }
  // Measured per promise cycle with commits deferred (callgrind): 2,048-byte pages cost the
  // fewest instructions, 1,024 (best when every change committed and journaled its pages) 2% more.
  if (memory) db.exec("PRAGMA page_size = 2048");
  prepare_schema(db);  // refuses foreign or newer files before anything is written to them
  if (memory) db.defer_commits(kMemoryCommitEvery, kMemoryCommitBytes);
  if (!memory) {
    // The files beside the database are named after the file SQLite opened, not the path we
    // were given: every open of one database (through a symlink, a relative path, ...) then
    // shares the one doorbell, as it shares the one -wal and -shm.
    std::string file = db.file_name();
    if (file.empty()) file = path;
    check_not_truncated(db, file, path);
    switch_to_wal(db, options.busy_timeout_ms);  // readers never block the writer; many processes share it
    store->bell_ = Doorbell::open(file);
    // Commits are numbered in the doorbell file by every host that has one, so that readers
    // of a FULL host know what to wait for.  A FULL host then commits at NORMAL and waits for
    // a WAL sync shared by all processes (wal_sync.hpp); without the doorbell or the WAL's
    // descriptor it keeps SQLite's FULL, an fsync inside every COMMIT.
    db.pragma_int("PRAGMA user_version");  // a read in WAL mode: the connection has the WAL open
    const char* resolved = sqlite3_db_filename(db.raw(), "main");  // sqlite3_filename_wal needs this very pointer
    const char* wal = resolved ? sqlite3_filename_wal(resolved) : nullptr;
    if (store->bell_ && wal && *wal) store->wal_sync_ = WalSync::open(store->bell_.get(), wal, options.synchronous == 2);
    store->barrier_ = options.synchronous == 2 && store->wal_sync_ && store->wal_sync_->can_sync();
    db.exec(options.synchronous == 2 && !store->barrier_ ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
    // A writer waits for the write lock on the doorbell, so its wait ends as soon as another
    // process's transaction does (busy_wait.hpp).
    store->busy_ = std::make_unique<BusyWait>(store->bell_.get(), std::chrono::milliseconds(options.busy_timeout_ms),
                                             std::chrono::milliseconds(4));
    store->busy_->install(db.raw());
    // Checkpoints run in the background instead of inside a commit (checkpointer.hpp).  The
    // pragma only states it; the WAL hook installed next is what replaces SQLite's own.
    db.exec("PRAGMA wal_autocheckpoint = 0");
    store->checkpointer_ = std::make_unique<Checkpointer>(file, options.synchronous, options.busy_timeout_ms,
                                                         store->bell_.get(), store->mu_);
    store->checkpointer_->attach(db.raw());
  }
  return store;
}


SqliteStore::SqliteStore(std::string path, bool memory, const SqliteOptions& options)
    : path_(std::move(path)), memory_(memory), options_(options) {}

SqliteStore::~SqliteStore() {
  write_.reset();
  read_.reset();
  checkpointer_.reset();
  db_.reset();
}

// ---------------------------------------------------------------- workers and oplog

std::optional<WorkerRef> SqliteStore::find_worker(const WorkerId& id) {
  if (auto it = worker_rows_.find(id); it != worker_rows_.end()) return it->second;
  auto q = db_->cached("SELECT id FROM workers WHERE component_id = ?1 AND worker_name = ?2");
  q->bind(1, id.component_id.to_string()).bind(2, id.worker_name);
  if (!q->step()) return std::nullopt;
  const auto row = q->int64(0);
  worker_rows_.emplace(id, row);
  return row;
}

bool SqliteStore::add_worker(const WorkerId& id) {
  {
    auto ins = db_->cached(
        "INSERT INTO workers (component_id, worker_name, created_us) VALUES (?1, ?2, ?3) "
        "ON CONFLICT DO NOTHING");
    ins->bind(1, id.component_id.to_string()).bind(2, id.worker_name).bind(3, now_us()).exec();
  }
  const bool created = db_->changes() == 1;
  const auto row = find_worker(id);
  if (!row) throw Error(Errc::internal, "worker row vanished after insert");
  // oplog.key packs the worker row above 40 bits of oplog index into a signed 64-bit key.
  if (*row >= (std::int64_t{1} << 23)) throw Error(Errc::invalid, "a host holds at most 8388607 workers");
  return created;
}

std::uint64_t SqliteStore::next_index(WorkerRef worker) {
  if (memory_) {
    if (auto it = next_idx_.find(worker); it != next_idx_.end()) return it->second;
  }
  return last_index(worker) + 1;
}

void SqliteStore::append(WorkerRef worker, OplogEntry& entry) {
  entry.timestamp_us = now_us();
  encode_entry(entry, entry_fbb_);
  auto ins = db_->cached("INSERT INTO oplog (key, kind, entry, state) VALUES (?1, ?2, ?3, ?4)");
  ins->bind(1, promise_key(worker, entry.idx))
      .bind(2, static_cast<std::int64_t>(entry.kind))
      .bind_blob(3, entry_fbb_.GetBufferPointer(), entry_fbb_.GetSize());
  // A create-promise entry's row is also the new promise, pending.
  if (entry.kind == OplogKind::create_promise) {
    ins->bind(4, kRowPending);
  } else {
    ins->bind_null(4);
  }
  ins->exec();
  // Valid once the transaction commits; rollback_write drops the cache if it rolls back instead.
  if (memory_) next_idx_[worker] = entry.idx + 1;
}

std::uint64_t SqliteStore::last_index(WorkerRef worker) {
  // The worker's keys are the range [row << 40, (row << 40) | max index].
  auto q = db_->cached("SELECT coalesce(max(key) - ?1, 0) FROM oplog WHERE key BETWEEN ?1 AND ?2");
  q->bind(1, promise_key(worker, 0)).bind(2, promise_key(worker, kMaxIndex)).step();
  return static_cast<std::uint64_t>(q->int64(0));
}

OplogEntry SqliteStore::read_entry(WorkerRef worker, std::uint64_t idx) {
  auto q = db_->cached("SELECT kind, entry FROM oplog WHERE key = ?1");
  q->bind(1, promise_key(worker, idx));
  if (idx == 0 || idx > kMaxIndex || !q->step()) {
    throw Error(Errc::no_entry, "no oplog entry " + std::to_string(idx));
  }
  return decode_entry(q->blob(1), q->bytes(1), static_cast<int>(q->int64(0)), idx);
}

void SqliteStore::read_entries(WorkerRef worker, std::uint64_t from, std::uint64_t to, std::size_t small_payload,
                               std::deque<OplogEntry>& out,
                               std::vector<std::pair<std::uint64_t, std::string>>& payloads) {
  // One statement for the batch.  Payloads live on the rows of create-promise entries (the
  // promise each one created; kept after deletion).
  auto q = db_->cached(
      "SELECT key, kind, entry, CASE WHEN length(payload) <= ?3 THEN payload END "
      "FROM oplog WHERE key BETWEEN ?1 AND ?2 ORDER BY key");
  q->bind(1, promise_key(worker, from)).bind(2, promise_key(worker, to)).bind(3, static_cast<std::int64_t>(small_payload));
  while (q->step()) {
    const auto idx = static_cast<std::uint64_t>(q->int64(0)) & kMaxIndex;
    out.push_back(decode_entry(q->blob(2), q->bytes(2), static_cast<int>(q->int64(1)), idx));
    if (!q->is_null(3)) {
      const auto* data = static_cast<const char*>(q->blob(3));
      payloads.emplace_back(idx, std::string(data ? data : "", q->bytes(3)));
    }
  }
}

std::vector<StoredPromise> SqliteStore::list_promises(std::optional<WorkerRef> worker, int state_filter) {
  std::vector<StoredPromise> out;
  std::int64_t lo = 0;
  std::int64_t hi = INT64_MAX;
  if (worker) {
    lo = promise_key(*worker, 0);
    hi = promise_key(*worker, kMaxIndex);
  }
  // ?3/?4: the row states wanted (equal when filtering on one state); tombstones are never listed.
  const std::int64_t s_lo = state_filter == 2 ? kRowCompleted : kRowPending;
  const std::int64_t s_hi = state_filter == 1 ? kRowPending : kRowCompleted;
  // oplog.key >> 40 is the worker's row, so the listing comes out ordered by worker, then index.
  auto q = db_->cached(
      "SELECT w.component_id, w.worker_name, p.key, p.state, coalesce(length(p.payload), 0) "
      "FROM oplog AS p JOIN workers AS w ON w.id = (p.key >> 40) "
      "WHERE p.key BETWEEN ?1 AND ?2 AND p.state BETWEEN ?3 AND ?4 ORDER BY p.key");
  q->bind(1, lo).bind(2, hi).bind(3, s_lo).bind(4, s_hi);
  while (q->step()) {
    StoredPromise info;
    info.id.worker_id.component_id = Uuid::parse(q->text(0));
    info.id.worker_id.worker_name = q->text(1);
    info.id.oplog_idx = static_cast<std::uint64_t>(q->int64(2)) & kMaxIndex;
    info.completed = q->int64(3) == kRowCompleted;
    info.payload_len = info.completed ? static_cast<std::uint64_t>(q->int64(4)) : 0;
    out.push_back(std::move(info));
  }
  return out;
}

// ---------------------------------------------------------------- promises and payloads

namespace {
// Takes a payload from a row's (length, bytes-if-small-else-NULL) columns at col, col + 1.
// Returns 0 when done, else the length still to read with blob I/O once the row is released.
std::size_t take_payload(const sql::Stmt& q, int col, Bytes& out) {
  const auto len = static_cast<std::size_t>(q.int64(col));
  if (q.is_null(col + 1)) return len;
  out = allocate_bytes(len);
  if (len) std::memcpy(out.data.get(), q.blob(col + 1), len);
  return 0;
}
}  // namespace

PromiseRow SqliteStore::lookup(const PromiseId& id, Bytes* payload) {
  PromiseRow out;
  const auto row = find_worker(id.worker_id);
  if (!row || id.oplog_idx == 0 || id.oplog_idx > kMaxIndex) return out;
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
      out.state = PromiseState::pending;
    } else if (state == kRowCompleted) {
      out.state = PromiseState::completed;
      if (payload) big = take_payload(*q, 1, *payload);
    }
  }
  if (big) *payload = read_blob(out.key, big);
  return out;
}

bool SqliteStore::complete_if_pending(const PromiseId& id, const std::uint8_t* data, std::size_t len) {
  const auto row = find_worker(id.worker_id);
  if (!row || id.oplog_idx == 0 || id.oplog_idx > kMaxIndex) return false;
  if (len <= kInlinePayload) {
    // One atomic statement: it only matches a pending row, so exactly one completer changes it.
    auto q = db_->cached("UPDATE oplog SET state = 1, payload = ?2 WHERE key = ?1 AND state = 0");
    q->bind(1, promise_key(*row, id.oplog_idx)).bind_blob(2, data, len).exec();
    return db_->changes() == 1;
  }
  begin_write();  // blob I/O takes two steps: one transaction keeps them one change
  try {
    const auto l = lookup(id, nullptr);
    if (l.state == PromiseState::pending) set_completed(l.key, data, len);
    (void)commit_write();  // private: nothing to wait for
    return l.state == PromiseState::pending;
  } catch (...) {
    rollback_write();
    throw;
  }
}

Bytes SqliteStore::read_recorded_payload(std::int64_t key) {
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

std::size_t SqliteStore::payload_length(std::int64_t key) {
  auto q = db_->cached("SELECT length(payload) FROM oplog WHERE key = ?1 AND payload IS NOT NULL");
  q->bind(1, key);
  if (!q->step()) {
    throw Error(Errc::corrupt, "the payload of promise row " + std::to_string(key) + " is missing");
  }
  return static_cast<std::size_t>(q->int64(0));
}

void SqliteStore::read_payload(std::int64_t key, std::size_t offset, std::uint8_t* dst, std::size_t n) {
  if (n == 0) return;
  // Incremental blob I/O straight into the caller's memory, in pieces an int can count.
  sqlite3_blob* blob = nullptr;
  int rc = sqlite3_blob_open(db_->raw(), "main", "oplog", "payload", key, 0, &blob);
  constexpr std::size_t kChunk = 8 * 1024 * 1024;
  for (std::size_t done = 0; done < n && rc == SQLITE_OK; done += kChunk) {
    const auto piece = std::min(kChunk, n - done);
    rc = sqlite3_blob_read(blob, dst + done, static_cast<int>(piece), static_cast<int>(offset + done));
  }
  const int close_rc = sqlite3_blob_close(blob);
  if (rc == SQLITE_OK) rc = close_rc;
  if (rc != SQLITE_OK) sql::throw_error(db_->raw(), rc, "reading a payload");
}

Bytes SqliteStore::read_blob(std::int64_t key, std::size_t len) {
  // Straight from the database pages into the buffer returned: no full-size intermediate copy.
  auto out = allocate_bytes(len);
  read_payload(key, 0, out.data.get(), len);
  return out;
}

void SqliteStore::set_completed(std::int64_t key, const std::uint8_t* data, std::size_t len) {
  if (len <= kInlinePayload) {
    auto q = db_->cached("UPDATE oplog SET state = 1, payload = ?2 WHERE key = ?1");
    q->bind(1, key).bind_blob(2, data, len).exec();
    return;
  }
  {
    auto q = db_->cached("UPDATE oplog SET state = 1, payload = zeroblob(?2) WHERE key = ?1");
    q->bind(1, key).bind(2, static_cast<std::int64_t>(len)).exec();
  }
  db_->mark_unrecorded();  // the bytes go in by blob I/O, which an in-memory redo log cannot replay
  sqlite3_blob* blob = nullptr;
  int rc = sqlite3_blob_open(db_->raw(), "main", "oplog", "payload", key, 1, &blob);
  constexpr std::size_t kChunk = 8 * 1024 * 1024;
  for (std::size_t off = 0; off < len && rc == SQLITE_OK; off += kChunk) {
    const auto n = std::min(kChunk, len - off);
    rc = sqlite3_blob_write(blob, data + off, static_cast<int>(n), static_cast<int>(off));
  }
  const int close_rc = sqlite3_blob_close(blob);
  if (rc == SQLITE_OK) rc = close_rc;
  if (rc != SQLITE_OK) sql::throw_error(db_->raw(), rc, "writing a payload");
}

void SqliteStore::set_deleted(std::int64_t key) {
  // The row is the creating oplog entry, so it stays; a payload stays with it because another
  // oplog entry may refer to it, and replay must still be able to return it.
  auto q = db_->cached("UPDATE oplog SET state = 2 WHERE key = ?1");
  q->bind(1, key).exec();
}

// ---------------------------------------------------------------- transactions

void SqliteStore::begin_write() {
  try {
    write_.emplace(*db_);
  } catch (...) {
    end_write();
    throw;
  }
}

SyncTicket SqliteStore::commit_write() {
  auto* sync = wal_sync_.get();
  std::optional<std::uint32_t> number;
  if (sync) {
    // SQLite's write lock is held (BEGIN IMMEDIATE): numbers follow commit order.
    number = sync->begin_commit();
    for (auto slot : changed_slots_) sync->mark(slot, *number);
  }
  changed_slots_.clear();
  try {
    write_->commit();
  } catch (...) {
    if (sync) sync->end_commit(*number);
    throw;  // the caller rolls back
  }
  if (sync) sync->end_commit(*number);
  write_.reset();
  end_write();
  return barrier_ ? number : std::nullopt;
}

void SqliteStore::rollback_write() noexcept {
  write_.reset();  // ROLLBACK (or ROLLBACK TO the savepoint, in memory)
  // The cached oplog indexes may count rows that are gone now: a failed call leaves no gap.
  next_idx_.clear();
  changed_slots_.clear();
  end_write();
}

void SqliteStore::end_write() noexcept {
  // Writers of other processes waiting for the write lock (BusyWait) try again at once.
  if (bell_) bell_->ring_lock_released();
}

void SqliteStore::begin_read() { read_.emplace(*db_, sql::Txn::read); }

void SqliteStore::end_read() {
  read_->commit();  // the cached COMMIT; the destructor's ROLLBACK is parsed on every call
  read_.reset();
}

void SqliteStore::abort_read() noexcept { read_.reset(); }

// ---------------------------------------------------------------- group commit

void SqliteStore::write_each(QueuedChange* changes, std::size_t n) {
  if (n == 0) return;
  std::unique_lock lock(batch_mu_);
  for (std::size_t i = 0; i < n; ++i) batch_.push_back(&changes[i]);
  // Queued together under batch_mu_, they are taken by one leader together and done together.
  while (!changes[n - 1].done) {
    if (batch_leader_) {
      batch_cv_.wait(lock);
      continue;
    }
    // Lead: commit everything queued by the time we hold the write lock (ours included).
    batch_leader_ = true;
    lock.unlock();
    const auto ticket = run_batch();
    lock.lock();
    for (auto* c : running_) {
      c->ticket = ticket;
      c->done = true;
    }
    running_.clear();
    batch_leader_ = false;
    batch_cv_.notify_all();
  }
}

SyncTicket SqliteStore::run_batch() {
  auto& batch = running_;
  std::lock_guard lock(mu_);
  auto take_queue = [&] {
    std::lock_guard queue(batch_mu_);
    batch.swap(batch_);
  };
  try {
    try {
      begin_write();
    } catch (...) {
      take_queue();  // the changes queued so far fail with it
      throw;
    }
    take_queue();
    try {
      if (batch.size() == 1) {
        (*batch[0]->change)();
      } else {
        for (auto* c : batch) {
          db_->cached("SAVEPOINT gp_change")->exec();
          try {
            (*c->change)();
            db_->cached("RELEASE gp_change")->exec();
          } catch (...) {
            c->error = std::current_exception();
            db_->cached("ROLLBACK TO gp_change")->exec();
            db_->cached("RELEASE gp_change")->exec();
          }
        }
      }
      return commit_write();
    } catch (...) {
      rollback_write();
      throw;
    }
  } catch (...) {
    // Nothing of this batch was committed: every change in it fails.
    for (auto* c : batch) {
      if (!c->error) c->error = std::current_exception();
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- durability (FULL file hosts)

void SqliteStore::wait_durable(const SyncTicket& ticket) {
  if (ticket) wal_sync_->wait(*ticket);
}

SyncTicket SqliteStore::read_ticket(const PromiseId* id) {
  if (!barrier_) return std::nullopt;
  return id ? wal_sync_->slot_ticket(Doorbell::slot_of(*id)) : wal_sync_->ticket();
}

void SqliteStore::note_changed(const PromiseId& id) {
  if (wal_sync_) changed_slots_.push_back(Doorbell::slot_of(id));
}

// ---------------------------------------------------------------- wake-ups
// A file host rings its doorbell, which reaches waiters in every process; an in-memory host
// (or a file host whose doorbell could not be set up) uses the condition variable, and waiters
// on a file also re-check every fallback_poll_us (recheck_interval).

std::uint64_t SqliteStore::wake_generation(const PromiseId& id) {
  if (bell_) return bell_->read(Doorbell::slot_of(id));
  std::lock_guard lock(wake_mu_);
  return wake_gen_;
}

int SqliteStore::change_fd() {
  std::lock_guard lock(feed_mu_);
  if (!feed_) {
    feed_ = std::make_unique<ChangeFeed>(!memory_, bell_.get(), std::chrono::microseconds(options_.fallback_poll_us));
    feed_ptr_.store(feed_.get(), std::memory_order_release);
  }
  return feed_->fd();
}

void SqliteStore::change_ack() {
  if (auto* feed = feed_ptr_.load(std::memory_order_acquire)) feed->ack();
}

std::uint64_t SqliteStore::change_counter() {
  std::lock_guard lock(mu_);
  // data_version moves when another connection commits; local_changes_ counts our own.
  auto q = db_->cached("PRAGMA data_version");
  q->step();
  return (static_cast<std::uint64_t>(q->int64(0)) << 32) + local_changes_.load();
}

void SqliteStore::wake_all(const PromiseId& id) {
  local_changes_.fetch_add(1);
  if (auto* feed = feed_ptr_.load(std::memory_order_acquire)) feed->notify();
  if (bell_) {
    bell_->ring(Doorbell::slot_of(id));
    return;
  }
  {
    std::lock_guard lock(wake_mu_);
    ++wake_gen_;
  }
  wake_cv_.notify_all();
}

void SqliteStore::wait_for_change(const PromiseId& id, std::uint64_t seen, std::chrono::steady_clock::time_point until) {
  if (bell_) {
    bell_->wait(Doorbell::slot_of(id), static_cast<std::uint32_t>(seen), until);
    return;
  }
  std::unique_lock lock(wake_mu_);
  wake_cv_.wait_until(lock, until, [&] { return wake_gen_ != seen; });
}

}  // namespace gp
