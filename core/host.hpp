// A host: one SQLite database with many workers, their oplogs and promises.  The promise state
// machine itself is in promises.cpp; this header is the core's whole C++ interface.
#pragma once
#include <chrono>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <vector>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "busy_wait.hpp"
#include "change_feed.hpp"
#include "checkpointer.hpp"
#include "doorbell.hpp"
#include "ids.hpp"
#include "oplog.hpp"
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
// GP_MAX_PAYLOAD: SQLite caps a value just under 1 GB.
constexpr std::size_t kMaxPayload = std::size_t{900} * 1024 * 1024;

// Rows of one worker's promises and oplog entries are keyed (worker row << 40) | oplog index:
// one integer b-tree per table, appends at its right edge, and blob I/O by rowid.
constexpr int kIndexBits = 40;
constexpr std::uint64_t kMaxIndex = (std::uint64_t{1} << kIndexBits) - 1;
inline std::int64_t promise_key(std::int64_t worker_row, std::uint64_t idx) {
  return static_cast<std::int64_t>((static_cast<std::uint64_t>(worker_row) << kIndexBits) | idx);
}

// The two intervals are ints, so `now + interval` cannot overflow the clock (unlike an await's
// 64-bit timeout, see deadline.hpp).
struct HostOptions {
  int synchronous = 2;          // 2 = FULL, 1 = NORMAL (file hosts only)
  int busy_timeout_ms = 5000;
  int fallback_poll_us = 50000; // longest sleep of a waiter between store re-checks
};

struct FreeDeleter {
  void operator()(void* p) const noexcept { std::free(p); }
};

// A payload in malloc'd memory, so the C layer can hand it to its caller without another copy.
struct Bytes {
  std::unique_ptr<std::uint8_t, FreeDeleter> data;
  std::size_t len = 0;
};
// A malloc'd copy of bytes; Error(no_memory) if it cannot be allocated.
Bytes copy_bytes(std::string_view bytes);

// Negative = wait forever; so, in effect, is one too long for the clock to add (INT64_MAX ms).
using Timeout = std::chrono::milliseconds;

class Worker;

// What a call that wrote or read still owes before it returns, on a FULL file host whose
// commits are made durable by the shared WAL sync (wal_sync.hpp): the transaction number that
// must be synced.  Empty elsewhere (memory, NORMAL, or a FULL host on SQLite's own FULL).
using SyncTicket = std::optional<std::uint32_t>;

class Host : public std::enable_shared_from_this<Host> {
 public:
  static std::shared_ptr<Host> open(const std::string& path, const HostOptions& options);

  // A promise's state as the state machine sees it (a deleted promise is gone).
  enum class State { gone, pending, completed };
  ~Host();

  bool is_memory() const { return memory_; }
  const std::string& path() const { return path_; }

  // ---- the outside party: no oplog entries, may await any promise
  bool complete(const PromiseId& id, const std::uint8_t* data, std::size_t len);
  // Completes several promises as the outside party in one transaction and one sync: what a
  // server does with the completions that arrive while the previous batch commits.  Each gets
  // its own answer (true, false, or the error complete() would throw); one failing does not
  // undo the others.  Durable when it returns, as complete().
  struct Completion {
    PromiseId id;
    const std::uint8_t* data = nullptr;
    std::size_t len = 0;
    bool completed = false;        // out
    std::exception_ptr error;      // out
  };
  void complete_many(std::vector<Completion>& batch);
  // complete_many in two halves, so that a server can commit the next batch while this one's
  // sync runs: commit_many commits (the answers are set but must not be given yet) and returns
  // the ticket; settle_many waits until that commit is durable, or, if the sync fails, gives
  // every completion of the batch that error.  complete_many is the one then the other.
  [[nodiscard]] SyncTicket commit_many(std::vector<Completion>& batch);
  void settle_many(std::vector<Completion>& batch, const SyncTicket& ticket);
  std::optional<Bytes> poll(const PromiseId& id);
  Bytes await(const PromiseId& id, Timeout timeout);
  void remove(const PromiseId& id);

  // ---- workers
  // Opens (creating if needed) a worker.  An existing worker with calls in its oplog starts in
  // replay, as a restarted Golem worker does, unless live is set (then it continues at the end).
  std::unique_ptr<Worker> open_worker(const WorkerId& id, bool live = false);
  bool has_worker(const WorkerId& id);

  // ---- change feed for event loops (see change_feed.hpp)
  // The feed's fd, readable after any completion or deletion; created on first use.
  int change_fd();
  void change_ack();
  // A number that changes whenever a promise of this host may have changed state, by this
  // process or another: lets a loop skip re-checking when a wake-up was only the safety net.
  std::uint64_t change_counter();
  std::uint64_t oplog_length(const WorkerId& id);
  OplogEntry oplog_read(const WorkerId& id, std::uint64_t idx);
  // ---- listing (listing.cpp): read-only, one SELECT under db_mu_
  struct PromiseInfo {
    PromiseId id;
    bool completed = false;
    std::uint64_t payload_len = 0;  // 0 while pending
  };
  // Existing promises (tombstones excluded) of one worker, or of all workers when worker is
  // empty; state_filter 0 = any, 1 = pending, 2 = completed.  Error(worker_not_found) for an
  // unknown worker.
  std::vector<PromiseInfo> list_promises(const std::optional<WorkerId>& worker, int state_filter);

 private:
  friend class Worker;
  struct Lookup;
  // A write transaction that also drops the cached oplog indexes if it rolls back, so a failed
  // call never leaves a gap in a worker's oplog.
  class WriteTxn {
   public:
    explicit WriteTxn(Host& host) : host_(host), ring_{host}, txn_(*host.db_) {}
    ~WriteTxn() {
      if (!committed_) {
        host_.next_idx_.clear();
        host_.changed_slots_.clear();
      }
    }
    // Commits.  The caller must pass the ticket to wait_durable() before its call returns,
    // after letting db_mu_ go (so this process's other calls can commit meanwhile).
    [[nodiscard]] SyncTicket commit() {
      auto* sync = host_.wal_sync_.get();
      std::optional<std::uint32_t> number;
      if (sync) {
        // SQLite's write lock is held (BEGIN IMMEDIATE): numbers follow commit order.
        number = sync->begin_commit();
        for (auto slot : host_.changed_slots_) sync->mark(slot, *number);
      }
      host_.changed_slots_.clear();
      try {
        txn_.commit();
      } catch (...) {
        if (sync) sync->end_commit(*number);
        throw;
      }
      if (sync) sync->end_commit(*number);
      committed_ = true;
      return host_.barrier_ ? number : std::nullopt;
    }

   private:
    // Declared before txn_, so it runs once txn_ has committed or rolled back: writers of other
    // processes waiting for the write lock (BusyWait) try again at once.
    struct Ring {
      Host& host;
      ~Ring() {
        if (host.bell_) host.bell_->ring_lock_released();
      }
    };
    Host& host_;
    Ring ring_;
    sql::Txn txn_;
    bool committed_ = false;
  };
  Host(std::string path, bool memory, const HostOptions& options);

  // All below run with db_mu_ held.
  std::optional<std::int64_t> worker_row(const WorkerId& id);
  // The promise's state; with payload non-null, a completed promise's bytes are read into it.
  Lookup lookup(const PromiseId& id, Bytes* payload = nullptr);
  void write_payload(std::int64_t key, const std::uint8_t* data, std::size_t len);
  Bytes read_blob(std::int64_t key, std::size_t len);
  std::uint64_t next_index(std::int64_t worker_row);
  std::uint64_t last_index(std::int64_t worker_row);
  OplogEntry read_entry(std::int64_t worker_row, std::uint64_t idx);
  // The stored payload of the promise created at key, whatever its state (replay reads tombstones too).
  Bytes read_recorded_payload(std::int64_t key);
  // Writes entry at next_index(worker_row) unless entry.idx is already set; returns the index.
  std::uint64_t append_entry(std::int64_t worker_row, OplogEntry& entry);
  // append_entry for a call of worker w, which must be the only one appending to its oplog:
  // Error(conflict) if another handle of the same worker (this process or another) appended
  // since w last wrote or (re)started, as two copies of one running worker would.
  std::uint64_t append_as(const Worker& w, OplogEntry& entry);

  // Group commit (file hosts): concurrent writers queue their changes; one of them runs the
  // whole queue in one transaction (each change in its own savepoint, so one failure does not
  // undo the others) and commits once, so N waiting writers share one fsync.  The leader takes
  // the queue only once it holds the write lock, so changes queued while it waited for another
  // process's commit go into the same transaction.  Every caller returns only after the commit
  // that contains its change and, on a FULL host, passes the returned ticket to wait_durable(),
  // so "true" still means durable; the next batch commits while this one's fsync runs.
  [[nodiscard]] SyncTicket group_commit(const std::function<void()>& change);
  struct QueuedChange {
    const std::function<void()>* change;
    std::exception_ptr error;
    bool done = false;
    SyncTicket ticket;
  };
  // Queues n changes at once (so they land in one transaction) and returns when they are
  // committed; each entry's error says whether its own change failed.  group_commit is n = 1.
  void group_commit_each(QueuedChange* changes, std::size_t n);
  SyncTicket run_batch();  // the leader's part: fills running_ from batch_ and runs it

  // Durability of FULL file hosts (wal_sync.hpp).  wait_durable returns once the transaction
  // the ticket names is synced; read_ticket is what a read that saw the promise (or, with
  // nullptr, anything) must wait for; note_changed marks a promise completed or deleted by
  // the current write transaction (db_mu_ held).
  void wait_durable(const SyncTicket& ticket);
  SyncTicket read_ticket(const PromiseId* id);
  void note_changed(const PromiseId& id);

  // The state machine (promises.cpp).  `recorder` is the calling worker, if any, whose oplog
  // gets an entry for the call in the same transaction as the state change.
  bool complete_as(const Worker* recorder, const PromiseId& id, const std::uint8_t* data, std::size_t len);
  // The completion's change inside the current write transaction; returns the state it found.
  int apply_complete(const Worker* recorder, const PromiseId& id, const std::uint8_t* data, std::size_t len);
  std::optional<Bytes> poll_as(const Worker* recorder, const PromiseId& id);
  Bytes await_as(const Worker* recorder, const PromiseId& id, Timeout timeout);
  void remove_as(const Worker* recorder, const PromiseId& id);
  State observe(const Worker& recorder, OplogKind kind, const PromiseId& id, std::optional<Bytes>& out,
                SyncTicket& ticket);
  State read_state(const PromiseId& id, std::optional<Bytes>& out, SyncTicket& ticket);
  State look(const Worker* recorder, OplogKind kind, const PromiseId& id, std::optional<Bytes>& out);
  // One check of an await: the payload if completed, nullopt if pending; throws if gone.
  std::optional<Bytes> try_finish_await(const Worker* recorder, const PromiseId& id);

  // Wake-ups.  A file host rings its doorbell, which reaches waiters in every process; an
  // in-memory host (or a file host whose doorbell could not be set up) uses the condition
  // variable, and a file host also re-checks the store every fallback_poll_us.
  std::uint64_t wake_generation(const PromiseId& id);
  void wake_all(const PromiseId& id);
  void wait_for_change(const PromiseId& id, std::uint64_t seen, std::chrono::steady_clock::time_point until);

  std::string path_;
  bool memory_;
  HostOptions options_;
  std::mutex db_mu_;
  std::unique_ptr<sql::Db> db_;
  flatbuffers::FlatBufferBuilder entry_fbb_{256};  // reused for every oplog entry (db_mu_)
  std::map<WorkerId, std::int64_t> worker_rows_;  // workers are never deleted: safe to cache
  // Next oplog index per worker row, kept only for in-memory hosts, where no other connection
  // can append; file hosts ask the database inside the write transaction.
  std::map<std::int64_t, std::uint64_t> next_idx_;

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
  std::vector<std::size_t> changed_slots_;  // doorbell slots changed in this transaction (db_mu_)
  // File hosts: the connection's busy handler and its checkpoints.  ~Host stops the
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

// A worker of a host: the host functions a Golem worker calls, each recorded in its oplog.
class Worker {
 public:
  const WorkerId& id() const { return id_; }
  const std::shared_ptr<Host>& host() const { return host_; }

  PromiseId create_promise();
  bool complete_promise(const PromiseId& id, const std::uint8_t* data, std::size_t len);
  std::optional<Bytes> poll_promise(const PromiseId& id);
  // Only for promises this worker created (Golem 1.3+), else Error(not_owner).
  Bytes await_promise(const PromiseId& id, Timeout timeout);
  void delete_promise(const PromiseId& id);
  std::uint64_t get_oplog_index();

  // ---- durable execution (replay.cpp)
  // While replaying, each call is matched with the next recorded oplog entry and answered from
  // it, writing nothing; a call that differs is Error(non_determinism).  Once the recorded
  // entries run out the worker is live and appends as usual.
  bool is_replaying();
  // The index of the last entry replayed or written: where the worker's execution stands.
  std::uint64_t oplog_position();
  // Simulates a crash and restart: the next calls replay from entry 2 (1 is the creation).
  void restart();

  // ---- a component runner's records (replay.cpp): invocations of exports and host calls whose
  // answers vary (OplogKind::imported_function_invoked, exported_function_invoked,
  // exported_function_completed), each with a function name and bytes.
  // Replaying: the next recorded entry must be this call (same kind and function; for the two
  // exported kinds also the same bytes), else Error(non_determinism) naming both; its index and
  // recorded bytes are returned and nothing is written.  Live: nullopt.
  struct Recorded {
    std::uint64_t idx = 0;
    std::string data;
  };
  std::optional<Recorded> replay_call(OplogKind kind, std::string_view function, const std::uint8_t* data,
                                      std::size_t len);
  // Appends the call with its bytes and returns its index (durable on a FULL host when it
  // returns).  Error(invalid) while replaying (replay_call first) or for another kind.
  std::uint64_t record_call(OplogKind kind, std::string_view function, const std::uint8_t* data, std::size_t len);

 private:
  friend class Host;
  Worker(std::shared_ptr<Host> host, WorkerId id, std::int64_t row)
      : host_(std::move(host)), id_(std::move(id)), row_(row) {}

  struct Call {  // the call being made, to match against a recorded entry
    OplogKind kind;
    const PromiseId* promise = nullptr;
    const std::uint8_t* data = nullptr;  // complete's payload; a recorded call's bytes
    std::size_t len = 0;
    std::string_view function = {};      // a recorded call's function
  };
  // With the host's db_mu_ held: the recorded entry answering this call while replaying (the
  // replay position advances), nullopt when live; throws Error(non_determinism) on a mismatch.
  std::optional<OplogEntry> replay(const Call& call);
  // The payload a replayed poll or await returns (db_mu_ held).
  Bytes recorded_payload(const OplogEntry& e);
  void start_replay();  // db_mu_ held
  void read_ahead();    // db_mu_ held

  std::shared_ptr<Host> host_;
  WorkerId id_;
  std::int64_t row_;
  // The last oplog index this handle wrote, or found at open or restart (db_mu_): an append
  // that finds the oplog longer than this would interleave with another handle's calls.
  // Mutable: the state machine records through a const Worker.
  mutable std::uint64_t last_seen_ = 0;
  std::uint64_t replay_next_ = 0;  // next recorded index to match; 0 = live
  std::uint64_t replay_end_ = 0;   // last recorded index at (re)start
  std::deque<OplogEntry> ahead_;   // recorded entries read ahead, starting at replay_next_
  // Small payloads of the promises created in the last two batches read ahead, by row key: what
  // replayed polls and awaits of them return, without a query each.
  std::vector<std::pair<std::int64_t, std::string>> ahead_payloads_;
};

}  // namespace gp
