// gp_bench_durable's main: the command line, the machine report, then the sections --only selects
// (each in its own file: sequential, concurrent, wake, payload, scale; shared code in common.cpp).
//
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
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include "common.hpp"
#include "golem_promise.h"
#include "sections.hpp"

namespace gpbench {

// ------------------------------------------------------------------ main

namespace {

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

}  // namespace gpbench

int main(int argc, char** argv) {
  using namespace gpbench;
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
