// Cross-process wake-ups for file hosts.  A small shared file beside the database
// ("<db>-gpwake", two pages, made with the database file's mode) holds 1024 per-promise
// counters and one "any change" counter.  A promise's counter is number
// FNV-1a-64(worker name, then component high bits, low bits and oplog index as little-endian
// 64-bit words) mod 1024, the same in every build.  After committing a completion or deletion, a
// writer bumps the counter of the promise's slot and wakes the futex waiters on it; a waiter
// reads the counter, checks the store, and sleeps on the counter until it changes.  Reading
// before checking means a completion can never slip between check and sleep.  Writers that do
// not ring (e.g. the sqlite3 shell) are caught by the waiter's bounded fallback re-check.
//
// The file also holds a "write lock released" counter that our writers bump after every write
// transaction ends, so a writer waiting for SQLite's write lock sleeps until then instead of
// polling (see BusyWait in host.cpp), and waiter counts, so ringers skip the FUTEX_WAKE system
// call when nobody sleeps.  A waiter killed while asleep leaves its count raised, which only
// costs the ringers that system call again.
//
// Words from 1536 on belong to the cross-process group commit of FULL hosts (wal_sync.hpp).
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/ids.hpp"

namespace gp {

class Doorbell {
 public:
  // db_file is the database as SQLite names it (sql::Db::file_name: symlinks resolved), so
  // every open of one database maps the same file.  nullptr when the file cannot be made or
  // mapped: waiters then rely on the fallback poll.
  static std::unique_ptr<Doorbell> open(const std::string& db_file);
  ~Doorbell();
  Doorbell(const Doorbell&) = delete;
  Doorbell& operator=(const Doorbell&) = delete;

  static std::size_t slot_of(const PromiseId& id);
  // The slot every ring also bumps, for watchers of the whole host (change feeds).
  static std::size_t any_slot();
  std::uint32_t read(std::size_t slot) const;
  void ring(std::size_t slot);
  // Sleeps until the slot's counter differs from seen, or until `until`.
  void wait(std::size_t slot, std::uint32_t seen, std::chrono::steady_clock::time_point until) const;

  // The write-lock counter: read it before trying the lock, sleep on it after failing.
  std::uint32_t lock_generation() const;
  void ring_lock_released();
  void wait_lock(std::uint32_t seen, std::chrono::steady_clock::time_point until) const;

 private:
  friend class WalSync;  // keeps its counters in this file (wal_sync.cpp)
  Doorbell(void* map, std::size_t size, int fd) : map_(map), size_(size), fd_(fd) {}
  std::atomic<std::uint32_t>* word(std::size_t index) const;
  // Bumps the counter and wakes its sleepers, if its waiter count says there are any.
  void bump(std::size_t counter, std::size_t waiters);
  void sleep_on(std::size_t counter, std::size_t waiters, std::uint32_t seen,
                std::chrono::steady_clock::time_point until) const;
  void* map_;
  std::size_t size_;
  int fd_;  // kept open for WalSync's flock
};

}  // namespace gp
