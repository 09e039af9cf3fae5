// SQLite's busy handler for the connections of file hosts.  SQLite's default handler (the one
// sqlite3_busy_timeout installs) sleeps 1, 2, 5, ... 100 ms between tries, so a writer of one
// process keeps sleeping long after another process's commit let the lock go.  This one sleeps
// on the doorbell's "write lock released" counter, which our writers bump after every write
// transaction, and tries again as soon as it moves; a short timed step is the safety net for
// lock holders that do not ring (other SQLite programs, a holder killed mid-transaction) and
// for waits on readers.  The deadline is the same: busy_timeout after the first failed try,
// then SQLITE_BUSY, which the core reports as GP_EBUSY.
#pragma once
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdint>

namespace gp {

class Doorbell;

class BusyWait {
 public:
  // bell may be null: then it sleeps the timed steps only.  max_step bounds each sleep.
  BusyWait(const Doorbell* bell, std::chrono::milliseconds timeout, std::chrono::microseconds max_step)
      : bell_(bell), timeout_(timeout), max_step_(max_step) {}
  BusyWait(const BusyWait&) = delete;
  BusyWait& operator=(const BusyWait&) = delete;

  // Makes this the connection's busy handler; it must outlive the connection's use.
  void install(sqlite3* db) { sqlite3_busy_handler(db, &BusyWait::handler, this); }
  // Makes waits in progress give up (SQLITE_BUSY) at their next wake-up, and later ones at once.
  void cancel() { cancelled_.store(true); }

 private:
  static int handler(void* self, int count);
  int on_busy(int count);

  const Doorbell* bell_;
  std::chrono::milliseconds timeout_;
  std::chrono::microseconds max_step_;
  std::atomic<bool> cancelled_{false};
  // The current wait (one connection is used by one thread at a time).
  std::chrono::steady_clock::time_point start_{};
  std::uint32_t seen_ = 0;
};

}  // namespace gp
