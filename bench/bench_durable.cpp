// gp_bench_durable: durability and sharing figures of issue 3, each printed next to the physical
// limit it is measured against in the same run, so each shows as a ratio.
//
//   1. durable completes/s, sequential, synchronous=FULL, file host (gp_host_complete_promise of
//      pre-created promises) vs raw SQLite running the core's statements with the same settings
//      (checked by tracing both before timing);
//   2. completes/s from 16 concurrent completers: 16 threads on one host handle, 4 processes x
//      4 threads and 16 single-threaded processes (forked before any host is opened), vs the
//      sequential figure and raw SQLite of the same run, with WAL fdatasyncs per completion;
//   3. cross-process wake-up latency (p50/p99) of a host-level await in a forked waiter, vs a
//      std::condition_variable, a pipe and a shared futex ping-pong; the waiter's idle CPU;
//   4. 256 MiB payload complete + await (NORMAL and FULL): MB/s and RSS, in forked children, vs
//      raw SQLite blob I/O of the same statements and plain file write/read;
//   5. per-operation time (create, complete, await, poll) with 10,000 and 1,000,000 promises
//      stored (the populated files are kept in --dir and reused across runs).
//
// Usage: gp_bench_durable [--quick] [--dir DIR] [--repeats N] [--only 1,2,...]
// Lines starting with "RESULT durable" are for scripts (bench/run.sh).
#include <fcntl.h>
#include <linux/futex.h>
#include <sqlite3.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cmath>
#include <condition_variable>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "golem_promise.h"

namespace {

// ------------------------------------------------------------------ configuration

constexpr const char* kComponent = "1a2b3c4d-0000-4000-8000-00000000d00d";
constexpr const char* kWorkerName = "durable-bench";

struct Config {
  bool quick = false;
  std::string dir;
  int repeats = 5;
  unsigned only = 0;             // bit i = section i; 0 = all
  long seq_n = 3000;             // section 1: timed completes of each kind (in blocks)
  long conc_per = 250;           // section 2: completes per completer (16 completers)
  int wake_rounds = 300;         // section 3
  double idle_s = 3.0;           // section 3: idle await
  std::size_t payload_mib = 256; // section 4
  int payload_repeats = 3;
  long scale_small = 10000, scale_large = 1000000;  // section 5: promises stored
  long scale_ops = 1000;         // section 5: timed operations of each kind per repeat
  int scale_repeats = 3;
} cfg;

// ------------------------------------------------------------------ small helpers

[[noreturn]] void fail(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fprintf(stderr, "gp_bench_durable: ");
  std::vfprintf(stderr, fmt, ap);
  std::fprintf(stderr, "\n");
  va_end(ap);
  std::_Exit(2);
}

void check(int rc, const char* what) {
  if (rc != GP_OK) fail("%s failed: %s (%s)", what, gp_errstr(rc), gp_last_error_message());
}

void check_sql(sqlite3* db, int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    fail("sqlite: %s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

std::int64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

double now_s() { return static_cast<double>(mono_ns()) * 1e-9; }

// CPU time of the calling thread (user + system), in seconds: unaffected by waiting for the disk
// or for a CPU that other processes hold.
double cpu_s() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// CPU time of the whole process: the calling thread plus the library's background threads
// (the checkpointer of a file host).
double process_cpu_s() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Time the calling thread spent runnable but waiting for a CPU (Linux schedstat), in seconds:
// on a shared machine the part of a wall-clock figure that is other processes' doing.
double runqueue_s() {
  double v = 0;
  if (FILE* f = std::fopen("/proc/thread-self/schedstat", "r")) {
    unsigned long long run = 0, wait = 0;
    if (std::fscanf(f, "%llu %llu", &run, &wait) == 2) v = static_cast<double>(wait) * 1e-9;
    std::fclose(f);
  }
  return v;
}

void sleep_us(long us) {
  timespec ts{us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

void write_all(int fd, const void* p, std::size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n) {
    const ssize_t w = ::write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fail("write: %s", std::strerror(errno));
    c += w, n -= static_cast<std::size_t>(w);
  }
}

bool read_all(int fd, void* p, std::size_t n) {
  char* c = static_cast<char*>(p);
  while (n) {
    const ssize_t r = ::read(fd, c, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    c += r, n -= static_cast<std::size_t>(r);
  }
  return true;
}

std::string path_in_dir(const std::string& name) { return cfg.dir + "/" + name; }

void remove_db(const std::string& path) {
  for (const char* s : {"", "-wal", "-shm", "-journal", "-gpwake"}) ::unlink((path + s).c_str());
}

// Copies a closed database file (no WAL) and syncs the copy, so its write-back does not land
// inside a timed run.
void copy_db(const std::string& from, const std::string& to) {
  remove_db(to);
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) fail("open %s: %s", from.c_str(), std::strerror(errno));
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) fail("create %s: %s", to.c_str(), std::strerror(errno));
  std::vector<char> buf(1 << 20);
  for (;;) {
    const ssize_t r = ::read(in, buf.data(), buf.size());
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail("read %s: %s", from.c_str(), std::strerror(errno));
    if (r == 0) break;
    write_all(out, buf.data(), static_cast<std::size_t>(r));
  }
  if (::fsync(out) != 0) fail("fsync %s: %s", to.c_str(), std::strerror(errno));
  ::close(in);
  ::close(out);
}

bool file_exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

struct Summary {
  double best = 0, median = 0, worst = 0;
};

// best = highest for rates (higher_better), lowest for times.
Summary summarize(std::vector<double> v, bool higher_better) {
  Summary s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  s.best = higher_better ? v.back() : v.front();
  s.worst = higher_better ? v.front() : v.back();
  return s;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  std::size_t i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  i = i == 0 ? 0 : i - 1;
  return v[std::min(i, v.size() - 1)];
}

std::uint64_t splitmix(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// ------------------------------------------------------------------ golem-promise helpers

gp_worker_id_t bench_worker() {
  gp_uuid_t comp;
  gp_worker_id_t wid;
  check(gp_uuid_parse(&comp, kComponent), "gp_uuid_parse");
  check(gp_worker_id_make(&wid, &comp, kWorkerName), "gp_worker_id_make");
  return wid;
}

gp_promise_id_t pid_of(std::uint64_t idx) {
  gp_promise_id_t p;
  p.worker_id = bench_worker();
  p.oplog_idx = idx;
  return p;
}

gp_host* open_host(const std::string& path, int synchronous, int fallback_poll_us = 0) {
  gp_host_options_t o;
  std::memset(&o, 0, sizeof o);
  o.version = GP_HOST_OPTIONS_VERSION;
  o.synchronous = synchronous;
  o.fallback_poll_us = fallback_poll_us;
  gp_host* h = nullptr;
  check(gp_host_open(&h, path.c_str(), &o), "gp_host_open");
  return h;
}

const char* sync_name(int s) { return s == GP_SYNCHRONOUS_FULL ? "FULL" : "NORMAL"; }

// A fresh file host at path whose bench worker created n pending promises, oplog indexes
// 2..n+1, through the C ABI (synchronous NORMAL: creation is not what is measured).
void populate(const std::string& path, long n, bool progress = false) {
  remove_db(path);
  gp_host* h = open_host(path, GP_SYNCHRONOUS_NORMAL);
  gp_worker* w = nullptr;
  const gp_worker_id_t wid = bench_worker();
  check(gp_worker_open_v2(&w, h, &wid, GP_WORKER_OPEN_LIVE), "gp_worker_open_v2");
  const double t0 = now_s();
  for (long i = 0; i < n; ++i) {
    gp_promise_id_t p;
    check(gp_worker_create_promise(&p, w), "gp_worker_create_promise");
    if (p.oplog_idx != static_cast<std::uint64_t>(i) + 2) fail("unexpected oplog index %llu", (unsigned long long)p.oplog_idx);
    if (progress && (i + 1) % 100000 == 0) {
      std::printf("    ... %ld promises (%.0f/s)\n", i + 1, static_cast<double>(i + 1) / (now_s() - t0));
      std::fflush(stdout);
    }
  }
  gp_worker_close(&w);
  gp_host_close(&h);  // the last connection: checkpoints and removes the WAL
}

// ------------------------------------------------------------------ SQL tracing

// Every connection opened while the auto-extension is registered (ours inside the library and
// raw ones here) reports its statements; used to check that raw runs what the core runs, and
// to count commits.
std::mutex g_trace_mu;
bool g_trace_on = false;
std::vector<std::string> g_trace;
std::atomic<long> g_commits{0};

int trace_cb(unsigned type, void*, void*, void* x) {
  if (type != SQLITE_TRACE_STMT) return 0;
  const char* sql = static_cast<const char*>(x);
  if (std::strcmp(sql, "COMMIT") == 0) g_commits.fetch_add(1, std::memory_order_relaxed);
  if (g_trace_on) {
    std::lock_guard lock(g_trace_mu);
    g_trace.emplace_back(sql);
  }
  return 0;
}

int trace_ext(sqlite3* db, char**, const sqlite3_api_routines*) {
  return sqlite3_trace_v2(db, SQLITE_TRACE_STMT, trace_cb, nullptr);
}

void tracing(bool on) {
  if (on) {
    sqlite3_auto_extension(reinterpret_cast<void (*)(void)>(trace_ext));
  } else {
    sqlite3_reset_auto_extension();
  }
}

// ------------------------------------------------------------------ raw SQLite: the core's completion

// The statements core/promises.cpp (apply_complete, lookup, write_payload) and core/host.cpp
// (group_commit -> run_batch -> WriteTxn) run for a host-level completion on a file host.
enum { R_BEGIN, R_COMMIT, R_LOOKUP, R_UPDATE, R_UPDATE_ZERO, R_BEGIN_READ, R_LOOKUP_PAYLOAD, R_COUNT };
const char* const kRawSql[R_COUNT] = {
    "BEGIN IMMEDIATE",
    "COMMIT",
    "SELECT state FROM oplog WHERE key = ?1 AND state IS NOT NULL",
    "UPDATE oplog SET state = 1, payload = ?2 WHERE key = ?1",
    "UPDATE oplog SET state = 1, payload = zeroblob(?2) WHERE key = ?1",
    "BEGIN",
    "SELECT state, length(payload), CASE WHEN length(payload) <= 65536 THEN payload END "
    "FROM oplog WHERE key = ?1 AND state IS NOT NULL",
};

std::vector<std::string> g_open_pragmas[3];
std::atomic<long> g_raw_busy{0};  // raw BEGIN IMMEDIATEs that hit the busy timeout (then retried)  // by synchronous value: pragmas the core sets when opening

struct Raw {
  sqlite3* db = nullptr;
  sqlite3_stmt* s[R_COUNT] = {};
  std::int64_t worker_row = 0;

  Raw(const std::string& path, int synchronous) {
    // Host::open's flags and busy timeout, and the pragmas it ran (traced in capture_pragmas).
    // Among them wal_autocheckpoint = 0: raw never checkpoints while it is timed (the core
    // checkpoints in a background thread instead; closing the file checkpoints it).  Raw keeps
    // SQLite's own busy handler, which sleeps between tries (the core's waits on its doorbell).
    check_sql(db, sqlite3_open_v2(path.c_str(), &db,
                                  SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                                  nullptr),
              "open");
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 5000);
    if (g_open_pragmas[synchronous].empty()) fail("no traced pragmas for synchronous %d", synchronous);
    for (const auto& p : g_open_pragmas[synchronous]) check_sql(db, sqlite3_exec(db, p.c_str(), nullptr, nullptr, nullptr), p.c_str());
    for (int i = 0; i < R_COUNT; ++i)
      check_sql(db, sqlite3_prepare_v3(db, kRawSql[i], -1, SQLITE_PREPARE_PERSISTENT, &s[i], nullptr), kRawSql[i]);
    sqlite3_stmt* q = nullptr;
    check_sql(db, sqlite3_prepare_v2(db, "SELECT id FROM workers", -1, &q, nullptr), "workers");
    if (sqlite3_step(q) != SQLITE_ROW) fail("raw: no worker row");
    worker_row = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
  }
  ~Raw() {
    for (auto* st : s) sqlite3_finalize(st);
    sqlite3_close_v2(db);
  }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;

  std::int64_t key(std::uint64_t idx) const {
    return static_cast<std::int64_t>((static_cast<std::uint64_t>(worker_row) << 40) | idx);
  }
  void run(int i) {
    const int rc = sqlite3_step(s[i]);
    sqlite3_reset(s[i]);
    if (rc != SQLITE_DONE) fail("raw: %s: %s", kRawSql[i], sqlite3_errmsg(db));
  }
  int state(std::int64_t k) {
    sqlite3_bind_int64(s[R_LOOKUP], 1, k);
    const int st = sqlite3_step(s[R_LOOKUP]) == SQLITE_ROW ? sqlite3_column_int(s[R_LOOKUP], 0) : -1;
    sqlite3_reset(s[R_LOOKUP]);
    return st;
  }
  // BEGIN IMMEDIATE; SELECT state; UPDATE ...; COMMIT.  Returns true if it completed.
  bool complete(std::uint64_t idx, const std::uint8_t* data, std::size_t len) {
    const auto k = key(idx);
    for (;;) {  // only under contention (section 2): BEGIN IMMEDIATE gave up after the busy timeout
      const int rc = sqlite3_step(s[R_BEGIN]);
      sqlite3_reset(s[R_BEGIN]);
      if (rc == SQLITE_DONE) break;
      if ((rc & 0xff) != SQLITE_BUSY) fail("raw: BEGIN IMMEDIATE: %s", sqlite3_errmsg(db));
      g_raw_busy.fetch_add(1);
    }
    const bool pending = state(k) == 0;
    if (pending) {
      if (len <= 64 * 1024) {
        sqlite3_bind_int64(s[R_UPDATE], 1, k);
        sqlite3_bind_blob64(s[R_UPDATE], 2, data, len, SQLITE_STATIC);
        run(R_UPDATE);
      } else {
        sqlite3_bind_int64(s[R_UPDATE_ZERO], 1, k);
        sqlite3_bind_int64(s[R_UPDATE_ZERO], 2, static_cast<std::int64_t>(len));
        run(R_UPDATE_ZERO);
        sqlite3_blob* b = nullptr;
        int rc = sqlite3_blob_open(db, "main", "oplog", "payload", k, 1, &b);
        constexpr std::size_t kChunk = 8u << 20;
        for (std::size_t off = 0; off < len && rc == SQLITE_OK; off += kChunk)
          rc = sqlite3_blob_write(b, data + off, static_cast<int>(std::min(kChunk, len - off)), static_cast<int>(off));
        const int crc = sqlite3_blob_close(b);
        check_sql(db, rc == SQLITE_OK ? crc : rc, "raw blob write");
      }
    }
    run(R_COMMIT);
    return pending;
  }
  // A host-level poll of a completed promise with a small payload: BEGIN; SELECT ...; COMMIT.
  std::size_t poll_small(std::uint64_t idx) {
    run(R_BEGIN_READ);
    sqlite3_stmt* q = s[R_LOOKUP_PAYLOAD];
    sqlite3_bind_int64(q, 1, key(idx));
    if (sqlite3_step(q) != SQLITE_ROW || sqlite3_column_int(q, 0) != 1) fail("raw poll: not completed");
    const auto len = static_cast<std::size_t>(sqlite3_column_int64(q, 1));
    auto* out = static_cast<std::uint8_t*>(std::malloc(len ? len : 1));  // as the core: a malloc'd copy
    if (!out) fail("raw: malloc");
    if (len) std::memcpy(out, sqlite3_column_blob(q, 2), len);
    sqlite3_reset(q);
    run(R_COMMIT);
    std::free(out);
    return len;
  }
  // The host-level await's read of a large completed payload: BEGIN; SELECT ...; blob read; COMMIT.
  std::uint8_t* read_large(std::uint64_t idx, std::size_t* len) {
    const auto k = key(idx);
    run(R_BEGIN_READ);
    sqlite3_stmt* q = s[R_LOOKUP_PAYLOAD];
    sqlite3_bind_int64(q, 1, k);
    if (sqlite3_step(q) != SQLITE_ROW || sqlite3_column_int(q, 0) != 1) fail("raw: payload not completed");
    *len = static_cast<std::size_t>(sqlite3_column_int64(q, 1));
    sqlite3_reset(q);
    auto* out = static_cast<std::uint8_t*>(std::malloc(*len));
    if (!out) fail("raw: malloc");
    sqlite3_blob* b = nullptr;
    int rc = sqlite3_blob_open(db, "main", "oplog", "payload", k, 0, &b);
    if (rc == SQLITE_OK) rc = sqlite3_blob_read(b, out, static_cast<int>(*len), 0);
    const int crc = sqlite3_blob_close(b);
    check_sql(db, rc == SQLITE_OK ? crc : rc, "raw blob read");
    run(R_COMMIT);
    return out;
  }
};

// Opens a host with tracing on and keeps the pragmas it sets (PRAGMA x = y) for Raw.
void capture_pragmas(const std::string& path, int synchronous) {
  if (!g_open_pragmas[synchronous].empty()) return;
  tracing(true);
  g_trace.clear();
  g_trace_on = true;
  gp_host* h = open_host(path, synchronous);
  g_trace_on = false;
  gp_host_close(&h);
  tracing(false);
  for (const auto& s : g_trace)
    if (s.rfind("PRAGMA", 0) == 0 && s.find('=') != std::string::npos) g_open_pragmas[synchronous].push_back(s);
  g_trace.clear();
  if (synchronous == GP_SYNCHRONOUS_FULL) {
    // A FULL host commits at NORMAL and syncs the WAL after the COMMIT, in a sync shared by all
    // processes (core/wal_sync.hpp).  Raw SQLite gets SQLite's own FULL, an fdatasync of the
    // WAL inside every COMMIT: the same one sync per sequential completion, the same data.
    for (auto& p : g_open_pragmas[synchronous])
      if (p == "PRAGMA synchronous = NORMAL") p = "PRAGMA synchronous = FULL";
  }
}

// The core's own counters in <db>-gpwake (core/wal_sync.cpp: words from 1536 on): numbered
// write transactions, and fdatasyncs of the WAL made by FULL hosts' shared sync.
struct SyncCounters {
  std::uint32_t writes = 0, fsyncs = 0;
};
SyncCounters sync_counters(const std::string& db) {
  SyncCounters c;
  const int fd = ::open((db + "-gpwake").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return c;
  std::uint32_t w[16] = {};
  if (::pread(fd, w, sizeof w, 1536 * 4) == static_cast<ssize_t>(sizeof w)) {
    c.writes = w[4];
    c.fsyncs = w[10];
  }
  ::close(fd);
  return c;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

// Checks, by tracing both, that one raw completion runs exactly the statements of one
// gp_host_complete_promise (the second on each connection, after the one-time worker lookup).
void check_raw_matches(const std::string& tpl, int synchronous, std::size_t payload_len) {
  const std::string a = path_in_dir("gp-durable-check-ours.db"), b = path_in_dir("gp-durable-check-raw.db");
  copy_db(tpl, a);
  copy_db(tpl, b);
  std::vector<std::uint8_t> payload(payload_len, 'x');
  tracing(true);
  std::vector<std::string> ours, raw;
  {
    gp_host* h = open_host(a, synchronous);
    int done = 0;
    const gp_promise_id_t p2 = pid_of(2), p3 = pid_of(3);
    check(gp_host_complete_promise(&done, h, &p2, payload.data(), payload.size()), "complete");
    g_trace.clear();
    g_trace_on = true;
    check(gp_host_complete_promise(&done, h, &p3, payload.data(), payload.size()), "complete");
    g_trace_on = false;
    ours.swap(g_trace);
    gp_host_close(&h);
  }
  {
    Raw r(b, synchronous);
    r.complete(2, payload.data(), payload.size());
    g_trace.clear();
    g_trace_on = true;
    r.complete(3, payload.data(), payload.size());
    g_trace_on = false;
    raw.swap(g_trace);
  }
  tracing(false);
  remove_db(a);
  remove_db(b);
  if (ours != raw) {
    std::fprintf(stderr, "gp_bench_durable: raw no longer runs the core's statements for a completion\n  core: %s\n  raw:  %s\n"
                 "update Raw::complete in bench/bench_durable.cpp\n",
                 join(ours, "; ").c_str(), join(raw, "; ").c_str());
    std::_Exit(3);
  }
  std::printf("  checked by tracing: one completion runs, in both: %s\n", join(ours, "; ").c_str());
}

// ------------------------------------------------------------------ forked children

// Runs fn in a forked child and returns the doubles it reports.
std::vector<double> in_child(const std::function<std::vector<double>()>& fn) {
  int p[2];
  if (pipe(p) != 0) fail("pipe");
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    ::close(p[0]);
    auto v = fn();
    const std::uint32_t n = static_cast<std::uint32_t>(v.size());
    write_all(p[1], &n, sizeof n);
    write_all(p[1], v.data(), n * sizeof(double));
    std::fflush(stdout);
    std::_Exit(0);
  }
  ::close(p[1]);
  std::uint32_t n = 0;
  std::vector<double> v;
  if (read_all(p[0], &n, sizeof n)) {
    v.resize(n);
    if (!read_all(p[0], v.data(), n * sizeof(double))) v.clear();
  }
  ::close(p[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || v.empty()) fail("a child process failed (status %d)", status);
  return v;
}

long proc_status_kib(const char* key) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long v = -1;
  const std::size_t kl = std::strlen(key);
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, key, kl) == 0 && line[kl] == ':') v = std::atol(line + kl + 1);
  std::fclose(f);
  return v;
}

// Resets this process's peak RSS (VmHWM) to its current RSS (Linux >= 4.0).
bool reset_peak_rss() {
  const int fd = ::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, "5", 1) == 1;
  ::close(fd);
  return ok;
}

long ru_maxrss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// ------------------------------------------------------------------ section 1: sequential FULL

double g_seq_ours_best = 0;  // for section 2's ratio when section 2 runs alone it measures its own

struct Interleaved {
  std::vector<double> rate[3];  // per block: ours, raw, disk (completes or fdatasyncs per second)
  std::vector<double> ratio;    // per block: ours/raw throughput
  double secs[3] = {0, 0, 0};
  double cpu[3] = {0, 0, 0};    // thread CPU seconds, summed over the blocks
  long n = 0;
};

// Both databases open side by side; blocks of completions alternate between them (and, when
// disk is set, a block of plain 4 KiB write + fdatasync), so the shared disk's drifting fsync
// cost hits all of them alike.
Interleaved interleaved(const std::string& tpl, int sync, long blocks, long block, long warm, bool disk) {
  const std::uint8_t payload[16] = {'d', 'u', 'r', 'a', 'b', 'l', 'e', '-', 'p', 'a', 'y', 'l', 'o', 'a', 'd', '!'};
  const std::string wo = path_in_dir("gp-durable-seq-ours.db"), wr = path_in_dir("gp-durable-seq-raw.db");
  copy_db(tpl, wo);
  copy_db(tpl, wr);
  gp_host* h = open_host(wo, sync);
  auto r = std::make_unique<Raw>(wr, sync);
  const std::string fp = path_in_dir("gp-durable-fsync.tmp");
  const int fd = ::open(fp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("open %s", fp.c_str());
  char page[4096];
  std::memset(page, 'f', sizeof page);
  auto run = [&](int v, long i) {
    if (v == 0) {
      int done = 0;
      const gp_promise_id_t p = pid_of(static_cast<std::uint64_t>(i) + 2);
      check(gp_host_complete_promise(&done, h, &p, payload, sizeof payload), "gp_host_complete_promise");
      if (done != 1) fail("completion returned false");
    } else if (v == 1) {
      if (!r->complete(static_cast<std::uint64_t>(i) + 2, payload, sizeof payload)) fail("raw completion found no pending promise");
    } else {
      write_all(fd, page, sizeof page);
      if (fdatasync(fd) != 0) fail("fdatasync");
    }
  };
  const int kinds = disk ? 3 : 2;
  for (long i = 0; i < warm; ++i)
    for (int v = 0; v < kinds; ++v) run(v, i);
  Interleaved out;
  out.n = blocks * block;
  for (long b = 0; b < blocks; ++b) {
    const long first = warm + b * block;
    double t[3] = {1, 1, 1};
    for (int k = 0; k < kinds; ++k) {
      const int v = (b % 2 && k < 2) ? 1 - k : k;  // alternate which of ours/raw goes first
      const double t0 = now_s(), c0 = cpu_s();
      for (long i = first; i < first + block; ++i) run(v, i);
      t[v] = now_s() - t0;
      out.cpu[v] += cpu_s() - c0;
    }
    for (int v = 0; v < kinds; ++v) out.rate[v].push_back(static_cast<double>(block) / t[v]), out.secs[v] += t[v];
    out.ratio.push_back(t[1] / t[0]);
  }
  gp_host_close(&h);
  r.reset();
  ::close(fd);
  ::unlink(fp.c_str());
  remove_db(wo);
  remove_db(wr);
  return out;
}

void section_sequential() {
  std::printf("\n== 1. durable completes per second, sequential, synchronous FULL, file host\n");
  const long block = cfg.quick ? 25 : 100, blocks = std::max(2L, cfg.seq_n / block), warm = std::max(10L, block / 2);
  const long total = warm + blocks * block;
  const std::string tpl = path_in_dir("gp-durable-seq-template.db");
  populate(tpl, total + 2);
  for (int sync : {GP_SYNCHRONOUS_NORMAL, GP_SYNCHRONOUS_FULL}) {
    capture_pragmas(path_in_dir("gp-durable-pragmas.db"), sync);
    remove_db(path_in_dir("gp-durable-pragmas.db"));
  }
  std::printf("  raw SQLite: same connection flags, busy timeout and pragmas (%s), prepared statements,\n"
              "  on a copy of the same database file (the core's schema and rows); golem-promise FULL commits at\n"
              "  NORMAL and then fdatasyncs the WAL (shared across processes), raw SQLite FULL fsyncs inside COMMIT\n",
              join(g_open_pragmas[GP_SYNCHRONOUS_FULL], ", ").c_str());
  check_raw_matches(tpl, GP_SYNCHRONOUS_FULL, 16);
  const auto full = interleaved(tpl, GP_SYNCHRONOUS_FULL, blocks, block, warm, true);
  // The same without fsyncs: what the core adds per completion in CPU and system calls.
  const long nblocks = cfg.quick ? 4 : 40, nblock = cfg.quick ? 50 : 250;
  const std::string tpl2 = path_in_dir("gp-durable-seq-template2.db");
  populate(tpl2, warm + nblocks * nblock + 2);
  const auto normal = interleaved(tpl2, GP_SYNCHRONOUS_NORMAL, nblocks, nblock, warm, false);
  remove_db(tpl);
  remove_db(tpl2);

  const auto o = summarize(full.rate[0], true), rr = summarize(full.rate[1], true), f = summarize(full.rate[2], true);
  const auto q = summarize(full.ratio, true);
  const double n = static_cast<double>(full.n);
  g_seq_ours_best = o.best;
  std::printf("  %ld blocks of %ld completes for each (after %ld warm-up completes), blocks interleaved; 16-byte payload\n",
              blocks, block, warm);
  std::printf("  %-44s %10s %10s %12s %12s\n", "", "overall /s", "best /s", "median /s", "us/op (med)");
  const char* const names[3] = {"golem-promise gp_host_complete_promise", "raw SQLite, same statements and settings",
                                "disk: 4 KiB write + fdatasync (no SQLite)"};
  const Summary* sm[3] = {&o, &rr, &f};
  for (int v = 0; v < 3; ++v)
    std::printf("  %-44s %10.0f %10.0f %12.0f %12.1f\n", names[v], n / full.secs[v], sm[v]->best, sm[v]->median,
                1e6 / sm[v]->median);
  const double overall = full.secs[1] / full.secs[0];
  std::printf("  ours/raw: %.0f%% overall, %.0f%% median of the per-block ratios (best block %.0f%%, worst %.0f%%);\n"
              "  target >= 85%%: %s\n",
              100 * overall, 100 * q.median, 100 * q.best, 100 * q.worst, q.median >= 0.85 ? "met" : "NOT met");
  const auto no = summarize(normal.rate[0], true), nr = summarize(normal.rate[1], true), nq = summarize(normal.ratio, true);
  const double nn = static_cast<double>(normal.n);
  const double cpu_ours = 1e6 * normal.cpu[0] / nn, cpu_raw = 1e6 * normal.cpu[1] / nn, extra_us = cpu_ours - cpu_raw;
  std::printf("  CPU time per completion (this thread, user + system), FULL: ours %.1f us, raw %.1f us\n",
              1e6 * full.cpu[0] / n, 1e6 * full.cpu[1] / n);
  std::printf("  same with synchronous NORMAL (no fsync per commit; %ld blocks of %ld): ours %.0f/s (median block),\n"
              "  raw %.0f/s, ours/raw %.0f%% median (best block %.0f%%); CPU time per completion: ours %.1f us,\n"
              "  raw %.1f us: the core adds %.1f us, which at the median FULL raw rate (%.0f us/op) predicts\n"
              "  ours/raw = %.0f%% for FULL on an otherwise idle machine\n",
              nblocks, nblock, no.median, nr.median, 100 * nq.median, 100 * nq.best, cpu_ours, cpu_raw, extra_us,
              1e6 / rr.median, 100 * (1e6 / rr.median) / (1e6 / rr.median + extra_us));
  std::printf("RESULT durable seq_full ours_overall=%.0f ours_best=%.0f ours_median=%.0f raw_overall=%.0f raw_best=%.0f "
              "raw_median=%.0f ratio_overall=%.3f ratio_median=%.3f fsync_median=%.0f normal_ours_median=%.0f "
              "normal_raw_median=%.0f normal_ratio_median=%.3f extra_us=%.1f cpu_ours_us=%.1f cpu_raw_us=%.1f blocks=%ld block=%ld\n",
              n / full.secs[0], o.best, o.median, n / full.secs[1], rr.best, rr.median, overall, q.median, f.median,
              no.median, nr.median, nq.median, extra_us, cpu_ours, cpu_raw, blocks, block);
  std::fflush(stdout);
}

// ------------------------------------------------------------------ section 2: 16 concurrent completers

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

// ------------------------------------------------------------------ section 3: wake-up latency

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

// ------------------------------------------------------------------ section 4: large payloads

void fill_payload(std::uint8_t* p, std::size_t n) {
  std::uint64_t s = 42;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const std::uint64_t v = splitmix(s);
    std::memcpy(p + i, &v, 8);
  }
  for (; i < n; ++i) p[i] = static_cast<std::uint8_t>(i);
}

bool payload_ok(const std::uint8_t* p, std::size_t n) {
  std::uint64_t s = 42;
  for (std::size_t i = 0; i + 8 <= n; i += 8) {
    const std::uint64_t v = splitmix(s);
    if (std::memcmp(p + i, &v, 8) != 0) return false;
  }
  return true;
}

// What a payload child reports: seconds of its timed part, and RSS in KiB.
enum { K_SECS, K_BASE, K_AFTER_ALLOC, K_PEAK, K_MAXRSS, K_SECS2, K_COUNT };

// The child's RSS before its own buffers and its peak (VmHWM reset after opening the host).
struct RssProbe {
  double base = 0;
  RssProbe() {
    if (!reset_peak_rss()) fail("cannot reset peak RSS (/proc/self/clear_refs)");
    base = static_cast<double>(proc_status_kib("VmRSS"));
  }
  static double peak() { return static_cast<double>(proc_status_kib("VmHWM")); }
};

std::uint8_t* alloc_payload(std::size_t n) {
  auto* p = static_cast<std::uint8_t*>(std::malloc(n));
  if (!p) fail("malloc %zu", n);
  fill_payload(p, n);
  return p;
}

void section_payload() {
  const std::size_t len = cfg.payload_mib << 20;
  std::printf("\n== 4. %zu MiB payload: complete and await on a file host (each step in a fresh forked child)\n",
              cfg.payload_mib);
  const double mib = static_cast<double>(len) / (1 << 20);
  const std::string tpl = path_in_dir("gp-durable-big-template.db");
  const std::string work = path_in_dir("gp-durable-big.db");
  const std::string plain = path_in_dir("gp-durable-big.bin");
  populate(tpl, 2);
  for (int sync : {GP_SYNCHRONOUS_NORMAL, GP_SYNCHRONOUS_FULL}) {
    capture_pragmas(path_in_dir("gp-durable-pragmas.db"), sync);
    remove_db(path_in_dir("gp-durable-pragmas.db"));
  }
  // Results by name; each vector holds one value per repeat.
  enum { C_OURS, A_OURS, CA_OURS, C_RAW, A_RAW, W_FILE, R_FILE, NK };
  const char* const names[NK] = {
      "golem-promise complete (child A)",    "golem-promise await (child B)",
      "golem-promise complete+await (C)",    "raw SQLite complete, same statements",
      "raw SQLite read (BEGIN; SELECT; blob)", "plain file write (+ fdatasync if FULL)",
      "plain file read (page cache)",
  };
  for (int sync : {GP_SYNCHRONOUS_NORMAL, GP_SYNCHRONOUS_FULL}) {
    std::vector<double> mbs[NK], over[NK], peak[NK], base[NK], maxrss[NK];
    for (int rep = 0; rep < cfg.payload_repeats; ++rep) {
      // A: complete in one process, B: await in another (the cross-process use).
      copy_db(tpl, work);
      auto a = in_child([&] {
        gp_host* h = open_host(work, sync);
        RssProbe probe;
        auto* buf = alloc_payload(len);
        const double after = static_cast<double>(proc_status_kib("VmRSS"));
        const auto p = pid_of(2);
        int done = 0;
        const double t0 = now_s();
        check(gp_host_complete_promise(&done, h, &p, buf, len), "gp_host_complete_promise (large)");
        const double t1 = now_s();
        if (done != 1) fail("large completion returned false");
        const double pk = RssProbe::peak();
        gp_host_close(&h);
        std::free(buf);
        return std::vector<double>{t1 - t0, probe.base, after, pk, static_cast<double>(ru_maxrss_kib()), 0};
      });
      auto b = in_child([&] {
        gp_host* h = open_host(work, sync);
        RssProbe probe;
        const auto p = pid_of(2);
        gp_bytes_t out{nullptr, 0};
        const double t0 = now_s();
        check(gp_host_await_promise(&out, h, &p, 60000), "gp_host_await_promise (large)");
        const double t1 = now_s();
        const double pk = RssProbe::peak();
        if (out.len != len || !payload_ok(out.data, out.len)) fail("large await returned other bytes");
        gp_bytes_free(&out);
        gp_host_close(&h);
        return std::vector<double>{t1 - t0, probe.base, probe.base, pk, static_cast<double>(ru_maxrss_kib()), 0};
      });
      remove_db(work);
      // C: complete, free the input, await, in one process (the peak the issue bounds).
      copy_db(tpl, work);
      auto c = in_child([&] {
        gp_host* h = open_host(work, sync);
        RssProbe probe;
        auto* buf = alloc_payload(len);
        const double after = static_cast<double>(proc_status_kib("VmRSS"));
        const auto p = pid_of(2);
        int done = 0;
        const double t0 = now_s();
        check(gp_host_complete_promise(&done, h, &p, buf, len), "gp_host_complete_promise (large)");
        const double t1 = now_s();
        std::free(buf);
        gp_bytes_t out{nullptr, 0};
        check(gp_host_await_promise(&out, h, &p, 60000), "gp_host_await_promise (large)");
        const double t2 = now_s();
        const double pk = RssProbe::peak();
        if (out.len != len || !payload_ok(out.data, out.len)) fail("large await returned other bytes");
        gp_bytes_free(&out);
        gp_host_close(&h);
        return std::vector<double>{t1 - t0, probe.base, after, pk, static_cast<double>(ru_maxrss_kib()), t2 - t1};
      });
      remove_db(work);
      // Raw SQLite: the same statements and blob I/O, complete and read in separate children.
      copy_db(tpl, work);
      auto rc = in_child([&] {
        Raw r(work, sync);
        RssProbe probe;
        auto* buf = alloc_payload(len);
        const double after = static_cast<double>(proc_status_kib("VmRSS"));
        const double t0 = now_s();
        if (!r.complete(2, buf, len)) fail("raw large completion found no pending promise");
        const double t1 = now_s();
        const double pk = RssProbe::peak();
        std::free(buf);
        return std::vector<double>{t1 - t0, probe.base, after, pk, static_cast<double>(ru_maxrss_kib()), 0};
      });
      auto ra = in_child([&] {
        Raw r(work, sync);
        RssProbe probe;
        std::size_t n = 0;
        const double t0 = now_s();
        auto* out = r.read_large(2, &n);
        const double t1 = now_s();
        const double pk = RssProbe::peak();
        if (n != len || !payload_ok(out, n)) fail("raw large read returned other bytes");
        std::free(out);
        return std::vector<double>{t1 - t0, probe.base, probe.base, pk, static_cast<double>(ru_maxrss_kib()), 0};
      });
      remove_db(work);
      // Plain file: the bytes once, written in 8 MiB chunks, then read back.
      auto fw = in_child([&] {
        RssProbe probe;
        auto* buf = alloc_payload(len);
        const double after = static_cast<double>(proc_status_kib("VmRSS"));
        const double t0 = now_s();
        const int fd = ::open(plain.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) fail("open %s", plain.c_str());
        for (std::size_t off = 0; off < len; off += 8u << 20) write_all(fd, buf + off, std::min<std::size_t>(8u << 20, len - off));
        if (sync == GP_SYNCHRONOUS_FULL && fdatasync(fd) != 0) fail("fdatasync");
        ::close(fd);
        const double t1 = now_s();
        std::free(buf);
        return std::vector<double>{t1 - t0, probe.base, after, RssProbe::peak(), static_cast<double>(ru_maxrss_kib()), 0};
      });
      auto fr = in_child([&] {
        RssProbe probe;
        const double t0 = now_s();
        auto* buf = static_cast<std::uint8_t*>(std::malloc(len));
        const int fd = ::open(plain.c_str(), O_RDONLY | O_CLOEXEC);
        if (!buf || fd < 0) fail("open %s", plain.c_str());
        if (!read_all(fd, buf, len)) fail("read %s", plain.c_str());
        ::close(fd);
        const double t1 = now_s();
        if (!payload_ok(buf, len)) fail("plain file read back other bytes");
        std::free(buf);
        return std::vector<double>{t1 - t0, probe.base, probe.base, RssProbe::peak(), static_cast<double>(ru_maxrss_kib()), 0};
      });
      ::unlink(plain.c_str());
      const std::vector<double>* res[NK] = {&a, &b, &c, &rc, &ra, &fw, &fr};
      for (int k = 0; k < NK; ++k) {
        const auto& v = *res[k];
        mbs[k].push_back(mib / v[K_SECS]);
        // The library's (or SQLite's) own memory: peak minus the RSS before the child's own
        // buffers, minus those buffers (the input while completing, the returned output).
        over[k].push_back((v[K_PEAK] - v[K_BASE]) / 1024 - mib);  // each child holds one payload-sized buffer
        peak[k].push_back(v[K_PEAK] / 1024);
        base[k].push_back(v[K_BASE] / 1024);
        maxrss[k].push_back(v[K_MAXRSS] / 1024);
      }
      mbs[CA_OURS].back() = mib / c[K_SECS2];  // C's rate: its await (its complete is as A)
    }
    std::printf("  synchronous %s, %d repeats; MB/s = MiB of payload per second of the call; RSS in MiB\n", sync_name(sync),
                cfg.payload_repeats);
    std::printf("  %-40s %9s %9s %9s %9s %11s %11s\n", "", "MiB/s best", "(median)", "base RSS", "peak RSS",
                "peak-base", "- buffers");
    for (int k = 0; k < NK; ++k) {
      const auto m = summarize(mbs[k], true);
      const double pk = summarize(peak[k], false).worst, bs = summarize(base[k], false).median;
      const double ov = summarize(over[k], false).worst;
      std::printf("  %-40s %9.0f %9.0f %9.1f %9.1f %11.1f %11.1f\n", names[k], m.best, m.median, bs, pk,
                  ov + mib, ov);
    }
    const auto ca_peak_over_base = summarize(over[CA_OURS], false).worst + mib;  // peak - base of child C
    const bool ok = ca_peak_over_base < mib + 32;
    std::printf("  (C's MiB/s is its await; \"- buffers\" subtracts one payload-sized buffer of the caller: the input\n"
                "   while completing, the returned payload while awaiting; C frees its input before awaiting.)\n");
    std::printf("  target: peak of complete + await (child C) - base RSS < payload + 32 MiB: %.1f MiB vs %.0f MiB: %s\n",
                ca_peak_over_base, mib + 32, ok ? "met" : "NOT met");
    std::printf("  ru_maxrss of child C (includes the parent's RSS at fork): %.1f MiB\n", summarize(maxrss[CA_OURS], false).worst);
    const auto ca = summarize(mbs[C_OURS], true), aa = summarize(mbs[A_OURS], true);
    const auto cr = summarize(mbs[C_RAW], true), ar = summarize(mbs[A_RAW], true);
    const auto wf = summarize(mbs[W_FILE], true), rf = summarize(mbs[R_FILE], true);
    std::printf("  ours/raw SQLite (median): complete %.0f%%, await %.0f%%; ours/plain file: complete %.0f%%, await %.0f%%\n",
                100 * ca.median / cr.median, 100 * aa.median / ar.median, 100 * ca.median / wf.median,
                100 * aa.median / rf.median);
    std::printf("RESULT durable payload_%s mib=%.0f complete_mibs_best=%.0f complete_mibs_median=%.0f await_mibs_best=%.0f "
                "await_mibs_median=%.0f raw_complete_mibs_median=%.0f raw_read_mibs_median=%.0f file_write_mibs_median=%.0f "
                "file_read_mibs_median=%.0f complete_over_mib=%.1f await_over_mib=%.1f ca_peak_minus_base_mib=%.1f "
                "raw_complete_over_mib=%.1f raw_read_over_mib=%.1f\n",
                sync == GP_SYNCHRONOUS_FULL ? "full" : "normal", mib, ca.best, ca.median, aa.best, aa.median, cr.median,
                ar.median, wf.median, rf.median, summarize(over[C_OURS], false).worst, summarize(over[A_OURS], false).worst,
                ca_peak_over_base, summarize(over[C_RAW], false).worst, summarize(over[A_RAW], false).worst);
    std::fflush(stdout);
  }
  remove_db(tpl);
}

// ------------------------------------------------------------------ section 5: scaling with stored promises

// The schema text of a database (what the core created), for comparing layouts: the core keeps
// user_version at 1 while the layout is still changing before a release.
std::string schema_sql(sqlite3* db) {
  std::string out;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT coalesce(sql, '') FROM sqlite_master ORDER BY type, name", -1, &s, nullptr) == SQLITE_OK)
    while (sqlite3_step(s) == SQLITE_ROW) out += reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), out += ";\n";
  sqlite3_finalize(s);
  return out;
}

const std::string& fresh_schema_sql() {
  static const std::string sql = [] {
    const std::string p = path_in_dir("gp-durable-schema-probe.db");
    populate(p, 1);
    sqlite3* db = nullptr;
    sqlite3_open_v2(p.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
    std::string out = schema_sql(db);
    sqlite3_close(db);
    remove_db(p);
    return out;
  }();
  return sql;
}

// A populated file kept across runs: valid if its schema is the one the core creates now, the core
// opens it, and it holds exactly n pending promises of one worker whose oplog ends at n + 1.
std::string stored_template(long n) {
  const std::string p = path_in_dir("gp-durable-stored-" + std::to_string(n) + ".db");
  std::string why = "no such file";
  if (file_exists(p) && file_exists(p + "-wal")) why = "it has a WAL file (left by an interrupted run)";
  if (file_exists(p) && !file_exists(p + "-wal")) {
    sqlite3* db = nullptr;
    why = "";
    // Read-write (nothing is written): a read-only connection to a WAL database would leave an
    // empty -wal and -shm behind, which the next run would take for an interrupted one.
    if (sqlite3_open_v2(p.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) why = "cannot open it";
    auto q = [&](const char* sql) -> long long {
      sqlite3_stmt* s = nullptr;
      long long v = -1;
      if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
      sqlite3_finalize(s);
      return v;
    };
    if (why.empty() && schema_sql(db) != fresh_schema_sql()) why = "its schema differs from the one the core creates now";
    if (why.empty() && (q("SELECT count(*) FROM oplog WHERE state = 0") != n || q("SELECT count(*) FROM oplog WHERE state IS NOT NULL") != n ||
                        q("SELECT max(idx) FROM oplog") != n + 1 || q("SELECT count(*) FROM workers") != 1))
      why = "its rows are not n pending promises of one worker";
    sqlite3_close(db);
    if (why.empty()) {  // and the core accepts its schema (GP_ESCHEMA when it was written by an older layout)
      gp_host_options_t o;
      std::memset(&o, 0, sizeof o);
      o.version = GP_HOST_OPTIONS_VERSION;
      const std::string probe = path_in_dir("gp-durable-stored-probe.db");
      copy_db(p, probe);
      gp_host* h = nullptr;
      const int rc = gp_host_open(&h, probe.c_str(), &o);
      if (rc != GP_OK) why = std::string("the core refuses it: ") + gp_last_error_message();
      gp_host_close(&h);
      remove_db(probe);
    }
    if (why.empty()) {
      std::printf("  reusing %s (%ld promises)\n", p.c_str(), n);
      return p;
    }
  }
  std::printf("  not reusing %s: %s\n", p.c_str(), why.c_str());
  std::printf("  populating %s with %ld promises through the C ABI (synchronous NORMAL; kept for later runs)\n", p.c_str(), n);
  std::fflush(stdout);
  const double t0 = now_s();
  populate(p + ".tmp", n, true);
  remove_db(p);
  if (std::rename((p + ".tmp").c_str(), p.c_str()) != 0) fail("rename %s", p.c_str());
  remove_db(p + ".tmp");
  std::printf("  populated in %.1f s\n", now_s() - t0);
  return p;
}

enum { OP_CREATE, OP_COMPLETE, OP_RAW_COMPLETE, OP_AWAIT, OP_POLL, OP_RAW_POLL, OP_WAWAIT, OP_COUNT };
const char* const kOpName[OP_COUNT] = {"create (worker)",         "complete (host)",
                                       "  raw SQLite complete",   "await (host, completed)",
                                       "poll (host, completed)",  "  raw SQLite poll",
                                       "await (worker, completed)"};
const char* const kOpKey[OP_COUNT] = {"create", "complete", "raw_complete", "await", "poll", "raw_poll", "worker_await"};
// The golem-promise operations (the raw ones are their references, not part of the target).
bool is_ours(int op) { return op != OP_RAW_COMPLETE && op != OP_RAW_POLL; }

// One store of section 5: a fresh copy of a populated file, a host and its worker on it, a raw
// connection to the same file, and the random stored promises each side will use.
struct Store {
  long n;
  std::string work;
  gp_host* h = nullptr;
  gp_worker* w = nullptr;
  std::unique_ptr<Raw> raw;
  std::vector<std::uint64_t> pick;  // [0, k + warm): ours; [k + warm, 2 (k + warm)): raw
  long k, warm;
  std::vector<double> us;           // per op: wall, thread CPU, waiting for a CPU (us/op)
  double cpu_last = 0, pcpu_last = 0, rq_last = 0;

  Store(const std::string& tpl, long n_, int which, std::uint64_t seed) : n(n_) {
    work = path_in_dir("gp-durable-stored-work-" + std::to_string(which) + ".db");
    copy_db(tpl, work);
    h = open_host(work, GP_SYNCHRONOUS_NORMAL);
    const gp_worker_id_t wid = bench_worker();
    check(gp_worker_open_v2(&w, h, &wid, GP_WORKER_OPEN_LIVE), "gp_worker_open_v2");
    raw = std::make_unique<Raw>(work, GP_SYNCHRONOUS_NORMAL);  // a second connection to the same file
    k = cfg.scale_ops;
    warm = std::max(20L, k / 10);
    // Distinct random stored promises: warm-up ones first, then the timed ones.
    std::vector<std::uint32_t> all(static_cast<std::size_t>(n));
    for (long i = 0; i < n; ++i) all[static_cast<std::size_t>(i)] = static_cast<std::uint32_t>(i + 2);
    std::uint64_t st = seed;
    for (long i = 0; i < 2 * (k + warm); ++i) {
      const auto j = static_cast<std::size_t>(i) + splitmix(st) % static_cast<std::uint64_t>(n - i);
      std::swap(all[static_cast<std::size_t>(i)], all[j]);
      pick.push_back(all[static_cast<std::size_t>(i)]);
    }
    us.assign(3 * OP_COUNT, 0);
  }
  ~Store() {
    raw.reset();
    gp_worker_close(&w);
    gp_host_close(&h);
    remove_db(work);
  }
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // count operations of kind op on the promises from `from` on; returns wall us/op.
  double run(int op, long from, long count) {
    static const std::uint8_t payload[16] = {'s', 't', 'o', 'r', 'e', 'd', '-', 'p', 'r', 'o', 'm', 'i', 's', 'e', 's', '!'};
    if (!is_ours(op)) from += k + warm;
    const double t0 = now_s(), c0 = cpu_s(), p0 = process_cpu_s(), r0 = runqueue_s();
    for (long i = from; i < from + count; ++i) {
      const gp_promise_id_t p = pid_of(pick[static_cast<std::size_t>(i)]);
      gp_bytes_t out{nullptr, 0};
      int flag = 0;
      switch (op) {
        case OP_CREATE: {
          gp_promise_id_t np;
          check(gp_worker_create_promise(&np, w), "gp_worker_create_promise");
          break;
        }
        case OP_COMPLETE:
          check(gp_host_complete_promise(&flag, h, &p, payload, sizeof payload), "gp_host_complete_promise");
          if (flag != 1) fail("complete returned false");
          break;
        case OP_AWAIT:
          check(gp_host_await_promise(&out, h, &p, 0), "gp_host_await_promise");
          break;
        case OP_POLL:
          check(gp_host_poll_promise(&out, &flag, h, &p), "gp_host_poll_promise");
          if (flag != 1) fail("poll: not ready");
          break;
        case OP_WAWAIT:
          check(gp_worker_await_promise(&out, w, &p, 0), "gp_worker_await_promise");
          break;
        case OP_RAW_COMPLETE:
          if (!raw->complete(p.oplog_idx, payload, sizeof payload)) fail("raw complete: not pending");
          break;
        case OP_RAW_POLL:
          if (raw->poll_small(p.oplog_idx) != sizeof payload) fail("raw poll: wrong length");
          break;
      }
      gp_bytes_free(&out);
    }
    cpu_last = (cpu_s() - c0) * 1e6 / static_cast<double>(count);
    pcpu_last = (process_cpu_s() - p0) * 1e6 / static_cast<double>(count);
    rq_last = (runqueue_s() - r0) * 1e6 / static_cast<double>(count);
    return (now_s() - t0) * 1e6 / static_cast<double>(count);
  }

  // Untimed: empties the WAL, so no kind of operation pays for (or gets a head start from) the
  // checkpoints of the writes of the one before.  The core's background checkpointer may hold
  // the checkpoint lock for a moment: then try again.
  void settle() {
    for (int i = 0; sqlite3_wal_checkpoint_v2(raw->db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr) != SQLITE_OK; ++i) {
      if (i == 5000) fail("raw: the WAL could not be checkpointed: %s", sqlite3_errmsg(raw->db));
      sleep_us(1000);
    }
  }
};

// Per-operation microseconds for both stores (small, large), each (wall, thread CPU, waiting for
// a CPU) x op, and
// last the CPU time per completion of the process's other threads (the core's background
// checkpoints) during the timed completions.  The two stores are open side by side, and blocks
// of each kind of operation alternate between them (and, within a store, between
// golem-promise and its raw SQLite reference), so the machine's drifting load hits all alike.
std::vector<double> scale_once(const std::string& small_tpl, const std::string& large_tpl, std::uint64_t seed) {
  Store st0(small_tpl, cfg.scale_small, 0, seed), st1(large_tpl, cfg.scale_large, 1, seed);
  Store* stores[2] = {&st0, &st1};
  const long k = cfg.scale_ops, warm = st0.warm, block = std::max(10L, k / 10);
  double background = 0;  // CPU us of other threads during the timed completions
  for (int op = 0; op < OP_COUNT; ++op) {
    if (!is_ours(op)) continue;
    const int ref = op == OP_COMPLETE ? OP_RAW_COMPLETE : op == OP_POLL ? OP_RAW_POLL : -1;
    for (auto* st : stores) {
      st->settle();
      st->run(op, 0, warm);
      if (ref >= 0) st->run(ref, 0, warm);
    }
    double sum[2][2] = {}, csum[2][2] = {}, rsum[2][2] = {};  // [store][ours, ref]
    for (long b = 0; b < k; b += block) {
      const long cnt = std::min(block, k - b);
      const double c = static_cast<double>(cnt);
      const long nb = b / block;
      for (int i = 0; i < 2; ++i) {
        const int si = nb % 2 ? 1 - i : i;  // which store goes first alternates too
        Store& st = *stores[si];
        auto timed = [&](int which, int o) {
          sum[si][which] += st.run(o, warm + b, cnt) * c;
          csum[si][which] += st.cpu_last * c;
          rsum[si][which] += st.rq_last * c;
          if (op == OP_COMPLETE) background += (st.pcpu_last - st.cpu_last) * c;
        };
        const bool ref_first = ref >= 0 && (nb / 2) % 2;
        if (ref_first) timed(1, ref);
        timed(0, op);
        if (ref >= 0 && !ref_first) timed(1, ref);
      }
    }
    const auto kk = static_cast<double>(k);
    for (int si = 0; si < 2; ++si) {
      for (int which = 0; which < (ref >= 0 ? 2 : 1); ++which) {
        const auto o = static_cast<std::size_t>(which ? ref : op);
        stores[si]->us[o] = sum[si][which] / kk;
        stores[si]->us[OP_COUNT + o] = csum[si][which] / kk;
        stores[si]->us[2 * OP_COUNT + o] = rsum[si][which] / kk;
      }
    }
  }
  std::vector<double> out = st0.us;
  out.insert(out.end(), st1.us.begin(), st1.us.end());
  out.push_back(background / static_cast<double>(4 * k));  // ours and raw, both stores
  return out;
}

void section_scale() {
  std::printf("\n== 5. per-operation time with %ld and with %ld promises stored (file host, synchronous NORMAL)\n",
              cfg.scale_small, cfg.scale_large);
  capture_pragmas(path_in_dir("gp-durable-pragmas.db"), GP_SYNCHRONOUS_NORMAL);
  remove_db(path_in_dir("gp-durable-pragmas.db"));
  const std::string small = stored_template(cfg.scale_small), large = stored_template(cfg.scale_large);
  std::vector<double> t[2][OP_COUNT], c[2][OP_COUNT], rq[2][OP_COUNT], background;
  for (int rep = 0; rep < cfg.scale_repeats; ++rep) {
    const auto us = scale_once(small, large, 1000 + static_cast<std::uint64_t>(rep));
    for (int s = 0; s < 2; ++s) {
      const auto base = static_cast<std::size_t>(s * 3 * OP_COUNT);
      for (int op = 0; op < OP_COUNT; ++op) {
        t[s][op].push_back(us[base + static_cast<std::size_t>(op)]);
        c[s][op].push_back(us[base + static_cast<std::size_t>(OP_COUNT + op)]);
        rq[s][op].push_back(us[base + static_cast<std::size_t>(2 * OP_COUNT + op)]);
      }
    }
    background.push_back(us.back());
  }
  std::printf("  each repeat: fresh copies of both stored files, open side by side; %ld timed operations of each\n"
              "  kind (after warm-up ones) on distinct random stored promises (create appends new ones), in blocks\n"
              "  alternating between the two stores; %d repeats\n",
              cfg.scale_ops, cfg.scale_repeats);
  std::printf("  %-28s %20s %20s %14s %22s %14s\n", "wall us/op, best (median)", std::to_string(cfg.scale_small).c_str(),
              std::to_string(cfg.scale_large).c_str(), "ratio (median)", "CPU us/op (med): both", "CPU wait (med)");
  bool all_ok = true;
  std::string result;
  for (int op = 0; op < OP_COUNT; ++op) {
    const auto a = summarize(t[0][op], false), b = summarize(t[1][op], false);
    const double ratio = b.median / a.median;
    if (is_ours(op)) all_ok = all_ok && ratio <= 2;
    const double ca = summarize(c[0][op], false).median, cb = summarize(c[1][op], false).median;
    const double ra = summarize(rq[0][op], false).median, rb = summarize(rq[1][op], false).median;
    std::printf("  %-28s %10.1f (%7.1f) %10.1f (%7.1f) %13.2fx %9.1f %6.1f %5.2fx %7.1f %6.1f\n", kOpName[op], a.best,
                a.median, b.best, b.median, ratio, ca, cb, cb / ca, ra, rb);
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  " %s_small_us=%.1f %s_large_us=%.1f %s_ratio=%.2f %s_cpu_small_us=%.1f %s_cpu_large_us=%.1f"
                  " %s_cpuwait_small_us=%.1f %s_cpuwait_large_us=%.1f",
                  kOpKey[op], a.median, kOpKey[op], b.median, kOpKey[op], ratio, kOpKey[op], ca, kOpKey[op], cb, kOpKey[op], ra,
                  kOpKey[op], rb);
    result += buf;
  }
  const double bg = summarize(background, false).median;
  std::printf("  (raw SQLite rows: the same statements on a second connection to the same file, on other random\n"
              "   stored promises, in blocks alternating with golem-promise's: the storage's own cost at each size;\n"
              "   CPU: the calling thread's; CPU wait: its time runnable but waiting for a CPU (schedstat), the\n"
              "   part of the wall time that other processes' load adds; the WAL is checkpointed, untimed,\n"
              "   before each kind of operation)\n"
              "  background checkpoints (the core's thread, copying the pages both connections wrote): %.1f us of\n"
              "  CPU per completion during the timed completions, all four kinds (both stores, ours and raw)\n", bg);
  std::printf("  target: golem-promise operations within 2x: %s\n", all_ok ? "met" : "NOT met");
  std::printf("RESULT durable scale small=%ld large=%ld%s background_cpu_per_complete_us=%.1f\n", cfg.scale_small,
              cfg.scale_large, result.c_str(), bg);
  std::fflush(stdout);
}

// ------------------------------------------------------------------ main

std::string default_dir() {
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return "bench-data";
  exe[n] = 0;
  std::string d(exe);
  d = d.substr(0, d.rfind('/'));  // .../build-bench/bench
  d = d.substr(0, d.rfind('/'));  // .../build-bench
  return d + "/bench-data";
}

void usage() {
  std::puts(
      "usage: gp_bench_durable [--quick] [--dir DIR] [--repeats N] [--only LIST]\n"
      "  --quick       small counts: a smoke test (seconds), figures not meaningful\n"
      "  --dir DIR     where database files go (default: <build>/bench-data; use a disk, not tmpfs);\n"
      "                the populated files of section 5 are kept there and reused\n"
      "  --repeats N   repeats of sections 1-3 (default 5; payload and scaling sections use 3)\n"
      "  --only LIST   comma-separated sections to run: 1 sequential FULL, 2 concurrent,\n"
      "                3 wake-up latency and idle CPU, 4 large payload, 5 stored promises");
}

void print_machine() {
  char model[512] = "?";
  if (FILE* f = std::fopen("/proc/cpuinfo", "r")) {
    char line[512];
    while (std::fgets(line, sizeof line, f))
      if (std::strncmp(line, "model name", 10) == 0) {
        const char* c = std::strchr(line, ':');
        std::snprintf(model, sizeof model, "%s", c ? c + 2 : line);
        model[std::strcspn(model, "\n")] = 0;
        break;
      }
    std::fclose(f);
  }
  char load[128] = "?";
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (!std::fgets(load, sizeof load, f)) std::strcpy(load, "?");
    load[std::strcspn(load, "\n")] = 0;
    std::fclose(f);
  }
  utsname u{};
  uname(&u);
  struct statfs fs {};
  const char* fstype = "?";
  if (statfs(cfg.dir.c_str(), &fs) == 0) {
    fstype = fs.f_type == 0xEF53 ? "ext4" : fs.f_type == 0x01021994 ? "tmpfs (fsync costs nothing: figures not meaningful)" : "other";
  }
  const std::time_t now = std::time(nullptr);
  char date[64];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S %Z", std::localtime(&now));
  std::printf("gp_bench_durable: golem-promise %s, SQLite %s; %s\n", gp_version(), sqlite3_libversion(), date);
  std::printf("machine: %ld CPUs (%s), Linux %s; load average at start: %s\n", sysconf(_SC_NPROCESSORS_ONLN), model,
              u.release, load);
  std::printf("files in %s (%s)%s\n", cfg.dir.c_str(), fstype, cfg.quick ? "; --quick: figures not meaningful" : "");
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "-h" || a == "--help") {
      usage();
      return 0;
    } else if (a == "--quick") {
      cfg.quick = true;
    } else if (a == "--dir" && v) {
      cfg.dir = v, ++i;
    } else if (a == "--repeats" && v) {
      cfg.repeats = std::atoi(v), ++i;
      if (cfg.repeats < 1 || cfg.repeats > 100) fail("--repeats must be 1..100");
    } else if (a == "--only" && v) {
      for (const char* c = v; *c; ++c)
        if (*c >= '1' && *c <= '5') cfg.only |= 1u << (*c - '0');
        else if (*c != ',') fail("--only takes section numbers 1..5, comma-separated");
      ++i;
    } else {
      usage();
      return 1;
    }
  }
  if (cfg.quick) {
    cfg.repeats = std::min(cfg.repeats, 2);
    cfg.seq_n = 100;
    cfg.conc_per = 12;
    cfg.wake_rounds = 40;
    cfg.idle_s = 0.5;
    cfg.payload_mib = 16;
    cfg.payload_repeats = 1;
    cfg.scale_small = 1000;
    cfg.scale_large = 20000;
    cfg.scale_ops = 200;
    cfg.scale_repeats = 1;
  }
  if (cfg.dir.empty()) cfg.dir = default_dir();
  ::mkdir(cfg.dir.c_str(), 0755);
  if (!file_exists(cfg.dir)) fail("cannot create directory %s", cfg.dir.c_str());
  setvbuf(stdout, nullptr, _IOLBF, 0);
  print_machine();
  auto want = [](int s) { return cfg.only == 0 || (cfg.only & (1u << s)); };
  if (want(1)) section_sequential();
  if (want(2)) section_concurrent();
  if (want(3)) section_wake();
  if (want(4)) section_payload();
  if (want(5)) section_scale();
  return 0;
}
