// Section 1: durable completes per second, sequential, synchronous FULL, on a file host, next to
// raw SQLite running the core's statements with the same settings and a plain write + fdatasync.
#include "sections.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common.hpp"
#include "golem_promise.h"

namespace gpbench {

// ------------------------------------------------------------------ section 1: sequential FULL

namespace {

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

}  // namespace

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

}  // namespace gpbench
