// WAL checkpoints off the completion path (file hosts).
//
// SQLite's automatic checkpoint runs inside the commit that takes the WAL past 1,000 pages: that
// completer copies every page in the WAL into the database and syncs it before its call
// returns, which in a large store means ~1,000 random page writes.  File hosts turn it off
// (wal_autocheckpoint = 0) and instead their connection's WAL hook tells this object how big
// the WAL is after each commit; a thread with a connection of its own then checkpoints:
//
//  - from kPassivePages on, and again every kPassiveStep pages: PASSIVE checkpoints, which
//    never block writers or readers;
//  - at kRestartPages: a RESTART checkpoint.  While writers keep committing, PASSIVE ones never
//    leave the WAL fully copied at the moment a transaction begins, which is when SQLite starts
//    the WAL over, so without this the WAL would grow for as long as the writes go on.  It
//    holds the write lock while it copies what the PASSIVE ones have not and waits for readers
//    to leave the WAL; it also holds the host's mutex, so this process's own calls wait for it
//    (as they waited for SQLite's automatic checkpoint) instead of running into their busy
//    timeout.  Other processes' writers wait for it as for any commit.
//
// The thread and its connection start with the first checkpoint, so hosts that never write
// much never have them; if the thread cannot start, the committing connection checkpoints as
// SQLite's automatic checkpoint would.  Every process on the file checkpoints after its own
// commits (the WAL is shared, so any of them sees its size); SQLite runs one checkpoint at a
// time and the others give way.  Closing the last connection to the file checkpoints
// everything and removes the WAL, as before.
#pragma once
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "busy_wait.hpp"

namespace gp {

class Doorbell;

class Checkpointer {
 public:
  static constexpr int kPassivePages = 1000;  // SQLite's own default threshold
  static constexpr int kPassiveStep = 250;    // new pages before another PASSIVE checkpoint
  static constexpr int kRestartPages = 4000;  // ~16 MiB of WAL

  // synchronous as the host's (a checkpoint syncs the WAL and then the database file);
  // host_mu is the mutex that serialises the host's use of its connection.
  Checkpointer(std::string path, int synchronous, int busy_timeout_ms, Doorbell* bell, std::mutex& host_mu);
  ~Checkpointer();  // interrupts a running checkpoint and stops the thread
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Makes db (the host's connection) report its commits here.  Must be called once.
  void attach(sqlite3* db);

 private:
  static int wal_hook(void* self, sqlite3* db, const char* name, int pages);
  void committed(sqlite3* db, int pages);
  void run();
  bool checkpoint(int mode, int& log, int& done);

  std::string path_;
  int synchronous_;
  Doorbell* bell_;
  std::mutex& host_mu_;
  BusyWait busy_;
  std::atomic<int> next_{kPassivePages};  // WAL size (pages) that wakes the thread
  std::atomic<bool> failed_{false};       // the thread could not open its connection

  std::mutex mu_;
  std::condition_variable cv_;
  int pages_ = 0;      // the WAL's size at the last commit that woke the thread
  bool wanted_ = false;
  std::atomic<bool> stop_{false};
  sqlite3* db_ = nullptr;  // the thread's connection, while open (under mu_ for interrupts)
  std::thread thread_;
};

}  // namespace gp
