// The SQLite store: one database file (or a private in-memory database) holding many workers,
// their oplogs and promises (schema.cpp), behind the core's Store interface (core/store.hpp).
//
// A promise is the row of the oplog entry that created it; rows are keyed
// (worker row << 40) | oplog index, so each worker is one key range of one integer b-tree.
// File hosts run in WAL mode and share a doorbell file with every process that opens the
// database (doorbell.hpp): wake-ups, busy waits, numbered commits and a shared WAL sync
// (wal_sync.hpp) go through it; checkpoints run in the background (checkpointer.hpp).
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "busy_wait.hpp"
#include "change_feed.hpp"
#include "checkpointer.hpp"
#include "core/store.hpp"
#include "doorbell.hpp"
#include "sqlite.hpp"
#include "wal_sync.hpp"

namespace gp {

// Payloads up to this size travel through one prepared statement; larger ones use SQLite's
// incremental blob I/O, so no extra full-size copy is made.
constexpr std::size_t kInlinePayload = 64 * 1024;
// An in-memory host commits its one open transaction once every this many changed rows, or
// sooner once its redo log holds this many payload bytes (sql::Db::defer_commits): commits buy
// nothing there, and each costs a walk of SQLite's page cache that grows with the database
// (at 400,000 promises, ~130 us: 2 us per change at 64 changes per commit, 0.1 us at 1,024).
constexpr std::int64_t kMemoryCommitEvery = 1024;
constexpr std::size_t kMemoryCommitBytes = 1 << 20;

inline std::int64_t promise_key(std::int64_t worker_row, std::uint64_t idx) {
  return static_cast<std::int64_t>((static_cast<std::uint64_t>(worker_row) << kIndexBits) | idx);
}

// The two intervals are ints, so `now + interval` cannot overflow the clock (unlike an await's
// 64-bit timeout, see core/deadline.hpp).
struct SqliteOptions {
  int synchronous = 2;          // 2 = FULL, 1 = NORMAL (file hosts only)
  int busy_timeout_ms = 5000;
  int fallback_poll_us = 50000; // longest sleep of a waiter between store re-checks
};

class SqliteStore final : public Store {
 public:
  // ":memory:" opens a private in-memory database.  Refuses foreign, newer, truncated or
  // read-only files (schema.cpp) before writing anything to them.
  static std::unique_ptr<SqliteStore> open(const std::string& path, const SqliteOptions& options);
  ~SqliteStore() override;

  bool is_private() const override { return memory_; }
  std::chrono::microseconds recheck_interval() const override {
    return std::chrono::microseconds(options_.fallback_poll_us);
  }
  std::mutex& mutex() override { return mu_; }

  std::optional<WorkerRef> find_worker(const WorkerId& id) override;
  bool add_worker(const WorkerId& id) override;
  PromiseRow lookup(const PromiseId& id, Bytes* payload) override;
  bool complete_if_pending(const PromiseId& id, const std::uint8_t* data, std::size_t len) override;
  void set_completed(std::int64_t key, const std::uint8_t* data, std::size_t len) override;
  void set_deleted(std::int64_t key) override;
  Bytes read_recorded_payload(std::int64_t key) override;
  std::size_t payload_length(std::int64_t key) override;
  void read_payload(std::int64_t key, std::size_t offset, std::uint8_t* dst, std::size_t n) override;
  void note_changed(const PromiseId& id) override;
  std::uint64_t last_index(WorkerRef worker) override;
  std::uint64_t next_index(WorkerRef worker) override;
  void append(WorkerRef worker, OplogEntry& entry) override;
  OplogEntry read_entry(WorkerRef worker, std::uint64_t idx) override;
  void read_entries(WorkerRef worker, std::uint64_t from, std::uint64_t to, std::size_t small_payload,
                    std::deque<OplogEntry>& out,
                    std::vector<std::pair<std::uint64_t, std::string>>& payloads) override;
  std::vector<StoredPromise> list_promises(std::optional<WorkerRef> worker, int state_filter) override;

  void begin_write() override;
  SyncTicket commit_write() override;
  void rollback_write() noexcept override;
  void begin_read() override;
  void end_read() override;
  void abort_read() noexcept override;
  SyncTicket read_ticket(const PromiseId* id) override;

  void write_each(QueuedChange* changes, std::size_t n) override;
  void wait_durable(const SyncTicket& ticket) override;

  std::uint64_t wake_generation(const PromiseId& id) override;
  void wake_all(const PromiseId& id) override;
  void wait_for_change(const PromiseId& id, std::uint64_t seen,
                       std::chrono::steady_clock::time_point until) override;
  int change_fd() override;
  void change_ack() override;
  std::uint64_t change_counter() override;

 private:
  SqliteStore(std::string path, bool memory, const SqliteOptions& options);

  Bytes read_blob(std::int64_t key, std::size_t len);
  SyncTicket run_batch();  // the group commit leader's part: fills running_ from batch_ and runs it
  void end_write() noexcept;  // after a commit or rollback: writers of other processes may go

  std::string path_;
  bool memory_;
  SqliteOptions options_;
  std::mutex mu_;
  std::unique_ptr<sql::Db> db_;
  std::optional<sql::Txn> write_;  // the open write transaction (mu_)
  std::optional<sql::Txn> read_;   // the open read transaction (mu_)
  flatbuffers::FlatBufferBuilder entry_fbb_{256};  // reused for every oplog entry (mu_)
  std::map<WorkerId, std::int64_t> worker_rows_;  // workers are never deleted: safe to cache
  // Next oplog index per worker row, kept only for in-memory hosts, where no other connection
  // can append; file hosts ask the database inside the write transaction.
  std::map<std::int64_t, std::uint64_t> next_idx_;

  // Group commit (file hosts): concurrent writers queue their changes; one of them runs the
  // whole queue in one transaction (each change in its own savepoint, so one failure does not
  // undo the others) and commits once, so N waiting writers share one fsync.  The leader takes
  // the queue only once it holds the write lock, so changes queued while it waited for another
  // process's commit go into the same transaction.  On a FULL host the next batch commits while
  // this one's fsync runs.
  std::mutex batch_mu_;
  std::condition_variable batch_cv_;
  std::vector<QueuedChange*> batch_;
  std::vector<QueuedChange*> running_;  // the leader's batch; swapped with batch_, keeping capacity
  bool batch_leader_ = false;

  std::unique_ptr<Doorbell> bell_;
  // File hosts with a doorbell: numbers commits for the shared WAL sync; barrier_ when this
  // is a FULL host that runs its connection at NORMAL and waits for that sync instead.
  std::unique_ptr<WalSync> wal_sync_;
  bool barrier_ = false;
  std::vector<std::size_t> changed_slots_;  // doorbell slots changed in this transaction (mu_)
  // File hosts: the connection's busy handler and its checkpoints.  The destructor stops the
  // checkpointer, then closes the connection (the last one of the process to close cleans up
  // the WAL), and only then drops these and bell_, which they use.
  std::unique_ptr<BusyWait> busy_;
  std::unique_ptr<Checkpointer> checkpointer_;
  // Declared after bell_: its watcher thread reads the doorbell, so it must stop first.
  std::mutex feed_mu_;
  std::unique_ptr<ChangeFeed> feed_;
  std::atomic<ChangeFeed*> feed_ptr_{nullptr};
  std::atomic<std::uint64_t> local_changes_{0};
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  std::uint64_t wake_gen_ = 0;
};

}  // namespace gp
