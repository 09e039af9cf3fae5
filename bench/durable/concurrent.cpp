// Section 2: completes per second from 16 concurrent completers (threads on one host handle,
// processes x threads), next to the sequential figure and raw SQLite of the same run.
#include "sections.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common.hpp"
#include "golem_promise.h"

namespace gpbench {

// ------------------------------------------------------------------ section 2: 16 concurrent completers

namespace {

// A start line for threads: each thread arrives after its warm-up; the main thread releases all.
struct StartLine {
  std::mutex mu;
  std::condition_variable cv;
  int arrived = 0;
  bool go = false;
  void arrive_and_wait() {
    std::unique_lock lock(mu);
    ++arrived;
    cv.notify_all();
    cv.wait(lock, [&] { return go; });
  }
  void wait_for(int n) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return arrived >= n; });
  }
  void release() {
    {
      std::lock_guard lock(mu);
      go = true;
    }
    cv.notify_all();
  }
};

constexpr int kCompleters = 16;
const std::uint8_t kConcPayload[16] = {'c', 'o', 'n', 'c', 'u', 'r', 'r', 'e', 'n', 't', '-', 'p', 'a', 'y', '!', '!'};

// Promise indexes of completer c: the first is its warm-up, the rest are timed.
std::uint64_t conc_idx(int c, long j) { return 2 + static_cast<std::uint64_t>(c) * cfg.conc_per + static_cast<std::uint64_t>(j); }

// Runs `threads` completers numbered first.. on one host handle (or raw connections when raw),
// each completing its warm-up promise, then waiting at the start line, then the rest.
// Returns the monotonic time when the last finished.
std::int64_t run_completers(const std::string& path, int first, int threads, bool raw,
                            const std::function<void(StartLine&)>& starter) {
  StartLine line;
  gp_host* h = raw ? nullptr : open_host(path, GP_SYNCHRONOUS_FULL);
  std::vector<std::thread> ts;
  std::atomic<std::int64_t> end{0};
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, c = first + t] {
      std::unique_ptr<Raw> r;
      if (raw) r = std::make_unique<Raw>(path, GP_SYNCHRONOUS_FULL);
      auto one = [&](long j) {
        if (raw) {
          if (!r->complete(conc_idx(c, j), kConcPayload, sizeof kConcPayload)) fail("raw: not pending");
          return;
        }
        int done = 0;
        const gp_promise_id_t p = pid_of(conc_idx(c, j));
        check(gp_host_complete_promise(&done, h, &p, kConcPayload, sizeof kConcPayload), "gp_host_complete_promise");
        if (done != 1) fail("completion returned false");
      };
      one(0);
      line.arrive_and_wait();
      for (long j = 1; j < cfg.conc_per; ++j) one(j);
      const auto e = mono_ns();
      auto cur = end.load();
      while (e > cur && !end.compare_exchange_weak(cur, e)) {
      }
    });
  }
  line.wait_for(threads);
  starter(line);
  for (auto& t : ts) t.join();
  if (h) gp_host_close(&h);
  return end.load();
}

struct ConcResult {
  double rate;
  double per_commit;  // completions per COMMIT statement
  double per_fsync;   // completions per WAL fdatasync of the core's shared sync (0: none counted)
};

double per(long n, std::uint32_t a, std::uint32_t b) { return b != a ? static_cast<double>(n) / (b - a) : 0; }

ConcResult conc_threads(const std::string& path, int threads, bool raw) {
  g_commits = 0;
  std::int64_t t0 = 0;
  long commits0 = 0;
  SyncCounters s0;
  const auto t1 = run_completers(path, 0, threads, raw, [&](StartLine& line) {
    commits0 = g_commits.load();
    s0 = sync_counters(path);
    t0 = mono_ns();
    line.release();
  });
  const auto s1 = sync_counters(path);
  const long n = threads * (cfg.conc_per - 1);
  const long commits = g_commits.load() - commits0;
  return {static_cast<double>(n) * 1e9 / static_cast<double>(t1 - t0), commits ? static_cast<double>(n) / commits : 0,
          per(n, s0.fsyncs, s1.fsyncs)};
}

ConcResult conc_processes(const std::string& path, int procs, int threads) {
  int ready[2], go[2], res[2];
  if (pipe(ready) || pipe(go) || pipe(res)) fail("pipe");
  std::fflush(stdout);
  std::vector<pid_t> kids;
  for (int p = 0; p < procs; ++p) {
    const pid_t pid = fork();
    if (pid < 0) fail("fork");
    if (pid == 0) {
      ::close(ready[0]), ::close(go[1]), ::close(res[0]);
      g_commits = 0;
      long commits0 = 0;
      const auto end = run_completers(path, p * threads, threads, false, [&](StartLine& line) {
        write_all(ready[1], "r", 1);
        char c;
        if (!read_all(go[0], &c, 1)) std::_Exit(4);
        commits0 = g_commits.load();
        line.release();
      });
      const std::int64_t out[2] = {end, g_commits.load() - commits0};
      write_all(res[1], out, sizeof out);
      std::_Exit(0);
    }
    kids.push_back(pid);
  }
  ::close(ready[1]), ::close(go[0]), ::close(res[1]);
  for (int p = 0; p < procs; ++p) {
    char c;
    if (!read_all(ready[0], &c, 1)) fail("a completer process died before starting");
  }
  const auto s0 = sync_counters(path);
  const auto t0 = mono_ns();
  for (int p = 0; p < procs; ++p) write_all(go[1], "g", 1);
  std::int64_t t1 = 0, commits = 0;
  for (int p = 0; p < procs; ++p) {
    std::int64_t in[2];
    if (!read_all(res[0], in, sizeof in)) fail("a completer process died");
    t1 = std::max(t1, in[0]);
    commits += in[1];
  }
  for (auto k : kids) {
    int st = 0;
    waitpid(k, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fail("a completer process failed (status %d)", st);
  }
  ::close(ready[0]), ::close(go[1]), ::close(res[0]);
  const auto s1 = sync_counters(path);
  const long n = procs * threads * (cfg.conc_per - 1);
  return {static_cast<double>(n) * 1e9 / static_cast<double>(t1 - t0), commits ? static_cast<double>(n) / commits : 0,
          per(n, s0.fsyncs, s1.fsyncs)};
}

}  // namespace

void section_concurrent() {
  std::printf("\n== 2. completes per second from %d concurrent completers, synchronous FULL, file host\n", kCompleters);
  const std::string tpl = path_in_dir("gp-durable-conc-template.db");
  populate(tpl, kCompleters * cfg.conc_per + 2);
  capture_pragmas(path_in_dir("gp-durable-pragmas.db"), GP_SYNCHRONOUS_FULL);
  remove_db(path_in_dir("gp-durable-pragmas.db"));
  const std::string work = path_in_dir("gp-durable-conc.db");
  enum { SEQ, THREADS, PROCS, PROCS16, RAW16, RAWSEQ, NV };
  const char* const names[NV] = {
      "golem-promise, 1 thread (sequential)",
      "golem-promise, 16 threads, one host handle",
      "golem-promise, 4 processes x 4 threads",
      "golem-promise, 16 processes x 1 thread",
      "raw SQLite, 16 threads, 16 connections",
      "raw SQLite, 1 thread (sequential)",
  };
  std::vector<double> rate[NV], per_commit[NV], per_fsync[NV];
  g_raw_busy = 0;
  tracing(true);  // counts COMMITs (statement text only; negligible next to an fsync)
  for (int rep = 0; rep < cfg.repeats; ++rep) {
    for (int v = 0; v < NV; ++v) {
      if (v == RAW16 && rep >= 2) continue;  // slow (busy-handler sleeps): two repeats are enough
      copy_db(tpl, work);
      ConcResult r{};
      switch (v) {
        case SEQ: r = conc_threads(work, 1, false); break;
        case THREADS: r = conc_threads(work, kCompleters, false); break;
        case PROCS: r = conc_processes(work, 4, 4); break;
        case PROCS16: r = conc_processes(work, 16, 1); break;
        case RAW16: r = conc_threads(work, kCompleters, true); break;
        case RAWSEQ: r = conc_threads(work, 1, true); break;
      }
      rate[v].push_back(r.rate);
      per_commit[v].push_back(r.per_commit);
      per_fsync[v].push_back(r.per_fsync);
      remove_db(work);
    }
  }
  tracing(false);
  remove_db(tpl);
  std::printf("  each completer: 1 warm-up completion, then %ld timed ones on distinct pre-created promises;\n"
              "  %d repeats (raw 16 connections: %d), variants interleaved; wall time from the common start to the\n"
              "  last completer's end; completes/commit counts COMMIT statements (traced); completes/fsync counts\n"
              "  the core's WAL fdatasyncs (its counter in -gpwake; raw SQLite FULL: one per COMMIT)\n",
              cfg.conc_per - 1, cfg.repeats, std::min(cfg.repeats, 2));
  std::printf("  %-44s %12s %12s %17s %16s\n", "", "best /s", "median /s", "completes/commit", "completes/fsync");
  Summary s[NV];
  for (int v = 0; v < NV; ++v) {
    s[v] = summarize(rate[v], true);
    const double pc = summarize(per_commit[v], true).median;
    const double pf = v >= RAW16 ? pc : summarize(per_fsync[v], true).median;
    std::printf("  %-44s %12.0f %12.0f %17.1f %16.1f\n", names[v], s[v].best, s[v].median, pc, pf);
  }
  if (g_raw_busy) std::printf("  (raw, 16 connections: %ld BEGIN IMMEDIATE gave SQLITE_BUSY after the 5 s busy timeout and were retried)\n", g_raw_busy.load());
  std::printf("  16 threads / sequential: %.1fx (best), %.1fx (median); target > 1x: %s\n", s[THREADS].best / s[SEQ].best,
              s[THREADS].median / s[SEQ].median, s[THREADS].median > s[SEQ].median ? "met" : "NOT met");
  std::printf("  4x4 processes / sequential: %.1fx (best), %.1fx (median); target > 1x: %s\n", s[PROCS].best / s[SEQ].best,
              s[PROCS].median / s[SEQ].median, s[PROCS].median > s[SEQ].median ? "met" : "NOT met");
  std::printf("  16x1 processes / sequential: %.1fx (best), %.1fx (median); target > 1x: %s\n", s[PROCS16].best / s[SEQ].best,
              s[PROCS16].median / s[SEQ].median, s[PROCS16].median > s[SEQ].median ? "met" : "NOT met");
  std::printf("RESULT durable concurrent seq_best=%.0f seq_median=%.0f threads_best=%.0f threads_median=%.0f "
              "procs_best=%.0f procs_median=%.0f procs16_best=%.0f procs16_median=%.0f raw16_best=%.0f raw16_median=%.0f "
              "rawseq_best=%.0f rawseq_median=%.0f seq_per_fsync=%.2f threads_per_fsync=%.2f procs_per_fsync=%.2f "
              "procs16_per_fsync=%.2f\n",
              s[SEQ].best, s[SEQ].median, s[THREADS].best, s[THREADS].median, s[PROCS].best, s[PROCS].median,
              s[PROCS16].best, s[PROCS16].median, s[RAW16].best, s[RAW16].median, s[RAWSEQ].best, s[RAWSEQ].median,
              summarize(per_fsync[SEQ], true).median, summarize(per_fsync[THREADS], true).median,
              summarize(per_fsync[PROCS], true).median, summarize(per_fsync[PROCS16], true).median);
  std::fflush(stdout);
}

}  // namespace gpbench
