#include "checkpointer.hpp"

#include <algorithm>

#include "doorbell.hpp"

namespace gp {

Checkpointer::Checkpointer(std::string path, int synchronous, int busy_timeout_ms, Doorbell* bell,
                           std::mutex& host_mu)
    : path_(std::move(path)),
      synchronous_(synchronous),
      bell_(bell),
      host_mu_(host_mu),
      // Its waits are for readers to leave the WAL (they never ring) or for the write lock:
      // short steps, so a RESTART holding the write lock lets it go soon.
      busy_(bell, std::chrono::milliseconds(busy_timeout_ms), std::chrono::microseconds(200)) {}

Checkpointer::~Checkpointer() {
  std::unique_lock lock(mu_);
  stop_.store(true);
  busy_.cancel();
  cv_.notify_all();
  // A checkpoint in progress is cut short: closing the last connection to the file checkpoints
  // everything anyway.  Repeated, because starting a checkpoint clears an earlier interrupt.
  while (db_) {
    sqlite3_interrupt(db_);
    cv_.wait_for(lock, std::chrono::milliseconds(1));
  }
  lock.unlock();
  if (thread_.joinable()) thread_.join();
}

void Checkpointer::attach(sqlite3* db) {
  // Replaces SQLite's automatic checkpoint (itself a WAL hook) on this connection.
  sqlite3_wal_hook(db, &Checkpointer::wal_hook, this);
}

int Checkpointer::wal_hook(void* self, sqlite3* db, const char*, int pages) {
  static_cast<Checkpointer*>(self)->committed(db, pages);
  return SQLITE_OK;
}

void Checkpointer::committed(sqlite3* db, int pages) {
  if (failed_.load()) {
    // No thread: checkpoint here, as SQLite's automatic checkpoint would.
    if (pages >= kPassivePages) sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return;
  }
  if (pages < next_.load(std::memory_order_relaxed)) return;
  {
    std::lock_guard lock(mu_);
    if (stop_.load()) return;
    pages_ = pages;
    wanted_ = true;
    if (!thread_.joinable()) {
      try {
        thread_ = std::thread([this] { run(); });
      } catch (...) {  // no exception may cross SQLite's C frames; checkpoint inline instead
        failed_.store(true);
        return;
      }
    }
  }
  cv_.notify_one();
}

bool Checkpointer::checkpoint(int mode, int& log, int& done) {
  log = done = -1;
  const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, mode, &log, &done);
  // Writers waiting behind a RESTART sleep on the doorbell's lock counter.
  if (mode != SQLITE_CHECKPOINT_PASSIVE && bell_) bell_->ring_lock_released();
  return rc == SQLITE_OK;
}

void Checkpointer::run() {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                           nullptr);
  if (rc == SQLITE_OK) {
    busy_.install(db);
    // It only checkpoints: no commits of its own, no use for a page cache.
    rc = sqlite3_exec(db,
                      synchronous_ == 2 ? "PRAGMA synchronous = FULL; PRAGMA cache_size = 16"
                                        : "PRAGMA synchronous = NORMAL; PRAGMA cache_size = 16",
                      nullptr, nullptr, nullptr);
  }
  std::unique_lock lock(mu_);
  if (rc != SQLITE_OK) {
    failed_.store(true);  // the committing connections checkpoint inline from now on
    lock.unlock();
    sqlite3_close_v2(db);
    return;
  }
  db_ = db;
  bool copied = false;  // a PASSIVE checkpoint of ours ran since our last RESTART
  for (;;) {
    cv_.wait(lock, [&] { return wanted_ || stop_.load(); });
    if (stop_.load()) break;
    wanted_ = false;
    const int pages = pages_;
    lock.unlock();
    int log = 0, done = 0;
    bool ok = false, restarted = false;
    // The bulk is copied by a PASSIVE checkpoint, which blocks nobody: a RESTART goes straight
    // ahead only for what commits added since the last one (one big commit, say a 256 MiB
    // payload, is copied without holding anybody up).
    if (pages < kRestartPages || !copied) copied = ok = checkpoint(SQLITE_CHECKPOINT_PASSIVE, log, done);
    if ((pages >= kRestartPages || (ok && log >= kRestartPages)) && !stop_.load()) {
      std::lock_guard host(host_mu_);  // see the header: this process's calls wait, not fail
      restarted = ok = checkpoint(SQLITE_CHECKPOINT_RESTART, log, done);
      if (restarted) copied = false;
    }
    // After a RESTART the next commit writes at the WAL's start; otherwise wait for another
    // kPassiveStep pages (or retry that much later after a failure, e.g. another process's
    // checkpoint running).
    const int base = restarted ? 0 : ok ? log : pages;
    next_.store(std::max(kPassivePages, base + kPassiveStep), std::memory_order_relaxed);
    lock.lock();
    // Requests made meanwhile came from commits before the RESTART: the WAL they saw is gone.
    if (restarted) wanted_ = false;
  }
  db_ = nullptr;
  cv_.notify_all();
  lock.unlock();
  sqlite3_close_v2(db);
}

}  // namespace gp
