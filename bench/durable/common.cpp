// gp_bench_durable's shared part: configuration, small helpers, golem-promise helpers, SQL tracing,
// raw SQLite running the core's completion, and forked children (declared in common.hpp).
#include "common.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "golem_promise.h"

namespace gpbench {

// ------------------------------------------------------------------ configuration

namespace {
constexpr const char* kComponent = "1a2b3c4d-0000-4000-8000-00000000d00d";
constexpr const char* kWorkerName = "durable-bench";
}  // namespace

Config cfg;

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

gp_host* open_host(const std::string& path, int synchronous, int fallback_poll_us) {
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
void populate(const std::string& path, long n, bool progress) {
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
std::atomic<long> g_commits{0};

namespace {

std::mutex g_trace_mu;
bool g_trace_on = false;
std::vector<std::string> g_trace;

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

}  // namespace

void tracing(bool on) {
  if (on) {
    sqlite3_auto_extension(reinterpret_cast<void (*)(void)>(trace_ext));
  } else {
    sqlite3_reset_auto_extension();
  }
}

// ------------------------------------------------------------------ raw SQLite: the core's completion

namespace {

// The statements core/promises.cpp (apply_complete, lookup, write_payload) and core/host.cpp
// (group_commit -> run_batch -> WriteTxn) run for a host-level completion on a file host,
// by R_* index (common.hpp).
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

}  // namespace

std::vector<std::string> g_open_pragmas[3];  // by synchronous value: pragmas the core sets when opening
std::atomic<long> g_raw_busy{0};  // raw BEGIN IMMEDIATEs that hit the busy timeout (then retried)

Raw::Raw(const std::string& path, int synchronous) {
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

Raw::~Raw() {
  for (auto* st : s) sqlite3_finalize(st);
  sqlite3_close_v2(db);
}

std::int64_t Raw::key(std::uint64_t idx) const {
  return static_cast<std::int64_t>((static_cast<std::uint64_t>(worker_row) << 40) | idx);
}

void Raw::run(int i) {
  const int rc = sqlite3_step(s[i]);
  sqlite3_reset(s[i]);
  if (rc != SQLITE_DONE) fail("raw: %s: %s", kRawSql[i], sqlite3_errmsg(db));
}

int Raw::state(std::int64_t k) {
  sqlite3_bind_int64(s[R_LOOKUP], 1, k);
  const int st = sqlite3_step(s[R_LOOKUP]) == SQLITE_ROW ? sqlite3_column_int(s[R_LOOKUP], 0) : -1;
  sqlite3_reset(s[R_LOOKUP]);
  return st;
}

// BEGIN IMMEDIATE; SELECT state; UPDATE ...; COMMIT.  Returns true if it completed.
bool Raw::complete(std::uint64_t idx, const std::uint8_t* data, std::size_t len) {
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
std::size_t Raw::poll_small(std::uint64_t idx) {
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
std::uint8_t* Raw::read_large(std::uint64_t idx, std::size_t* len) {
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
                 "update Raw::complete in bench/durable/common.cpp\n",
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

}  // namespace gpbench
