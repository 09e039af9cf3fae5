#include "busy_wait.hpp"

#include <algorithm>
#include <thread>

#include "doorbell.hpp"

namespace gp {

int BusyWait::handler(void* self, int count) { return static_cast<BusyWait*>(self)->on_busy(count); }

int BusyWait::on_busy(int count) {
  using clock = std::chrono::steady_clock;
  const auto now = clock::now();
  if (count == 0) {
    start_ = now;
    if (timeout_.count() <= 0) return 0;
    // Note the counter, then let SQLite try once more at once: a release between its failed
    // try and this read is then not slept through, and any release after it moves the counter.
    if (bell_) {
      seen_ = bell_->lock_generation();
      return 1;
    }
  }
  const auto deadline = start_ + timeout_;
  if (cancelled_.load() || now >= deadline) return 0;
  // 250 us, 500 us, 1 ms, ... up to max_step: a ring ends the sleep early.
  const auto step = std::min<std::chrono::microseconds>(max_step_, std::chrono::microseconds(250L << std::min(count, 10)));
  const auto until = std::min<clock::time_point>(deadline, now + step);
  if (bell_) {
    bell_->wait_lock(seen_, until);
    seen_ = bell_->lock_generation();  // before SQLite's next try, as above
  } else {
    std::this_thread::sleep_until(until);
  }
  return 1;
}

}  // namespace gp
