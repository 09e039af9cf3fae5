// Deadlines on the steady clock.  `now + timeout` overflows the clock's signed nanosecond count
// for timeouts beyond ~292 years less the time since boot (an int64 of milliseconds goes far
// past that), and the wrapped sum lies in the past: a "wait for INT64_MAX ms" would give up at
// once.  Deadlines that far off saturate to the clock's end instead, which waits forever.
#pragma once
#include <chrono>

namespace gp {

// The time point `timeout` after `from`, or time_point::max() when that is past the clock's
// range.  timeout must not be negative.
template <class Rep, class Period>
std::chrono::steady_clock::time_point deadline_after(std::chrono::steady_clock::time_point from,
                                                     std::chrono::duration<Rep, Period> timeout) {
  using clock = std::chrono::steady_clock;
  // What is left of the clock's range, rounded down to the timeout's unit: adding anything
  // shorter cannot overflow.
  const auto room = std::chrono::duration_cast<std::chrono::duration<Rep, Period>>(clock::time_point::max() - from);
  if (timeout >= room) return clock::time_point::max();
  return from + std::chrono::duration_cast<clock::duration>(timeout);
}

}  // namespace gp
