// gp_durability_child: the other processes of the durability tests.  The test spawns it with a
// mode and arguments, talks to it over stdin/stdout one line at a time, and may SIGKILL it.
// Every line is written with one write(2) of less than PIPE_BUF bytes, so lines from several
// threads never interleave and a line the parent reads was written whole.
//
//   worker-await DB WORKER TIMEOUT_MS FALLBACK_US
//       creates a promise as WORKER, says "promise IDX", "awaiting", then awaits it with
//       gp_worker_await_promise: "result RC LEN FNV T_NS MSG"
//   host-await DB WORKER IDX THREADS TIMEOUT_MS FALLBACK_US
//       THREADS threads each say "awaiting T" and await the promise with gp_host_await_promise:
//       "result T RC LEN FNV T_NS MSG"
//   await-loop DB WORKER FIRST COUNT FALLBACK_US
//       for each promise in turn: "waiting IDX", await it, "woke IDX RC T_NS"
//   complete DB WORKER IDX LEN SEED      -> "result RC DONE MSG" (payload = pattern(LEN, SEED))
//   complete-timed DB WORKER IDX LEN SEED [SYNC]
//       as complete (synchronous FULL unless SYNC says otherwise), but says "started" just
//       before gp_host_complete_promise and "result RC DONE T_NS MSG", T_NS taken just after it
//       returned
//   complete-range DB WORKER FIRST COUNT LEN
//       completes promises FIRST.. in turn, each with pattern(LEN, IDX):
//       "done COMPLETED ERRORS"
//   sync-complete DB WORKER FIRST COUNT
//       one thread, host synchronous FULL: says "ready", waits for "go" on stdin, then completes
//       promises FIRST.. in turn, each with pattern(24 + IDX % 100, IDX); "ack IDX" after each
//       call that returned 1; at the end "done COMPLETED ERRORS MAX_CALL_NS"
//   delete DB WORKER IDX                 -> "result RC MSG"
//   race DB WORKER FIRST COUNT THREADS PROC SYNC
//       says "ready", waits for "go" on stdin, then THREADS threads each complete every promise
//       FIRST.. (in ascending, descending or shuffled order) with race_payload(PROC, T, IDX);
//       then "win IDX T" per win and
//       "done ATTEMPTS ERRORS NOTFOUND" (NOTFOUND: calls that gave GP_ENOTFOUND, not errors)
//   crash-complete DB WORKER FIRST COUNT ROUND THREADS
//       THREADS threads complete the promises (thread T takes IDX = T mod THREADS) with the
//       crash-loop payload of ROUND, odd threads as the worker "completer" (recorded in its
//       oplog), even ones as the host; each completion that returned 1 is acknowledged with
//       "ack IDX worker|host" only after the call returned; "finished" at the end
//   lock DB HOLD_MS
//       raw SQLite: BEGIN IMMEDIATE, "locked", holds it HOLD_MS (or, if negative, until a line
//       arrives on stdin), then "released T_NS" (T_NS taken just before COMMIT)
//   open DB [nobody]      -> "result RC MSG", after dropping root to uid/gid 65534 if asked
//                            ("skip REASON" when that is impossible)
//   open-fresh DB         -> "opening", then gp_host_open, "opened RC"
//   memstatus [late]      -> in a fresh process (or, with "late", after SQLite is in use):
//       gp_sqlite_disable_memstatus, then one promise cycle in a memory host, then the call again:
//       "memstatus RC1 CYCLE_RC MEMORY_USED RC2 MSG2"
//   open-race PREFIX N ROUNDS STAGGER_US
//       ROUNDS times: "ready", waits for "go", spins N * STAGGER_US, then gp_host_open on
//       PREFIX<round>.db: "opened RC MSG"; if that worked, opens worker "opener-N" and creates
//       a promise: "wrote RC MSG"
//   big-await DB WORKER IDX LEN SEED TIMEOUT_MS
//       "awaiting", then gp_host_await_promise: "result RC LEN MISMATCH MSG" where MISMATCH is
//       the first offset that differs from pattern(LEN, SEED), or -1
#include <golem_promise.h>
#include <sqlite3.h>

#include <fcntl.h>
#include <grp.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "common.hpp"

namespace {

std::mutex g_out_mu;

void say(const std::string& line) {
  std::string s = line;
  for (auto& c : s) {
    if (c == '\n') c = ' ';
  }
  s += '\n';
  if (s.size() > 4000) s = s.substr(0, 3999) + "\n";
  std::lock_guard lock(g_out_mu);
  const char* p = s.data();
  std::size_t left = s.size();
  while (left > 0) {
    const ssize_t n = ::write(1, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) std::_Exit(3);
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

[[noreturn]] void die(const std::string& why) {
  say("fatal " + why);
  std::_Exit(2);
}

std::string read_line_stdin() {
  std::string line;
  char c;
  for (;;) {
    const ssize_t n = ::read(0, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') return line;
    line += c;
  }
}

std::int64_t num(const char* s) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0') die(std::string("bad number '") + s + "'");
  return v;
}

gp_worker_id_t worker(const char* name) {
  gp_worker_id_t w{};
  if (!gpd::make_worker_id(&w, name)) die(std::string("bad worker name ") + name);
  return w;
}

gp_host* open_host(const char* path, std::int32_t fallback_us = 0, std::int32_t busy_ms = 0, std::int32_t sync = 0) {
  gp_host_options_t o{GP_HOST_OPTIONS_VERSION, 0, 0, 0};
  o.synchronous = sync;
  o.busy_timeout_ms = busy_ms;
  o.fallback_poll_us = fallback_us;
  gp_host* h = nullptr;
  const int rc = gp_host_open(&h, path, &o);
  if (rc != GP_OK) die("gp_host_open " + std::to_string(rc) + " " + gp_last_error_message());
  return h;
}

std::string err_text(int rc) { return rc == GP_OK ? std::string("-") : std::string(gp_last_error_message()); }

int worker_await(char** a) {
  gp_host* h = open_host(a[0], static_cast<std::int32_t>(num(a[3])));
  const gp_worker_id_t wid = worker(a[1]);
  gp_worker* w = nullptr;
  if (gp_worker_open(&w, h, &wid) != GP_OK) die(std::string("gp_worker_open ") + gp_last_error_message());
  gp_promise_id_t p{};
  if (gp_worker_create_promise(&p, w) != GP_OK) die(std::string("create ") + gp_last_error_message());
  say("promise " + std::to_string(p.oplog_idx));
  say("awaiting");
  gp_bytes_t b{nullptr, 0};
  const int rc = gp_worker_await_promise(&b, w, &p, num(a[2]));
  const auto t = gpd::now_ns();
  say("result " + std::to_string(rc) + " " + std::to_string(b.len) + " " +
      std::to_string(gpd::fnv1a64(b.data, b.len)) + " " + std::to_string(t) + " " + err_text(rc));
  gp_bytes_free(&b);
  gp_worker_close(&w);
  gp_host_close(&h);
  return 0;
}

int host_await(char** a) {
  gp_host* h = open_host(a[0], static_cast<std::int32_t>(num(a[5])));
  const auto p = gpd::promise_id(worker(a[1]), static_cast<std::uint64_t>(num(a[2])));
  const int threads = static_cast<int>(num(a[3]));
  const auto timeout = num(a[4]);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      say("awaiting " + std::to_string(t));
      gp_bytes_t b{nullptr, 0};
      const int rc = gp_host_await_promise(&b, h, &p, timeout);
      const auto now = gpd::now_ns();
      say("result " + std::to_string(t) + " " + std::to_string(rc) + " " + std::to_string(b.len) + " " +
          std::to_string(gpd::fnv1a64(b.data, b.len)) + " " + std::to_string(now) + " " + err_text(rc));
      gp_bytes_free(&b);
    });
  }
  for (auto& t : ts) t.join();
  gp_host_close(&h);
  return 0;
}

int await_loop(char** a) {
  gp_host* h = open_host(a[0], static_cast<std::int32_t>(num(a[4])));
  const gp_worker_id_t wid = worker(a[1]);
  const auto first = num(a[2]);
  const auto count = num(a[3]);
  for (auto idx = first; idx < first + count; ++idx) {
    const auto p = gpd::promise_id(wid, static_cast<std::uint64_t>(idx));
    say("waiting " + std::to_string(idx));
    gp_bytes_t b{nullptr, 0};
    const int rc = gp_host_await_promise(&b, h, &p, 30000);
    const auto t = gpd::now_ns();
    gp_bytes_free(&b);
    say("woke " + std::to_string(idx) + " " + std::to_string(rc) + " " + std::to_string(t));
  }
  gp_host_close(&h);
  return 0;
}

int complete(char** a) {
  gp_host* h = open_host(a[0]);
  const auto p = gpd::promise_id(worker(a[1]), static_cast<std::uint64_t>(num(a[2])));
  const auto len = static_cast<std::size_t>(num(a[3]));
  std::vector<std::uint8_t> data(len);
  gpd::fill_pattern(data.data(), len, static_cast<std::uint64_t>(num(a[4])));
  int done = -1;
  const int rc = gp_host_complete_promise(&done, h, &p, data.data(), len);
  say("result " + std::to_string(rc) + " " + std::to_string(done) + " " + err_text(rc));
  gp_host_close(&h);
  return 0;
}

int complete_timed(int n, char** a) {
  gp_host* h = open_host(a[0], 0, 0, n > 5 ? static_cast<std::int32_t>(num(a[5])) : 0);
  const auto p = gpd::promise_id(worker(a[1]), static_cast<std::uint64_t>(num(a[2])));
  const auto len = static_cast<std::size_t>(num(a[3]));
  std::vector<std::uint8_t> data(len);
  gpd::fill_pattern(data.data(), len, static_cast<std::uint64_t>(num(a[4])));
  say("started");
  int done = -1;
  const int rc = gp_host_complete_promise(&done, h, &p, data.data(), len);
  const auto t = gpd::now_ns();
  say("result " + std::to_string(rc) + " " + std::to_string(done) + " " + std::to_string(t) + " " + err_text(rc));
  gp_host_close(&h);
  return 0;
}

int complete_range(char** a) {
  gp_host* h = open_host(a[0]);
  const gp_worker_id_t wid = worker(a[1]);
  const auto first = static_cast<std::uint64_t>(num(a[2]));
  const auto count = static_cast<std::uint64_t>(num(a[3]));
  const auto len = static_cast<std::size_t>(num(a[4]));
  std::vector<std::uint8_t> data(len);
  long completed = 0, errors = 0;
  for (auto idx = first; idx < first + count; ++idx) {
    gpd::fill_pattern(data.data(), len, idx);
    const auto p = gpd::promise_id(wid, idx);
    int done = -1;
    const int rc = gp_host_complete_promise(&done, h, &p, data.data(), len);
    if (rc != GP_OK) {
      ++errors;
      say("error " + std::to_string(idx) + " " + std::to_string(rc) + " " + gp_last_error_message());
    } else if (done == 1) {
      ++completed;
    }
  }
  gp_host_close(&h);
  say("done " + std::to_string(completed) + " " + std::to_string(errors));
  return 0;
}

int delete_promise(char** a) {
  gp_host* h = open_host(a[0]);
  const auto p = gpd::promise_id(worker(a[1]), static_cast<std::uint64_t>(num(a[2])));
  const int rc = gp_host_delete_promise(h, &p);
  say("result " + std::to_string(rc) + " " + err_text(rc));
  gp_host_close(&h);
  return 0;
}

int sync_complete(char** a) {
  gp_host* h = open_host(a[0], 0, 60000, GP_SYNCHRONOUS_FULL);
  const gp_worker_id_t wid = worker(a[1]);
  const auto first = static_cast<std::uint64_t>(num(a[2]));
  const auto count = static_cast<std::uint64_t>(num(a[3]));
  say("ready");
  if (read_line_stdin() != "go") die("expected go");
  std::vector<std::uint8_t> data;
  long completed = 0, errors = 0;
  std::int64_t max_call = 0;
  for (auto idx = first; idx < first + count; ++idx) {
    data.resize(24 + idx % 100);
    gpd::fill_pattern(data.data(), data.size(), idx);
    const auto p = gpd::promise_id(wid, idx);
    int done = -1;
    const auto t0 = gpd::now_ns();
    const int rc = gp_host_complete_promise(&done, h, &p, data.data(), data.size());
    max_call = std::max(max_call, gpd::now_ns() - t0);
    if (rc != GP_OK) {
      ++errors;
      say("error " + std::to_string(idx) + " " + std::to_string(rc) + " " + gp_last_error_message());
    } else if (done == 1) {
      ++completed;
      say("ack " + std::to_string(idx));
    }
  }
  gp_host_close(&h);
  say("done " + std::to_string(completed) + " " + std::to_string(errors) + " " + std::to_string(max_call));
  return 0;
}

int race(char** a) {
  const gp_worker_id_t wid = worker(a[1]);
  const auto first = static_cast<std::uint64_t>(num(a[2]));
  const auto count = static_cast<std::uint64_t>(num(a[3]));
  const int threads = static_cast<int>(num(a[4]));
  const int proc = static_cast<int>(num(a[5]));
  gp_host* h = open_host(a[0], 0, 60000, static_cast<std::int32_t>(num(a[6])));
  std::vector<std::vector<std::uint64_t>> wins(static_cast<std::size_t>(threads));
  std::atomic<long> attempts{0};
  std::atomic<long> errors{0};
  std::atomic<long> notfound{0};
  say("ready");
  if (read_line_stdin() != "go") die("expected go");
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      // Ascending, descending or shuffled by thread, so racers meet all over the range instead
      // of one process running ahead of the rest.
      std::vector<std::uint64_t> order(count);
      for (std::uint64_t i = 0; i < count; ++i) order[i] = first + (t % 3 == 1 ? count - 1 - i : i);
      if (t % 3 == 2) std::shuffle(order.begin(), order.end(), std::mt19937_64(static_cast<std::uint64_t>(proc * 131 + t)));
      for (const auto idx : order) {
        const auto p = gpd::promise_id(wid, idx);
        const auto payload = gpd::race_payload(proc, t, idx);
        int done = -1;
        const int rc = gp_host_complete_promise(&done, h, &p, reinterpret_cast<const std::uint8_t*>(payload.data()),
                                                payload.size());
        ++attempts;
        if (rc == GP_ENOTFOUND) {
          ++notfound;
        } else if (rc != GP_OK) {
          ++errors;
          say("error " + std::to_string(idx) + " " + std::to_string(rc) + " " + gp_last_error_message());
        } else if (done == 1) {
          wins[static_cast<std::size_t>(t)].push_back(idx);
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  for (int t = 0; t < threads; ++t) {
    for (auto idx : wins[static_cast<std::size_t>(t)]) say("win " + std::to_string(idx) + " " + std::to_string(t));
  }
  say("done " + std::to_string(attempts.load()) + " " + std::to_string(errors.load()) + " " +
      std::to_string(notfound.load()));
  gp_host_close(&h);
  return 0;
}

int crash_complete(char** a) {
  const gp_worker_id_t wid = worker(a[1]);
  const auto first = static_cast<std::uint64_t>(num(a[2]));
  const auto count = static_cast<std::uint64_t>(num(a[3]));
  const int round = static_cast<int>(num(a[4]));
  const int threads = static_cast<int>(num(a[5]));
  gp_host* h = open_host(a[0], 0, 60000, GP_SYNCHRONOUS_FULL);
  // Odd threads complete as a worker, so its oplog entries are killed mid-way too.
  const gp_worker_id_t cid = worker("completer");
  gp_worker* w = nullptr;
  if (gp_worker_open_v2(&w, h, &cid, GP_WORKER_OPEN_LIVE) != GP_OK) die(std::string("open completer ") + gp_last_error_message());
  say("started");
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      const bool as_worker = t % 2 == 1;
      std::vector<std::uint8_t> data;
      for (std::uint64_t idx = first; idx < first + count; ++idx) {
        if (idx % static_cast<std::uint64_t>(threads) != static_cast<std::uint64_t>(t)) continue;
        const auto p = gpd::promise_id(wid, idx);
        int done = -1;
        if (as_worker) {
          // Skip what earlier rounds completed, rather than record a losing call for each.
          gp_bytes_t b{nullptr, 0};
          int ready = 0;
          if (gp_host_poll_promise(&b, &ready, h, &p) != GP_OK) die(std::string("poll ") + gp_last_error_message());
          gp_bytes_free(&b);
          if (ready) continue;
        }
        data.resize(gpd::crash_payload_len(idx));
        gpd::fill_pattern(data.data(), data.size(), gpd::crash_payload_seed(idx, round));
        const int rc = as_worker ? gp_worker_complete_promise(&done, w, &p, data.data(), data.size())
                                 : gp_host_complete_promise(&done, h, &p, data.data(), data.size());
        if (rc != GP_OK) die("complete " + std::to_string(idx) + " " + std::to_string(rc) + " " + gp_last_error_message());
        if (done == 1) say("ack " + std::to_string(idx) + (as_worker ? " worker" : " host"));
      }
    });
  }
  for (auto& t : ts) t.join();
  say("finished");
  gp_worker_close(&w);
  gp_host_close(&h);
  return 0;
}

int lock(char** a) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(a[0], &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) die("sqlite3_open_v2");
  sqlite3_busy_timeout(db, 10000);
  char* err = nullptr;
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, &err) != SQLITE_OK) die(std::string("BEGIN IMMEDIATE: ") + err);
  say("locked");
  const auto hold = num(a[1]);
  if (hold < 0) {
    read_line_stdin();
  } else {
    std::this_thread::sleep_for(std::chrono::milliseconds(hold));
  }
  const auto t = gpd::now_ns();
  if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, &err) != SQLITE_OK) die(std::string("COMMIT: ") + err);
  say("released " + std::to_string(t));
  sqlite3_close(db);
  return 0;
}

int open_only(int argc, char** a) {
  if (argc > 1 && std::string(a[1]) == "nobody") {
    // Root ignores file modes; an unprivileged user sees them as a user would.
    if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) {
      say(std::string("skip cannot drop root privileges: ") + std::strerror(errno));
      return 0;
    }
    // The test is about the file or its directory, not about a build tree an ordinary user
    // cannot reach.
    std::string parent = a[0];
    parent = parent.substr(0, parent.find_last_of('/') + 1);
    if (::access(parent.c_str(), X_OK) != 0) {
      say("skip uid 65534 cannot reach " + parent + ": " + std::strerror(errno));
      return 0;
    }
  }
  gp_host* h = nullptr;
  const int rc = gp_host_open(&h, a[0], nullptr);
  say("result " + std::to_string(rc) + " " + err_text(rc));
  gp_host_close(&h);
  return 0;
}

int open_fresh(char** a) {
  say("opening");
  gp_host* h = nullptr;
  const int rc = gp_host_open(&h, a[0], nullptr);
  say("opened " + std::to_string(rc) + " " + err_text(rc));
  gp_host_close(&h);
  return 0;
}

int memstatus(int n, char** a) {
  if (n > 0 && std::string(a[0]) == "late") sqlite3_initialize();  // as if the host used SQLite first
  const int rc1 = gp_sqlite_disable_memstatus();
  gp_host* h = nullptr;
  gp_worker* w = nullptr;
  gp_worker_id_t wid = worker("memstatus");
  int cycle = gp_host_open(&h, ":memory:", nullptr);
  if (cycle == GP_OK) cycle = gp_worker_open(&w, h, &wid);
  gp_promise_id_t p{};
  if (cycle == GP_OK) cycle = gp_worker_create_promise(&p, w);
  int done = 0;
  if (cycle == GP_OK) cycle = gp_host_complete_promise(&done, h, &p, reinterpret_cast<const std::uint8_t*>("x"), 1);
  gp_bytes_t b{nullptr, 0};
  if (cycle == GP_OK) cycle = gp_worker_await_promise(&b, w, &p, 0);
  const auto used = sqlite3_memory_used();
  gp_bytes_free(&b);
  gp_worker_close(&w);
  gp_host_close(&h);
  const int rc2 = gp_sqlite_disable_memstatus();
  say("memstatus " + std::to_string(rc1) + " " + std::to_string(cycle) + " " + std::to_string(used) + " " +
      std::to_string(rc2) + " " + err_text(rc2));
  return 0;
}

int open_race(char** a) {
  const auto name = std::string("opener-") + a[1];
  const gp_worker_id_t wid = worker(name.c_str());
  const auto rounds = num(a[2]);
  const auto stagger_ns = num(a[3]) * 1000;
  for (std::int64_t r = 0; r < rounds; ++r) {
    const auto path = std::string(a[0]) + std::to_string(r) + ".db";
    say("ready");
    if (read_line_stdin() != "go") die("expected go");
    const auto until = gpd::now_ns() + stagger_ns * static_cast<std::int64_t>(num(a[1]));
    while (gpd::now_ns() < until) {
    }
    gp_host* h = nullptr;
    const auto t0 = gpd::now_ns();
    int rc = gp_host_open(&h, path.c_str(), nullptr);
    const auto took_us = (gpd::now_ns() - t0) / 1000;
    say("opened " + std::to_string(rc) + " " + err_text(rc) + " (after " + std::to_string(took_us) + " us)");
    if (rc != GP_OK) continue;
    gp_worker* w = nullptr;
    gp_promise_id_t p{};
    rc = gp_worker_open(&w, h, &wid);
    if (rc == GP_OK) rc = gp_worker_create_promise(&p, w);
    say("wrote " + std::to_string(rc) + " " + err_text(rc));
    gp_worker_close(&w);
    gp_host_close(&h);
  }
  return 0;
}

int big_await(char** a) {
  gp_host* h = open_host(a[0]);
  const auto p = gpd::promise_id(worker(a[1]), static_cast<std::uint64_t>(num(a[2])));
  const auto len = static_cast<std::size_t>(num(a[3]));
  say("awaiting");
  gp_bytes_t b{nullptr, 0};
  const int rc = gp_host_await_promise(&b, h, &p, num(a[5]));
  std::int64_t mismatch = -1;
  if (rc == GP_OK) {
    mismatch = b.len == len ? gpd::pattern_mismatch(b.data, b.len, static_cast<std::uint64_t>(num(a[4])))
                            : static_cast<std::int64_t>(std::min(b.len, len));
  }
  say("result " + std::to_string(rc) + " " + std::to_string(b.len) + " " + std::to_string(mismatch) + " " +
      err_text(rc));
  gp_bytes_free(&b);
  gp_host_close(&h);
  return 0;
}

long status_kib(const char* key) {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long v = -1;
  const std::size_t kl = std::strlen(key);
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, key, kl) == 0 && line[kl] == ':') v = std::atol(line + kl + 1);
  std::fclose(f);
  return v;
}

// What big-cycle and big-read share: a worker's promise on a NORMAL host, LEN and SEED of the
// pattern, and the RSS once the peak is reset (VmHWM).  completed() completes the promise from
// a buffer of the pattern (freed before it returns); report() says the result line.
struct Big {
  gp_host* h = nullptr;
  gp_worker* w = nullptr;
  gp_promise_id_t p{};
  std::size_t len = 0;
  std::uint64_t seed = 0;
  long base = 0;

  // False (after saying "skip ...") if the peak RSS cannot be reset.
  bool open(char** a) {
    h = open_host(a[0], 0, 0, GP_SYNCHRONOUS_NORMAL);
    const gp_worker_id_t wid = worker(a[1]);
    if (gp_worker_open(&w, h, &wid) != GP_OK) die(std::string("gp_worker_open ") + gp_last_error_message());
    if (gp_worker_create_promise(&p, w) != GP_OK) die(std::string("create ") + gp_last_error_message());
    len = static_cast<std::size_t>(num(a[2]));
    seed = static_cast<std::uint64_t>(num(a[3]));
    const int fd = ::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    const bool reset = fd >= 0 && ::write(fd, "5", 1) == 1;
    if (fd >= 0) ::close(fd);
    if (!reset) {
      say("skip cannot reset the peak RSS through /proc/self/clear_refs");
      return false;
    }
    base = status_kib("VmRSS");
    return true;
  }
  int complete(int& done) {
    std::vector<std::uint8_t> data(len);
    gpd::fill_pattern(data.data(), len, seed);
    return gp_host_complete_promise(&done, h, &p, data.data(), len);
  }
  void report(int rc, int done, std::int64_t mismatch) {
    const long peak = status_kib("VmHWM");
    say("result " + std::to_string(rc) + " " + std::to_string(done) + " " + std::to_string(mismatch) + " " +
        std::to_string(base) + " " + std::to_string(peak) + " " + err_text(rc));
  }
  ~Big() {
    gp_worker_close(&w);
    gp_host_close(&h);
  }
};

// big-cycle DB WORKER LEN SEED: in this one process, create a promise, complete it from a
// buffer of LEN pattern bytes, free the buffer, await the payload and check it.  Reports the
// RSS after opening the host and the peak RSS (VmHWM, reset after opening) in KiB.
int big_cycle(char** a) {
  Big big;
  if (!big.open(a)) return 0;
  int done = -1;
  int rc = big.complete(done);
  gp_bytes_t b{nullptr, 0};
  if (rc == GP_OK) rc = gp_worker_await_promise(&b, big.w, &big.p, 0);
  std::int64_t mismatch = -1;
  if (rc == GP_OK) {
    mismatch = b.len == big.len ? gpd::pattern_mismatch(b.data, b.len, big.seed) : static_cast<std::int64_t>(b.len);
  }
  big.report(rc, done, mismatch);
  gp_bytes_free(&b);
  return 0;
}

// big-read DB WORKER LEN SEED HOW: create and complete a promise of LEN pattern bytes, free the
// input, then take the payload into the caller's own buffer of LEN bytes: HOW "into" reads it
// there directly (gp_host_read_payload), "copy" polls it (a library-allocated copy) and copies
// it over.  Reports as big-cycle.
int big_read(char** a) {
  Big big;
  if (!big.open(a)) return 0;
  const bool into = std::string(a[4]) == "into";
  int done = -1;
  int rc = big.complete(done);
  std::vector<std::uint8_t> mine(big.len);  // the caller's buffer, where the payload must end up
  std::size_t got = 0;
  int ready = 0;
  if (rc == GP_OK && into) {
    rc = gp_host_read_payload(&got, &ready, big.h, &big.p, mine.data(), mine.size());
  } else if (rc == GP_OK) {
    gp_bytes_t b{nullptr, 0};
    rc = gp_host_poll_promise(&b, &ready, big.h, &big.p);
    if (rc == GP_OK && b.len <= mine.size()) std::memcpy(mine.data(), b.data, b.len);
    got = b.len;
    gp_bytes_free(&b);
  }
  std::int64_t mismatch = -1;
  if (rc == GP_OK) {
    mismatch = got == big.len && ready == 1 ? gpd::pattern_mismatch(mine.data(), big.len, big.seed)
                                            : static_cast<std::int64_t>(got);
  }
  big.report(rc, done, mismatch);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) die("usage: gp_durability_child MODE ARGS...");
  const std::string mode = argv[1];
  char** a = argv + 2;
  const int n = argc - 2;
  const auto need = [&](int k) {
    if (n < k) die(mode + " needs " + std::to_string(k) + " arguments");
  };
  if (mode == "worker-await") { need(4); return worker_await(a); }
  if (mode == "host-await") { need(6); return host_await(a); }
  if (mode == "await-loop") { need(5); return await_loop(a); }
  if (mode == "complete") { need(5); return complete(a); }
  if (mode == "complete-timed") { need(5); return complete_timed(n, a); }
  if (mode == "complete-range") { need(5); return complete_range(a); }
  if (mode == "delete") { need(3); return delete_promise(a); }
  if (mode == "sync-complete") { need(4); return sync_complete(a); }
  if (mode == "race") { need(7); return race(a); }
  if (mode == "crash-complete") { need(6); return crash_complete(a); }
  if (mode == "lock") { need(2); return lock(a); }
  if (mode == "open") { need(1); return open_only(n, a); }
  if (mode == "open-fresh") { need(1); return open_fresh(a); }
  if (mode == "memstatus") return memstatus(n, a);
  if (mode == "open-race") { need(4); return open_race(a); }
  if (mode == "big-await") { need(6); return big_await(a); }
  if (mode == "big-cycle") { need(4); return big_cycle(a); }
  if (mode == "big-read") { need(5); return big_read(a); }
  die("unknown mode " + mode);
}
