// gp_bench_durable's shared part: configuration, small helpers, golem-promise helpers, SQL tracing,
// raw SQLite running the core's completion, and forked children (definitions in common.cpp).
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "golem_promise.h"

namespace gpbench {

// ------------------------------------------------------------------ configuration

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
};
extern Config cfg;

// ------------------------------------------------------------------ small helpers

[[noreturn]] void fail(const char* fmt, ...);
void check(int rc, const char* what);
void check_sql(sqlite3* db, int rc, const char* what);

std::int64_t mono_ns();
double now_s();
// CPU time of the calling thread (user + system), in seconds: unaffected by waiting for the disk
// or for a CPU that other processes hold.
double cpu_s();
// CPU time of the whole process: the calling thread plus the library's background threads
// (the checkpointer of a file host).
double process_cpu_s();
// Time the calling thread spent runnable but waiting for a CPU (Linux schedstat), in seconds:
// on a shared machine the part of a wall-clock figure that is other processes' doing.
double runqueue_s();
void sleep_us(long us);

void write_all(int fd, const void* p, std::size_t n);
bool read_all(int fd, void* p, std::size_t n);

std::string path_in_dir(const std::string& name);
void remove_db(const std::string& path);
// Copies a closed database file (no WAL) and syncs the copy, so its write-back does not land
// inside a timed run.
void copy_db(const std::string& from, const std::string& to);
bool file_exists(const std::string& p);

struct Summary {
  double best = 0, median = 0, worst = 0;
};

// best = highest for rates (higher_better), lowest for times.
Summary summarize(std::vector<double> v, bool higher_better);
double percentile(std::vector<double> v, double q);
std::uint64_t splitmix(std::uint64_t& s);

// ------------------------------------------------------------------ golem-promise helpers

gp_worker_id_t bench_worker();
gp_promise_id_t pid_of(std::uint64_t idx);
gp_host* open_host(const std::string& path, int synchronous, int fallback_poll_us = 0);
const char* sync_name(int s);
// A fresh file host at path whose bench worker created n pending promises, oplog indexes
// 2..n+1, through the C ABI (synchronous NORMAL: creation is not what is measured).
void populate(const std::string& path, long n, bool progress = false);

// ------------------------------------------------------------------ SQL tracing

// Every connection opened while the auto-extension is registered (ours inside the library and
// raw ones here) reports its statements; used to check that raw runs what the core runs, and
// to count commits.
extern std::atomic<long> g_commits;
void tracing(bool on);

// ------------------------------------------------------------------ raw SQLite: the core's completion

// The statements core/promises.cpp (apply_complete, lookup, write_payload) and core/host.cpp
// (group_commit -> run_batch -> WriteTxn) run for a host-level completion on a file host.
enum { R_BEGIN, R_COMMIT, R_LOOKUP, R_UPDATE, R_UPDATE_ZERO, R_BEGIN_READ, R_LOOKUP_PAYLOAD, R_COUNT };

extern std::vector<std::string> g_open_pragmas[3];  // by synchronous value: pragmas the core sets when opening
extern std::atomic<long> g_raw_busy;  // raw BEGIN IMMEDIATEs that hit the busy timeout (then retried)

struct Raw {
  sqlite3* db = nullptr;
  sqlite3_stmt* s[R_COUNT] = {};
  std::int64_t worker_row = 0;

  Raw(const std::string& path, int synchronous);
  ~Raw();
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;

  std::int64_t key(std::uint64_t idx) const;
  void run(int i);
  int state(std::int64_t k);
  // BEGIN IMMEDIATE; SELECT state; UPDATE ...; COMMIT.  Returns true if it completed.
  bool complete(std::uint64_t idx, const std::uint8_t* data, std::size_t len);
  // A host-level poll of a completed promise with a small payload: BEGIN; SELECT ...; COMMIT.
  std::size_t poll_small(std::uint64_t idx);
  // The host-level await's read of a large completed payload: BEGIN; SELECT ...; blob read; COMMIT.
  std::uint8_t* read_large(std::uint64_t idx, std::size_t* len);
};

// Opens a host with tracing on and keeps the pragmas it sets (PRAGMA x = y) for Raw.
void capture_pragmas(const std::string& path, int synchronous);

// The core's own counters in <db>-gpwake (core/wal_sync.cpp: words from 1536 on): numbered
// write transactions, and fdatasyncs of the WAL made by FULL hosts' shared sync.
struct SyncCounters {
  std::uint32_t writes = 0, fsyncs = 0;
};
SyncCounters sync_counters(const std::string& db);

std::string join(const std::vector<std::string>& v, const char* sep);

// Checks, by tracing both, that one raw completion runs exactly the statements of one
// gp_host_complete_promise (the second on each connection, after the one-time worker lookup).
void check_raw_matches(const std::string& tpl, int synchronous, std::size_t payload_len);

// ------------------------------------------------------------------ forked children

// Runs fn in a forked child and returns the doubles it reports.
std::vector<double> in_child(const std::function<std::vector<double>()>& fn);
long proc_status_kib(const char* key);
// Resets this process's peak RSS (VmHWM) to its current RSS (Linux >= 4.0).
bool reset_peak_rss();
long ru_maxrss_kib();

}  // namespace gpbench
