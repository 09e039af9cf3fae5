// The store seam: what the state machine (host.hpp) needs from storage, in its own terms.
//
// The core owns this interface and a store implements it (store/sqlite/ today): the arrows
// point from a store into the core, never back, and the core includes no storage header.  A
// store keeps workers, each worker's oplog (append-only entries, FlatBuffers-encoded by the
// core) and the promises those entries created, with their payloads.  The promise rules (which
// state may become which, what each call records) are the core's; a store only keeps state
// and reports it.
//
// Written with a store across a network in mind (PostgreSQL): any call may block on I/O, and
// any may throw gp::Error (io, busy, corrupt, ...) with a message naming what failed; a store
// maps its own failures to those codes in one place.  Nothing here assumes a local file,
// shared memory or files that other processes see: how changes reach waiters (wake-ups, the
// change feed) and when a commit is durable (tickets) are the store's to decide.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ids.hpp"
#include "oplog.hpp"

namespace gp {

// GP_MAX_PAYLOAD: every store must hold payloads this large (SQLite caps a value just under 1 GB).
constexpr std::size_t kMaxPayload = std::size_t{900} * 1024 * 1024;
// The largest oplog index a worker may reach (every store keeps indexes up to this).
constexpr int kIndexBits = 40;
constexpr std::uint64_t kMaxIndex = (std::uint64_t{1} << kIndexBits) - 1;

struct FreeDeleter {
  void operator()(void* p) const noexcept { std::free(p); }
};

// A payload in malloc'd memory, so the C layer can hand it to its caller without another copy.
struct Bytes {
  std::unique_ptr<std::uint8_t, FreeDeleter> data;
  std::size_t len = 0;
};
// len bytes of malloc'd memory (uninitialised); Error(no_memory) if they cannot be allocated.
Bytes allocate_bytes(std::size_t len);
// A malloc'd copy of bytes; Error(no_memory) if it cannot be allocated.
Bytes copy_bytes(std::string_view bytes);

// What a call that wrote or read still owes before it returns: the commit that must be durable
// first (Store::wait_durable).  Empty when nothing is owed.
using SyncTicket = std::optional<std::uint32_t>;

// A store's handle of a worker (found or added once, then kept by the core).
using WorkerRef = std::int64_t;

// A promise's state as the state machine sees it (a deleted promise is gone).
enum class PromiseState { gone, pending, completed };

struct PromiseRow {
  PromiseState state = PromiseState::gone;
  // The store's reference to the promise and its payload: recorded in oplog entries
  // (OplogEntry::payload_id) and given back to read_recorded_payload on replay.
  std::int64_t key = 0;
};

// One promise of a listing.
struct StoredPromise {
  PromiseId id;
  bool completed = false;
  std::uint64_t payload_len = 0;  // 0 while pending
};

// One change queued for Store::write_each: run atomically, its error kept, its commit's ticket set.
struct QueuedChange {
  const std::function<void()>* change;
  std::exception_ptr error;
  bool done = false;
  SyncTicket ticket;
};

class Store {
 public:
  virtual ~Store() = default;

  // ---- what kind of store
  // Private to this process (an in-memory database): no other writer exists, so a single
  // write is atomic by itself and needs no transaction, a waiter needs no periodic re-check,
  // and nothing waits for storage I/O.
  virtual bool is_private() const = 0;
  // How often a waiter on a shared store re-checks, for changes that came without a wake-up.
  virtual std::chrono::microseconds recheck_interval() const = 0;

  // ---- calls made with mutex() held: the store serves one caller at a time through it (its
  // connection), and the core also keeps each worker's replay state under it.  A store's own
  // background work on the connection takes it too.
  virtual std::mutex& mutex() = 0;

  // Workers.  add_worker runs inside a write and returns true if this call added it (its
  // creation entry is then the core's to append).
  virtual std::optional<WorkerRef> find_worker(const WorkerId& id) = 0;
  virtual bool add_worker(const WorkerId& id) = 0;

  // Promises.  lookup's key is set whenever the worker exists and the index is in range; with
  // payload non-null a completed promise's bytes are read into it.
  virtual PromiseRow lookup(const PromiseId& id, Bytes* payload = nullptr) = 0;
  // pending -> completed with the payload as one atomic change; false if it was not pending.
  virtual bool complete_if_pending(const PromiseId& id, const std::uint8_t* data, std::size_t len) = 0;
  // The promise at key (pending, inside a write) becomes completed with the payload.
  virtual void set_completed(std::int64_t key, const std::uint8_t* data, std::size_t len) = 0;
  // The promise at key (inside a write) is deleted: gone to every call, but its payload is kept
  // for replay, which may still return it.
  virtual void set_deleted(std::int64_t key) = 0;
  // The payload recorded at key, whatever the promise's state; Error(corrupt) if it is missing.
  virtual Bytes read_recorded_payload(std::int64_t key) = 0;
  // A payload streamed out into the caller's memory: the length of the one at key, and n bytes
  // of it from offset into dst (within the length).  Error(corrupt) if it is missing.
  virtual std::size_t payload_length(std::int64_t key) = 0;
  virtual void read_payload(std::int64_t key, std::size_t offset, std::uint8_t* dst, std::size_t n) = 0;
  // The state changed in the current write: what durability tracking needs to know.
  virtual void note_changed(const PromiseId& id) = 0;

  // The oplog.  append writes entry at entry.idx (set by the core) with its timestamp; a
  // create-promise entry is also the new promise, pending, whose key is the entry's.
  virtual std::uint64_t last_index(WorkerRef worker) = 0;  // 0 for an empty oplog
  virtual std::uint64_t next_index(WorkerRef worker) = 0;
  virtual void append(WorkerRef worker, OplogEntry& entry) = 0;
  // Error(not_found) if the worker has no such entry.
  virtual OplogEntry read_entry(WorkerRef worker, std::uint64_t idx) = 0;
  // Entries from..to in order (appended to out), and the payloads of up to small_payload bytes
  // of the promises those entries created, as (oplog index, bytes) in index order: replay's
  // read-ahead.
  virtual void read_entries(WorkerRef worker, std::uint64_t from, std::uint64_t to, std::size_t small_payload,
                            std::deque<OplogEntry>& out,
                            std::vector<std::pair<std::uint64_t, std::string>>& payloads) = 0;
  // Existing promises of one worker (or of all), state_filter 0 any, 1 pending, 2 completed,
  // ordered by worker, then index.
  virtual std::vector<StoredPromise> list_promises(std::optional<WorkerRef> worker, int state_filter) = 0;

  // Transactions.  A write is all or nothing: rollback_write undoes everything since
  // begin_write; commit_write returns what a caller must wait for before it reports the
  // change.  A read sees one consistent state.
  virtual void begin_write() = 0;
  [[nodiscard]] virtual SyncTicket commit_write() = 0;
  virtual void rollback_write() noexcept = 0;
  virtual void begin_read() = 0;
  virtual void end_read() = 0;
  virtual void abort_read() noexcept = 0;
  // What a read that saw this promise (nullptr: anything) must wait for before handing it out.
  virtual SyncTicket read_ticket(const PromiseId* id) = 0;

  // ---- calls made without mutex()
  // Runs n changes, each atomically (one failing does not undo the others), committing them
  // together where the store can (group commit: concurrent callers share one commit and one
  // sync).  Returns when all are committed; each entry's error and ticket are set.  The
  // changes run with mutex() held, so they call the store directly.
  virtual void write_each(QueuedChange* changes, std::size_t n) = 0;
  // Returns once the commit the ticket names is durable; throws if it cannot be made so.
  virtual void wait_durable(const SyncTicket& ticket) = 0;

  // Wake-ups: a waiter reads the generation of its promise, checks the promise, and then waits
  // for the generation to move; wake_all follows every completion and deletion.
  virtual std::uint64_t wake_generation(const PromiseId& id) = 0;
  virtual void wake_all(const PromiseId& id) = 0;
  virtual void wait_for_change(const PromiseId& id, std::uint64_t seen,
                               std::chrono::steady_clock::time_point until) = 0;
  // The change feed for event loops: an fd readable after any completion or deletion (by any
  // writer the store can see), its acknowledgement, and a counter that moves with every change.
  virtual int change_fd() = 0;
  virtual void change_ack() = 0;
  virtual std::uint64_t change_counter() = 0;
};

}  // namespace gp
