// A change feed for event loops: an eventfd that becomes readable whenever a promise of the
// host may have changed state, so one loop can wait for thousands of promises without a thread
// per promise.  In-process changes write it directly; for a file host one watcher thread per
// host sleeps on the doorbell's "any change" counter (changes by other processes) and also
// fires every fallback interval, the safety net for writers that do not ring (and all there is
// when the doorbell file could not be opened).
#pragma once
#include <atomic>
#include <chrono>
#include <thread>

namespace gp {

class Doorbell;

class ChangeFeed {
 public:
  // For a file host a thread fires the feed on the doorbell's rings (bell may be null: no
  // doorbell) and every fallback interval; for an in-memory host only notify() does.
  ChangeFeed(bool file_host, const Doorbell* bell, std::chrono::microseconds fallback);
  ~ChangeFeed();
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  int fd() const { return fd_; }
  void notify();  // make the fd readable
  void ack();     // drain it

 private:
  void watch();
  const Doorbell* bell_;
  std::chrono::microseconds fallback_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread watcher_;
};

}  // namespace gp
