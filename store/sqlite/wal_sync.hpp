// Group commit across processes for synchronous=FULL file hosts: one fdatasync of the WAL shared
// by every process that committed while the previous one ran.
//
// SQLite at FULL syncs the WAL inside every COMMIT, while it holds the write lock, so N
// processes committing one completion each pay N fsyncs one after the other.  A FULL host
// instead runs its connection at synchronous=NORMAL (a commit appends its frames to the WAL and
// returns) and, before a call that wrote returns, waits at this barrier until an fdatasync of
// the WAL that began after its COMMIT returned has finished.  On Linux that call flushes the
// WAL inode's dirty pages whoever wrote them, so one process's fdatasync makes every frame that
// any process had appended by then durable.  The counters that say how far the WAL is synced
// live in the doorbell file (`<db>-gpwake`), shared by every process of the file:
//
//   writes       numbered write transactions: each takes the next number just before its
//                COMMIT, while it holds SQLite's write lock, so numbers follow commit order and
//                transaction w - 1 has finished writing its frames before w takes its number;
//   writes_done  the highest number whose COMMIT has returned;
//   synced       every transaction up to this number is durable: a syncer reads writes (w) and
//                writes_done, calls fdatasync, then raises synced to w (if w's COMMIT had
//                returned) or w - 1 (it had not, so its frames may be incomplete);
//   syncer       the thread id of the one thread syncing now (0: none), so concurrent callers
//                wait for its fdatasync and for the next instead of issuing their own;
//   rounds       bumped after every fdatasync: the futex word waiters sleep on;
//   slot tickets per promise hash (as the doorbell's slots): the number of the last transaction
//                that completed or deleted a promise of that slot, raised before its COMMIT.
//
// A caller that wrote waits until synced >= its number.  A caller that read a completed or
// deleted promise waits until synced >= the promise's slot ticket (read after its read), so a
// reader is never handed a payload or a deletion that a power failure could still undo, and an
// old promise costs two loads.  A caller that did an fdatasync itself after its commit (or read)
// is done whatever the counters say, so a counter that is reset or stale can only cost an extra
// fdatasync, never a lost guarantee or a hang.  A syncer that dies keeps the flag: waiters take
// it over when its thread is gone, or after kStuck without a finished round whatever its state
// (a redundant fdatasync is always safe).
//
// The counters are only meaningful within one boot: after a power failure the file may hold any
// mix of old values.  The file therefore records the boot id next to them, and the first process
// of a boot to open it (under flock) resets them.
#pragma once
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace gp {

class Doorbell;

class WalSync {
 public:
  // How long a syncer may hold the flag with no round finished before waiters take it over.
  static constexpr std::chrono::milliseconds kStuck{100};
  // Longest sleep of a waiter between checks of the syncer's liveness.
  static constexpr std::chrono::milliseconds kStep{5};

  // nullptr if the doorbell has no room for the counters or its boot stamp cannot be set up:
  // then the host counts nothing and a FULL host keeps SQLite's own FULL.  wal_path is the WAL
  // file SQLite uses (sqlite3_filename_wal of the database's resolved name); the connection
  // must already be in WAL mode with the WAL open.  with_fd: open the WAL for fdatasync (only
  // FULL hosts need it); if that fails, can_sync() is false.
  static std::unique_ptr<WalSync> open(Doorbell* bell, const std::string& wal_path, bool with_fd);
  ~WalSync();
  WalSync(const WalSync&) = delete;
  WalSync& operator=(const WalSync&) = delete;

  bool can_sync() const { return fd_ >= 0; }

  // ---- writers (with SQLite's write lock held, just before COMMIT)
  std::uint32_t begin_commit();
  void mark(std::size_t slot, std::uint32_t number);  // a promise of this doorbell slot changed
  void end_commit(std::uint32_t number);              // after COMMIT returned (or failed)

  // ---- readers: the number a read that saw a promise of slot (or anything) must wait for
  std::uint32_t slot_ticket(std::size_t slot) const;
  std::uint32_t ticket() const;

  // Returns once every transaction up to `number` is durable (or this thread synced the WAL
  // itself after being called).  Throws Error(io) if fdatasync fails, and from then on.
  void wait(std::uint32_t number);

  // Statistics (shared by all processes of the file): fdatasync calls made here, numbered
  // transactions.
  std::uint32_t fsyncs() const;
  std::uint32_t writes() const;

 private:
  WalSync(Doorbell* bell, std::string wal_path, int fd);
  std::atomic<std::uint32_t>* word(std::size_t index) const;
  void sync_round(std::uint32_t me);  // holds the flag (or took it over)
  int sync_wal();                     // fdatasync of the WAL SQLite uses; errno-style result
  [[noreturn]] void throw_failed() const;

  Doorbell* bell_;
  std::string wal_path_;
  std::mutex fd_mu_;  // guards reopening the WAL
  int fd_;
  std::uint64_t dev_ = 0, ino_ = 0;
  std::atomic<int> failed_{0};  // errno of a failed fdatasync: sticky
};

}  // namespace gp
