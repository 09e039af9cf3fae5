// A host: many workers, their oplogs and promises, kept by a store (store.hpp).  The promise
// state machine itself is in promises.cpp and replay in replay.cpp; this header is the core's
// whole C++ interface, used by the fronts (capi/, server/).
#pragma once
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ids.hpp"
#include "oplog.hpp"
#include "store.hpp"

namespace gp {

// Negative = wait forever; so, in effect, is one too long for the clock to add (INT64_MAX ms).
using Timeout = std::chrono::milliseconds;

class Worker;

class Host : public std::enable_shared_from_this<Host> {
 public:
  static std::shared_ptr<Host> open(std::unique_ptr<Store> store);

  using State = PromiseState;
  ~Host();

  // A private store (in memory): its calls never wait for storage I/O or other processes.
  bool is_private() const { return store_->is_private(); }

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
  // poll into the caller's memory: nullopt while pending, else the payload's length, and the
  // bytes are in dst[0..length) when the length is at most cap (else nothing was copied).
  // Throws Error(not_found) if the promise is gone.
  std::optional<std::size_t> read_payload(const PromiseId& id, std::uint8_t* dst, std::size_t cap);
  Bytes await(const PromiseId& id, Timeout timeout);
  void remove(const PromiseId& id);

  // ---- workers
  // Opens (creating if needed) a worker.  An existing worker with calls in its oplog starts in
  // replay, as a restarted Golem worker does, unless live is set (then it continues at the end).
  std::unique_ptr<Worker> open_worker(const WorkerId& id, bool live = false);
  bool has_worker(const WorkerId& id);

  // ---- change feed for event loops (Store::change_fd)
  // The feed's fd, readable after any completion or deletion; created on first use.
  int change_fd();
  void change_ack();
  // A number that changes whenever a promise of this host may have changed state, by this
  // process or another: lets a loop skip re-checking when a wake-up was only the safety net.
  std::uint64_t change_counter();
  std::uint64_t oplog_length(const WorkerId& id);
  OplogEntry oplog_read(const WorkerId& id, std::uint64_t idx);
  // ---- listing (listing.cpp): read-only
  using PromiseInfo = StoredPromise;
  // Existing promises (tombstones excluded) of one worker, or of all workers when worker is
  // empty; state_filter 0 = any, 1 = pending, 2 = completed.  Error(worker_not_found) for an
  // unknown worker.
  std::vector<PromiseInfo> list_promises(const std::optional<WorkerId>& worker, int state_filter);

 private:
  friend class Worker;
  // A write of the store: rolled back unless committed, so a failed call changes nothing.
  class Write {
   public:
    explicit Write(Store& store) : store_(store) { store_.begin_write(); }
    ~Write() {
      if (!done_) store_.rollback_write();
    }
    Write(const Write&) = delete;
    Write& operator=(const Write&) = delete;
    // The caller must pass the ticket to wait_durable() before its call returns, after letting
    // the store's mutex go (so this process's other calls can commit meanwhile).
    [[nodiscard]] SyncTicket commit() {
      auto ticket = store_.commit_write();
      done_ = true;
      return ticket;
    }

   private:
    Store& store_;
    bool done_ = false;
  };
  explicit Host(std::unique_ptr<Store> store) : store_(std::move(store)) {}

  // All below run with the store's mutex held.
  // Writes entry at the worker's next index unless entry.idx is already set; returns the index.
  std::uint64_t append_entry(WorkerRef worker, OplogEntry& entry);
  // append_entry for a call of worker w, which must be the only one appending to its oplog:
  // Error(conflict) if another handle of the same worker (this process or another) appended
  // since w last wrote or (re)started, as two copies of one running worker would.
  std::uint64_t append_as(const Worker& w, OplogEntry& entry);

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

  std::unique_ptr<Store> store_;
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
  Worker(std::shared_ptr<Host> host, WorkerId id, WorkerRef row)
      : host_(std::move(host)), id_(std::move(id)), row_(row) {}

  struct Call {  // the call being made, to match against a recorded entry
    OplogKind kind;
    const PromiseId* promise = nullptr;
    const std::uint8_t* data = nullptr;  // complete's payload; a recorded call's bytes
    std::size_t len = 0;
    std::string_view function = {};      // a recorded call's function
  };
  // With the host's the store's mutex held: the recorded entry answering this call while replaying (the
  // replay position advances), nullopt when live; throws Error(non_determinism) on a mismatch.
  std::optional<OplogEntry> replay(const Call& call);
  // The payload a replayed poll or await returns (the store's mutex held).
  Bytes recorded_payload(const OplogEntry& e);
  void start_replay();  // the store's mutex held
  void read_ahead();    // the store's mutex held

  std::shared_ptr<Host> host_;
  WorkerId id_;
  WorkerRef row_;
  // The last oplog index this handle wrote, or found at open or restart (the store's mutex): an append
  // that finds the oplog longer than this would interleave with another handle's calls.
  // Mutable: the state machine records through a const Worker.
  mutable std::uint64_t last_seen_ = 0;
  std::uint64_t replay_next_ = 0;  // next recorded index to match; 0 = live
  std::uint64_t replay_end_ = 0;   // last recorded index at (re)start
  std::deque<OplogEntry> ahead_;   // recorded entries read ahead, starting at replay_next_
  // Small payloads of the promises this worker created in the last two batches read ahead, by
  // oplog index: what replayed polls and awaits of them return, without a query each.
  std::vector<std::pair<std::uint64_t, std::string>> ahead_payloads_;
};

}  // namespace gp
