// Section 3: cross-process wake-up latency (p50/p99) of a host-level await, next to a
// std::condition_variable, a pipe and a shared futex; the idle waiter's CPU.
#include "sections.hpp"

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "common.hpp"
#include "golem_promise.h"

namespace gpbench {

// ------------------------------------------------------------------ section 3: wake-up latency

namespace {

constexpr long kGapUs = 1000;  // the signaller sleeps this long before each round, so the waiter is asleep

struct Lat {
  std::vector<double> from_start_us;   // waiter's return - signaller's time just before signalling
  std::vector<double> from_return_us;  // waiter's return - the completer's return from complete
  std::vector<double> call_us;         // duration of the complete call
  int not_waiting = 0;                 // rounds where the waiter had not been waiting >= gap/2
};

Lat wake_golem(const std::string& path, int synchronous, int rounds) {
  int ready[2], res[2];
  if (pipe(ready) || pipe(res)) fail("pipe");
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    ::close(ready[0]), ::close(res[0]);
    gp_host* h = open_host(path, synchronous);
    for (int i = 0; i < rounds; ++i) {
      write_all(ready[1], &i, sizeof i);
      const gp_promise_id_t p = pid_of(static_cast<std::uint64_t>(i) + 2);
      gp_bytes_t out{nullptr, 0};
      const auto t_start = mono_ns();
      const int rc = gp_host_await_promise(&out, h, &p, 10000);
      const std::int64_t msg[3] = {mono_ns(), t_start, rc};
      write_all(res[1], msg, sizeof msg);
      gp_bytes_free(&out);
      if (rc != GP_OK) std::_Exit(5);
    }
    gp_host_close(&h);
    std::_Exit(0);
  }
  ::close(ready[1]), ::close(res[1]);
  gp_host* h = open_host(path, synchronous);
  Lat lat;
  const std::uint8_t payload[8] = {'w', 'a', 'k', 'e', '-', 'u', 'p', '!'};
  for (int i = 0; i < rounds; ++i) {
    int got = -1;
    if (!read_all(ready[0], &got, sizeof got) || got != i) fail("waiter out of step");
    sleep_us(kGapUs);
    const gp_promise_id_t p = pid_of(static_cast<std::uint64_t>(i) + 2);
    int done = 0;
    const auto t0 = mono_ns();
    check(gp_host_complete_promise(&done, h, &p, payload, sizeof payload), "gp_host_complete_promise");
    const auto t0e = mono_ns();
    std::int64_t msg[3];
    if (!read_all(res[0], msg, sizeof msg)) fail("waiter died");
    if (msg[2] != GP_OK) fail("waiter's await failed: %s", gp_errstr(static_cast<int>(msg[2])));
    lat.from_start_us.push_back(static_cast<double>(msg[0] - t0) / 1e3);
    lat.from_return_us.push_back(static_cast<double>(msg[0] - t0e) / 1e3);
    lat.call_us.push_back(static_cast<double>(t0e - t0) / 1e3);
    if (t0 - msg[1] < kGapUs * 1000 / 2) ++lat.not_waiting;
  }
  gp_host_close(&h);
  int st = 0;
  waitpid(pid, &st, 0);
  ::close(ready[0]), ::close(res[0]);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fail("waiter process failed (status %d)", st);
  return lat;
}

std::vector<double> wake_condvar(int rounds) {
  std::mutex mu;
  std::condition_variable cv, ack_cv;
  int seq = -1, acked = -1;
  std::int64_t woke = 0;
  std::thread waiter([&] {
    for (int i = 0; i < rounds; ++i) {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return seq >= i; });
      woke = mono_ns();
      acked = i;
      ack_cv.notify_one();
    }
  });
  std::vector<double> out;
  for (int i = 0; i < rounds; ++i) {
    sleep_us(kGapUs);
    const auto t0 = mono_ns();
    {
      std::lock_guard lock(mu);
      seq = i;
    }
    cv.notify_one();
    std::unique_lock lock(mu);
    ack_cv.wait(lock, [&] { return acked >= i; });
    out.push_back(static_cast<double>(woke - t0) / 1e3);
  }
  waiter.join();
  return out;
}

std::vector<double> wake_pipe(int rounds) {
  int to[2], back[2];
  if (pipe(to) || pipe(back)) fail("pipe");
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    ::close(to[1]), ::close(back[0]);
    int i;
    while (read_all(to[0], &i, sizeof i)) {
      const std::int64_t t = mono_ns();
      write_all(back[1], &t, sizeof t);
    }
    std::_Exit(0);
  }
  ::close(to[0]), ::close(back[1]);
  std::vector<double> out;
  for (int i = 0; i < rounds; ++i) {
    sleep_us(kGapUs);
    const auto t0 = mono_ns();
    write_all(to[1], &i, sizeof i);
    std::int64_t t1;
    if (!read_all(back[0], &t1, sizeof t1)) fail("pipe partner died");
    out.push_back(static_cast<double>(t1 - t0) / 1e3);
  }
  ::close(to[1]);
  waitpid(pid, nullptr, 0);
  ::close(back[0]);
  return out;
}

long futex(std::atomic<std::uint32_t>* w, int op, std::uint32_t val) {
  return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(w), op, val, nullptr, nullptr, 0);
}

// A shared (not private) futex in a MAP_SHARED page across fork: the doorbell's mechanism alone.
std::vector<double> wake_futex(int rounds) {
  struct Shared {
    std::atomic<std::uint32_t> bell, ack;
    std::atomic<std::int64_t> woke;
  };
  void* m = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) fail("mmap");
  auto* s = new (m) Shared{};
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    for (std::uint32_t i = 1; i <= static_cast<std::uint32_t>(rounds); ++i) {
      while (s->bell.load() < i) futex(&s->bell, FUTEX_WAIT, i - 1);
      s->woke.store(mono_ns());
      s->ack.store(i);
      futex(&s->ack, FUTEX_WAKE, INT_MAX);
    }
    std::_Exit(0);
  }
  std::vector<double> out;
  for (std::uint32_t i = 1; i <= static_cast<std::uint32_t>(rounds); ++i) {
    sleep_us(kGapUs);
    const auto t0 = mono_ns();
    s->bell.store(i);
    futex(&s->bell, FUTEX_WAKE, INT_MAX);
    while (s->ack.load() < i) futex(&s->ack, FUTEX_WAIT, i - 1);
    out.push_back(static_cast<double>(s->woke.load() - t0) / 1e3);
  }
  waitpid(pid, nullptr, 0);
  munmap(m, 4096);
  return out;
}

}  // namespace

void section_wake() {
  std::printf("\n== 3. cross-process wake-up latency of a host-level await (file host) and idle CPU\n");
  const int rounds = cfg.wake_rounds;
  const std::string tpl = path_in_dir("gp-durable-wake-template.db");
  const std::string work = path_in_dir("gp-durable-wake.db");
  populate(tpl, rounds + 2);
  struct Row {
    const char* name = "";
    std::vector<double> p50, p99, p50_ret, p99_ret, call, nw;
  };
  Row rows[5];
  const char* const row_names[5] = {"golem-promise, synchronous NORMAL", "golem-promise, synchronous FULL",
                                    "std::condition_variable (threads)", "pipe (processes)", "shared futex (processes)"};
  for (int v = 0; v < 5; ++v) rows[v].name = row_names[v];
  for (int rep = 0; rep < cfg.repeats; ++rep) {
    for (int v = 0; v < 5; ++v) {
      std::vector<double> l;
      if (v < 2) {
        copy_db(tpl, work);
        const auto lat = wake_golem(work, v == 0 ? GP_SYNCHRONOUS_NORMAL : GP_SYNCHRONOUS_FULL, rounds);
        remove_db(work);
        l = lat.from_start_us;
        rows[v].p50_ret.push_back(percentile(lat.from_return_us, 0.5));
        rows[v].p99_ret.push_back(percentile(lat.from_return_us, 0.99));
        rows[v].call.push_back(percentile(lat.call_us, 0.5));
        rows[v].nw.push_back(lat.not_waiting);
      } else if (v == 2) {
        l = wake_condvar(rounds);
      } else if (v == 3) {
        l = wake_pipe(rounds);
      } else {
        l = wake_futex(rounds);
      }
      rows[v].p50.push_back(percentile(l, 0.5));
      rows[v].p99.push_back(percentile(l, 0.99));
    }
  }
  std::printf("  %d rounds x %d repeats; before each round the signaller sleeps %ld us so the waiter is asleep;\n"
              "  latency = the waiter's CLOCK_MONOTONIC when its wait returned - the signaller's just before it\n"
              "  signalled (for golem-promise: just before gp_host_complete_promise, so it includes the commit)\n",
              rounds, cfg.repeats, kGapUs);
  std::printf("  %-36s %16s %16s %22s\n", "one-way latency, us", "p50 best (med)", "p99 best (med)", "after complete returned");
  Summary p50[5], p99[5];
  for (int v = 0; v < 5; ++v) {
    p50[v] = summarize(rows[v].p50, false);
    p99[v] = summarize(rows[v].p99, false);
    std::printf("  %-36s %7.0f (%6.0f) %7.0f (%6.0f)", rows[v].name, p50[v].best, p50[v].median, p99[v].best, p99[v].median);
    if (v < 2) {
      std::printf("   p50 %5.0f, p99 %5.0f; complete call p50 %.0f us", summarize(rows[v].p50_ret, false).median,
                  summarize(rows[v].p99_ret, false).median, summarize(rows[v].call, false).median);
      const double nw = summarize(rows[v].nw, false).worst;
      if (nw > 0) std::printf("; %.0f rounds found it done", nw);
    }
    std::printf("\n");
  }
  std::printf("  golem-promise NORMAL / pipe (p50 median): %.1fx; / condition_variable: %.1fx\n",
              p50[0].median / p50[3].median, p50[0].median / p50[2].median);

  // Idle CPU: the waiter awaits a promise nobody completes.
  copy_db(tpl, work);
  const auto idle = in_child([&] {
    gp_host* h = open_host(work, GP_SYNCHRONOUS_NORMAL);
    const gp_promise_id_t p = pid_of(static_cast<std::uint64_t>(rounds) + 1);
    gp_bytes_t out{nullptr, 0};
    rusage r0{}, r1{};
    getrusage(RUSAGE_SELF, &r0);
    const auto t0 = mono_ns();
    const int rc = gp_host_await_promise(&out, h, &p, static_cast<std::int64_t>(cfg.idle_s * 1000));
    const auto t1 = mono_ns();
    getrusage(RUSAGE_SELF, &r1);
    gp_host_close(&h);
    if (rc != GP_ETIMEOUT) fail("idle await: expected GP_ETIMEOUT, got %s", gp_errstr(rc));
    auto us = [](const timeval& a, const timeval& b) { return (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_usec - a.tv_usec); };
    const double cpu = us(r0.ru_utime, r1.ru_utime) + us(r0.ru_stime, r1.ru_stime);
    return std::vector<double>{cpu, static_cast<double>(t1 - t0) / 1e3, static_cast<double>(r1.ru_nvcsw - r0.ru_nvcsw)};
  });
  remove_db(work);
  remove_db(tpl);
  const double idle_pct = 100 * idle[0] / idle[1];
  std::printf("  idle waiter (default fallback poll 50 ms): %.1f ms CPU in %.2f s awaiting = %.3f%% of a core, "
              "%.0f wake-ups/s\n",
              idle[0] / 1e3, idle[1] / 1e6, idle_pct, idle[2] / (idle[1] / 1e6));
  std::printf("  targets: p50 <= 200 us: %s (NORMAL median %.0f us, FULL median %.0f us incl. its fsync); "
              "p99 <= 1 ms: %s (NORMAL median %.0f us); idle CPU <= 0.5%%: %s\n",
              p50[0].median <= 200 ? "met" : "NOT met", p50[0].median, p50[1].median,
              p99[0].median <= 1000 ? "met" : "NOT met", p99[0].median, idle_pct <= 0.5 ? "met" : "NOT met");
  std::printf("RESULT durable wake normal_p50_best=%.0f normal_p50_median=%.0f normal_p99_best=%.0f normal_p99_median=%.0f "
              "full_p50_median=%.0f full_p99_median=%.0f cv_p50=%.0f pipe_p50=%.0f futex_p50=%.0f cv_p99=%.0f pipe_p99=%.0f "
              "idle_cpu_pct=%.3f\n",
              p50[0].best, p50[0].median, p99[0].best, p99[0].median, p50[1].median, p99[1].median, p50[2].median,
              p50[3].median, p50[4].median, p99[2].median, p99[3].median, idle_pct);
  std::fflush(stdout);
}

}  // namespace gpbench
