// Host plumbing: opening the database, workers, oplog storage, payload I/O and wake-ups.
#include "host.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <cstring>

#include "error.hpp"
#include "schema.hpp"

namespace gp {

namespace {

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

Host::Host(std::string path, bool memory, const HostOptions& options)
    : path_(std::move(path)), memory_(memory), options_(options) {}

Host::~Host() {
  checkpointer_.reset();
  db_.reset();
}

std::shared_ptr<Host> Host::open(const std::string& path, const HostOptions& options) {
  if (path.empty()) throw Error(Errc::invalid, "host path is empty (use \":memory:\" for a private in-memory host)");
  if (options.synchronous != 1 && options.synchronous != 2) {
    throw Error(Errc::invalid, "synchronous must be GP_SYNCHRONOUS_FULL (2) or GP_SYNCHRONOUS_NORMAL (1)");
  }
  if (options.busy_timeout_ms < 0 || options.fallback_poll_us <= 0) {
    throw Error(Errc::invalid, "busy_timeout_ms must be >= 0 and fallback_poll_us > 0");
  }
  const bool memory = path == ":memory:";
  std::shared_ptr<Host> host(new Host(path, memory, options));
  host->db_ = std::make_unique<sql::Db>(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                                  SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE);
  auto& db = *host->db_;
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
    host->bell_ = Doorbell::open(file);
    // Commits are numbered in the doorbell file by every host that has one, so that readers
    // of a FULL host know what to wait for.  A FULL host then commits at NORMAL and waits for
    // a WAL sync shared by all processes (wal_sync.hpp); without the doorbell or the WAL's
    // descriptor it keeps SQLite's FULL, an fsync inside every COMMIT.
    db.pragma_int("PRAGMA user_version");  // a read in WAL mode: the connection has the WAL open
    const char* resolved = sqlite3_db_filename(db.raw(), "main");  // sqlite3_filename_wal needs this very pointer
    const char* wal = resolved ? sqlite3_filename_wal(resolved) : nullptr;
    if (host->bell_ && wal && *wal) host->wal_sync_ = WalSync::open(host->bell_.get(), wal, options.synchronous == 2);
    host->barrier_ = options.synchronous == 2 && host->wal_sync_ && host->wal_sync_->can_sync();
    db.exec(options.synchronous == 2 && !host->barrier_ ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
    // A writer waits for the write lock on the doorbell, so its wait ends as soon as another
    // process's transaction does (busy_wait.hpp).
    host->busy_ = std::make_unique<BusyWait>(host->bell_.get(), std::chrono::milliseconds(options.busy_timeout_ms),
                                             std::chrono::milliseconds(4));
    host->busy_->install(db.raw());
    // Checkpoints run in the background instead of inside a commit (checkpointer.hpp).  The
    // pragma only states it; the WAL hook installed next is what replaces SQLite's own.
    db.exec("PRAGMA wal_autocheckpoint = 0");
    host->checkpointer_ = std::make_unique<Checkpointer>(file, options.synchronous, options.busy_timeout_ms,
                                                         host->bell_.get(), host->db_mu_);
    host->checkpointer_->attach(db.raw());
  }
  return host;
}

// ---------------------------------------------------------------- workers and oplog

std::optional<std::int64_t> Host::worker_row(const WorkerId& id) {
  if (auto it = worker_rows_.find(id); it != worker_rows_.end()) return it->second;
  auto q = db_->cached("SELECT id FROM workers WHERE component_id = ?1 AND worker_name = ?2");
  q->bind(1, id.component_id.to_string()).bind(2, id.worker_name);
  if (!q->step()) return std::nullopt;
  const auto row = q->int64(0);
  worker_rows_.emplace(id, row);
  return row;
}

std::unique_ptr<Worker> Host::open_worker(const WorkerId& id, bool live) {
  validate_worker_name(id.worker_name);
  SyncTicket ticket;
  std::unique_ptr<Worker> worker;
  {
    std::lock_guard lock(db_mu_);
    auto row = worker_row(id);
    if (!row) {
      WriteTxn txn(*this);
      {
        auto ins = db_->cached(
            "INSERT INTO workers (component_id, worker_name, created_us) VALUES (?1, ?2, ?3) "
            "ON CONFLICT DO NOTHING");
        ins->bind(1, id.component_id.to_string()).bind(2, id.worker_name).bind(3, now_us()).exec();
      }
      const bool created = db_->changes() == 1;
      row = worker_row(id);
      if (!row) throw Error(Errc::internal, "worker row vanished after insert");
      // oplog.key packs the worker row above 40 bits of oplog index into a signed 64-bit key.
      if (*row >= (std::int64_t{1} << 23)) throw Error(Errc::invalid, "a host holds at most 8388607 workers");
      if (created) {
        OplogEntry e;
        e.kind = OplogKind::create;
        append_entry(*row, e);
      }
      ticket = txn.commit();
    }
    worker.reset(new Worker(shared_from_this(), id, *row));
    if (live) {
      worker->last_seen_ = last_index(*row);
    } else {
      worker->start_replay();
      // What it replays must be durable before it is handed out again (a previous run may have
      // died between its commit and its sync).
      if (worker->replay_end_ >= 2) {
        if (auto t = read_ticket(nullptr)) ticket = t;
      }
    }
  }
  wait_durable(ticket);
  return worker;
}

bool Host::has_worker(const WorkerId& id) {
  std::lock_guard lock(db_mu_);
  return worker_row(id).has_value();
}

std::uint64_t Host::next_index(std::int64_t worker_row) {
  if (memory_) {
    if (auto it = next_idx_.find(worker_row); it != next_idx_.end()) return it->second;
  }
  return last_index(worker_row) + 1;
}

std::uint64_t Host::append_entry(std::int64_t worker_row, OplogEntry& entry) {
  if (entry.idx == 0) entry.idx = next_index(worker_row);
  entry.timestamp_us = now_us();
  encode_entry(entry, entry_fbb_);
  auto ins = db_->cached("INSERT INTO oplog (key, kind, entry, state) VALUES (?1, ?2, ?3, ?4)");
  ins->bind(1, promise_key(worker_row, entry.idx))
      .bind(2, static_cast<std::int64_t>(entry.kind))
      .bind_blob(3, entry_fbb_.GetBufferPointer(), entry_fbb_.GetSize());
  // A create-promise entry's row is also the new promise, pending.
  if (entry.kind == OplogKind::create_promise) {
    ins->bind(4, std::int64_t{0});
  } else {
    ins->bind_null(4);
  }
  ins->exec();
  // Valid once the transaction commits; WriteTxn drops the cache if it rolls back instead.
  if (memory_) next_idx_[worker_row] = entry.idx + 1;
  return entry.idx;
}

std::uint64_t Host::append_as(const Worker& w, OplogEntry& entry) {
  if (entry.idx == 0) entry.idx = next_index(w.row_);
  // A longer oplog means another handle appended.  A shorter one is only this handle's own
  // entry rolled back with a failed transaction: the index is free again, nothing interleaved.
  if (entry.idx > w.last_seen_ + 1) {
    throw Error(Errc::conflict,
                "worker " + w.id_.to_string() + " has oplog entries up to " + std::to_string(entry.idx - 1) +
                    " but this handle of it last saw " + std::to_string(w.last_seen_) +
                    ": another handle of the same worker appended to its oplog, and a worker runs in one "
                    "place at a time; restart this handle to replay the oplog as it is now, or use one handle");
  }
  append_entry(w.row_, entry);
  w.last_seen_ = entry.idx;
  return entry.idx;
}

std::uint64_t Host::last_index(std::int64_t worker_row) {
  // The worker's keys are the range [row << 40, (row << 40) | max index].
  auto q = db_->cached("SELECT coalesce(max(key) - ?1, 0) FROM oplog WHERE key BETWEEN ?1 AND ?2");
  q->bind(1, promise_key(worker_row, 0)).bind(2, promise_key(worker_row, kMaxIndex)).step();
  return static_cast<std::uint64_t>(q->int64(0));
}

OplogEntry Host::read_entry(std::int64_t worker_row, std::uint64_t idx) {
  auto q = db_->cached("SELECT kind, entry FROM oplog WHERE key = ?1");
  q->bind(1, promise_key(worker_row, idx));
  if (idx == 0 || idx > kMaxIndex || !q->step()) {
    throw Error(Errc::not_found, "no oplog entry " + std::to_string(idx));
  }
  return decode_entry(q->blob(1), q->bytes(1), static_cast<int>(q->int64(0)), idx);
}

std::uint64_t Host::oplog_length(const WorkerId& id) {
  std::uint64_t n;
  SyncTicket ticket;
  {
    std::lock_guard lock(db_mu_);
    const auto row = worker_row(id);
    if (!row) throw Error(Errc::worker_not_found, "no worker " + id.to_string() + " in this host");
    n = last_index(*row);
    ticket = read_ticket(nullptr);
  }
  wait_durable(ticket);
  return n;
}

OplogEntry Host::oplog_read(const WorkerId& id, std::uint64_t idx) {
  std::optional<OplogEntry> e;
  SyncTicket ticket;
  {
    std::lock_guard lock(db_mu_);
    const auto row = worker_row(id);
    if (!row) throw Error(Errc::worker_not_found, "no worker " + id.to_string() + " in this host");
    try {
      e = read_entry(*row, idx);
    } catch (const Error& err) {
      if (err.code() != Errc::not_found) throw;
      throw Error(Errc::not_found, "worker " + id.to_string() + " has no oplog entry " + std::to_string(idx));
    }
    ticket = read_ticket(nullptr);
  }
  wait_durable(ticket);
  return std::move(*e);
}

// ---------------------------------------------------------------- payloads

void Host::write_payload(std::int64_t key, const std::uint8_t* data, std::size_t len) {
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

// ---------------------------------------------------------------- group commit

SyncTicket Host::group_commit(const std::function<void()>& change) {
  QueuedChange me{&change, nullptr, false, std::nullopt};
  group_commit_each(&me, 1);
  if (me.error) std::rethrow_exception(me.error);
  return me.ticket;
}

void Host::group_commit_each(QueuedChange* changes, std::size_t n) {
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

SyncTicket Host::run_batch() {
  auto& batch = running_;
  std::lock_guard lock(db_mu_);
  auto take_queue = [&] {
    std::lock_guard queue(batch_mu_);
    batch.swap(batch_);
  };
  try {
    std::optional<WriteTxn> txn;
    try {
      txn.emplace(*this);
    } catch (...) {
      take_queue();  // the changes queued so far fail with it
      throw;
    }
    take_queue();
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
    return txn->commit();
  } catch (...) {
    // Nothing of this batch was committed: every change in it fails.
    for (auto* c : batch) {
      if (!c->error) c->error = std::current_exception();
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- durability (FULL file hosts)

void Host::wait_durable(const SyncTicket& ticket) {
  if (ticket) wal_sync_->wait(*ticket);
}

SyncTicket Host::read_ticket(const PromiseId* id) {
  if (!barrier_) return std::nullopt;
  return id ? wal_sync_->slot_ticket(Doorbell::slot_of(*id)) : wal_sync_->ticket();
}

void Host::note_changed(const PromiseId& id) {
  if (wal_sync_) changed_slots_.push_back(Doorbell::slot_of(id));
}

// ---------------------------------------------------------------- wake-ups

std::uint64_t Host::wake_generation(const PromiseId& id) {
  if (bell_) return bell_->read(Doorbell::slot_of(id));
  std::lock_guard lock(wake_mu_);
  return wake_gen_;
}

int Host::change_fd() {
  std::lock_guard lock(feed_mu_);
  if (!feed_) {
    feed_ = std::make_unique<ChangeFeed>(!memory_, bell_.get(), std::chrono::microseconds(options_.fallback_poll_us));
    feed_ptr_.store(feed_.get(), std::memory_order_release);
  }
  return feed_->fd();
}

void Host::change_ack() {
  if (auto* feed = feed_ptr_.load(std::memory_order_acquire)) feed->ack();
}

std::uint64_t Host::change_counter() {
  std::lock_guard lock(db_mu_);
  // data_version moves when another connection commits; local_changes_ counts our own.
  auto q = db_->cached("PRAGMA data_version");
  q->step();
  return (static_cast<std::uint64_t>(q->int64(0)) << 32) + local_changes_.load();
}

void Host::wake_all(const PromiseId& id) {
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

void Host::wait_for_change(const PromiseId& id, std::uint64_t seen, std::chrono::steady_clock::time_point until) {
  if (bell_) {
    bell_->wait(Doorbell::slot_of(id), static_cast<std::uint32_t>(seen), until);
    return;
  }
  std::unique_lock lock(wake_mu_);
  wake_cv_.wait_until(lock, until, [&] { return wake_gen_ != seen; });
}

}  // namespace gp
