// Section 5: per-operation time (create, complete, await, poll) with few and with many promises
// stored, next to raw SQLite on the same file; the populated files are kept in --dir and reused.
#include "sections.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common.hpp"
#include "golem_promise.h"

namespace gpbench {

// ------------------------------------------------------------------ section 5: scaling with stored promises

namespace {

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

}  // namespace

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

}  // namespace gpbench
