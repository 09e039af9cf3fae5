/*
 * gp_bench_cycle: throughput of one promise cycle through the C ABI, next to raw SQLite doing
 * the same statements.
 *
 * One cycle = the worker creates a promise, the host completes it with a small payload, the
 * worker awaits it (gp_worker_create_promise + gp_host_complete_promise +
 * gp_worker_await_promise), all on one thread, so the await finds the promise completed.
 *
 * "raw" runs, with sqlite3 prepared statements on one connection, the statements that
 * core/promises.cpp and core/host.cpp run for that cycle, with the same transactions
 * (BEGIN IMMEDIATE ... COMMIT), connection flags and pragmas (WAL + synchronous for files),
 * starting from a copy of a fresh golem-promise database (so the schema is the core's).
 * Before timing, both paths run with every SQL statement traced (sqlite3_auto_extension +
 * sqlite3_trace_v2) and the bench stops if raw no longer runs exactly what the core runs, call by
 * call; for a file it also checks that both databases end with the same rows.
 *
 * The raw oplog blobs are real FlatBuffers entries of the same kinds captured from a
 * golem-promise database, copied per call (with a clock read for the timestamp), not encoded.
 *
 * Usage: see --help.
 * Lines starting with "RESULT" are for scripts (bench/run.sh).
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* strdup */
#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "golem_promise.h"

#define COMPONENT "1a2b3c4d-0000-4000-8000-00000000beef"
#define WORKER_NAME "bench-worker"

enum mode { MODE_MEMORY, MODE_NORMAL, MODE_FULL, MODE_COUNT };
static const char *const kModeName[MODE_COUNT] = {"memory", "file-normal", "file-full"};
static const char *const kModeArg[MODE_COUNT] = {"memory", "normal", "full"};

static struct {
  int repeats;
  long iters[MODE_COUNT];
  size_t payload_len;
  const char *dir;
  int only;            /* -1 = all */
  int profile;         /* -1 = off, else 0 = ours, 1 = raw: one untimed-by-us run (for profilers) */
  int memstatus_off;   /* gp_sqlite_disable_memstatus() first: process-wide, so ours and raw alike */
} cfg = {5, {100000, 20000, 300}, 16, ".", -1, -1, 0};

static uint8_t g_payload[4096];

/* ------------------------------------------------------------------ helpers */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int64_t wall_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what, int code) {
  fprintf(stderr, "gp_bench_cycle: %s failed: %s (%s)\n", what, gp_errstr(code), gp_last_error_message());
  exit(2);
}

static void die_sql(sqlite3 *db, const char *what) {
  fprintf(stderr, "gp_bench_cycle: sqlite: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
  exit(2);
}

static void remove_db(const char *path);

/* Every database file this run names, removed at exit whatever happens. */
static char *g_paths[32];
static int g_npaths;

static void remove_all(void) {
  for (int i = 0; i < g_npaths; ++i) remove_db(g_paths[i]), free(g_paths[i]);
  g_npaths = 0;
}

static void db_path(char *out, size_t n, const char *tag) {
  snprintf(out, n, "%s/gp-bench-%s-%ld.db", cfg.dir, tag, (long)getpid());
  for (int i = 0; i < g_npaths; ++i)
    if (strcmp(g_paths[i], out) == 0) return;
  if (g_npaths == 0) atexit(remove_all);
  if (g_npaths < 32) g_paths[g_npaths++] = strdup(out);
}

static void remove_db(const char *path) {
  static const char *const suffix[] = {"", "-wal", "-shm", "-journal", "-gpwake"};
  char p[4096];
  for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; ++i) {
    snprintf(p, sizeof p, "%s%s", path, suffix[i]);
    if (unlink(p) != 0 && errno != ENOENT) perror(p);
  }
}

static uint64_t fnv1a64(const uint8_t *d, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; ++i) {
    h ^= d[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

/* ------------------------------------------------------------------ statement trace */

/* Every connection opened while the auto-extension is registered reports the SQL of each
 * statement it runs here, so the bench can check that raw runs exactly what the core runs. */
#define TRACE_MAX 65536
static struct {
  int on, n;
  char *sql[TRACE_MAX];
} g_trace;

static int trace_cb(unsigned type, void *ctx, void *stmt, void *x) {
  (void)ctx, (void)stmt;
  if (g_trace.on && type == SQLITE_TRACE_STMT && g_trace.n < TRACE_MAX) g_trace.sql[g_trace.n++] = strdup((const char *)x);
  return 0;
}

static int trace_ext(sqlite3 *db, char **err, const sqlite3_api_routines *api) {
  (void)err, (void)api;
  return sqlite3_trace_v2(db, SQLITE_TRACE_STMT, trace_cb, NULL);
}

static void trace_clear(void) {
  for (int i = 0; i < g_trace.n; ++i) free(g_trace.sql[i]);
  g_trace.n = 0;
}

/* Trace positions around the three calls of one cycle: [call][0] = first, [call][1] = end. */
typedef struct marks {
  int at[3][2];
} marks;
static const char *const kCall[3] = {"create", "complete", "await"};

/* ------------------------------------------------------------------ our path (C ABI) */

typedef struct ours {
  gp_host *host;
  gp_worker *worker;
} ours;

static void ours_open(ours *o, const char *path, enum mode m) {
  gp_host_options_t opts;
  memset(&opts, 0, sizeof opts);
  opts.version = GP_HOST_OPTIONS_VERSION;
  opts.synchronous = m == MODE_FULL ? GP_SYNCHRONOUS_FULL : GP_SYNCHRONOUS_NORMAL;
  int rc = gp_host_open(&o->host, path, &opts);
  if (rc != GP_OK) die("gp_host_open", rc);
  gp_uuid_t comp;
  gp_worker_id_t wid;
  if ((rc = gp_uuid_parse(&comp, COMPONENT)) != GP_OK) die("gp_uuid_parse", rc);
  if ((rc = gp_worker_id_make(&wid, &comp, WORKER_NAME)) != GP_OK) die("gp_worker_id_make", rc);
  if ((rc = gp_worker_open(&o->worker, o->host, &wid)) != GP_OK) die("gp_worker_open", rc);
}

static void ours_close(ours *o) {
  gp_worker_close(&o->worker);
  gp_host_close(&o->host);
}

/* One cycle; mk (may be NULL) receives the trace positions around each call. */
static inline void ours_cycle(ours *o, marks *mk) {
  gp_promise_id_t pid;
  int completed = 0;
  gp_bytes_t got = {NULL, 0};
  if (mk) mk->at[0][0] = g_trace.n;
  int rc = gp_worker_create_promise(&pid, o->worker);
  if (rc != GP_OK) die("gp_worker_create_promise", rc);
  if (mk) mk->at[0][1] = mk->at[1][0] = g_trace.n;
  rc = gp_host_complete_promise(&completed, o->host, &pid, g_payload, cfg.payload_len);
  if (rc != GP_OK || completed != 1) die("gp_host_complete_promise", rc);
  if (mk) mk->at[1][1] = mk->at[2][0] = g_trace.n;
  rc = gp_worker_await_promise(&got, o->worker, &pid, -1);
  if (rc != GP_OK || got.len != cfg.payload_len) die("gp_worker_await_promise", rc);
  if (mk) mk->at[2][1] = g_trace.n;
  gp_bytes_free(&got);
}

__attribute__((noinline)) static void ours_cycles(ours *o, long n) {
  for (long i = 0; i < n; ++i) ours_cycle(o, NULL);
}

/* ------------------------------------------------------------------ raw SQLite */

/* A fresh golem-promise database file with the bench worker opened (schema, the workers row and
 * oplog entry 1).  Every raw database starts as a copy of its schema and rows, so raw always has
 * the core's current schema. */
static char g_template[4096];

/* The pragmas the core set while opening a host and worker of each mode (traced by the check);
 * raw sets the same ones, in the same order, before creating its tables. */
#define PRAGMAS_MAX 16
static char *g_pragmas[MODE_COUNT][PRAGMAS_MAX];
static int g_npragmas[MODE_COUNT];

/* Real FlatBuffers oplog entries of kinds create-promise (2) and await-promise (5). */
static unsigned char g_entry_create[512], g_entry_await[512];
static int g_entry_create_len, g_entry_await_len;

/* The statements of the cycle, spelled exactly as in core/ (the trace check compares them). */
enum {
  S_BEGIN, S_COMMIT, S_DEFERRED_BEGIN, S_NEXT_IDX, S_INS_OPLOG, S_LOOKUP, S_LOOKUP_PAYLOAD,
  S_COMPLETE, S_COMPLETE_PENDING, S_COUNT
};
static const char *const kSql[S_COUNT] = {
    "BEGIN IMMEDIATE",
    "COMMIT",
    "BEGIN",
    "SELECT coalesce(max(key) - ?1, 0) FROM oplog WHERE key BETWEEN ?1 AND ?2",
    "INSERT INTO oplog (key, kind, entry, state) VALUES (?1, ?2, ?3, ?4)",
    "SELECT state FROM oplog WHERE key = ?1 AND state IS NOT NULL",
    "SELECT state, length(payload), CASE WHEN length(payload) <= 65536 THEN payload END "
    "FROM oplog WHERE key = ?1 AND state IS NOT NULL",
    "UPDATE oplog SET state = 1, payload = ?2 WHERE key = ?1",
    "UPDATE oplog SET state = 1, payload = ?2 WHERE key = ?1 AND state = 0",
};

/* An in-memory host keeps one transaction open and commits it once every this many changed rows
 * (kMemoryCommitEvery in core/host.hpp); the check compares the cadence, so a change there shows. */
#define MEMORY_COMMIT_EVERY 1024

typedef struct raw {
  sqlite3 *db;
  sqlite3_stmt *s[S_COUNT];
  int64_t worker;
  int memory;        /* the core caches a worker's next oplog index only in memory */
  int64_t next_idx;  /* that cache */
  int64_t committed; /* memory: sqlite3_total_changes64 at the last deferred commit */
} raw;

static void raw_exec(sqlite3 *db, const char *sql) {
  if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) die_sql(db, sql);
}

static int64_t query_int(sqlite3 *db, const char *sql) {
  sqlite3_stmt *q;
  int64_t v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) die_sql(db, sql);
  if (sqlite3_step(q) == SQLITE_ROW) v = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  return v;
}

/* Creates the template's tables (and indexes) in db and copies their rows. */
static void copy_template(sqlite3 *db) {
  char sql[8192];
  snprintf(sql, sizeof sql, "ATTACH '%s' AS tpl", g_template);
  raw_exec(db, sql);
  raw_exec(db, "BEGIN");
  sqlite3_stmt *q;
  const char *list = "SELECT type, name, sql FROM tpl.sqlite_master WHERE sql NOT NULL "
                     "ORDER BY type = 'index', rowid";
  if (sqlite3_prepare_v2(db, list, -1, &q, NULL) != SQLITE_OK) die_sql(db, list);
  while (sqlite3_step(q) == SQLITE_ROW) {
    raw_exec(db, (const char *)sqlite3_column_text(q, 2));
    if (strcmp((const char *)sqlite3_column_text(q, 0), "table") == 0) {
      snprintf(sql, sizeof sql, "INSERT INTO main.\"%s\" SELECT * FROM tpl.\"%s\"", sqlite3_column_text(q, 1),
               sqlite3_column_text(q, 1));
      raw_exec(db, sql);
    }
  }
  sqlite3_finalize(q);
  raw_exec(db, "COMMIT");
  raw_exec(db, "DETACH tpl");
}

static void raw_open(raw *r, const char *path, enum mode m) {
  memset(r, 0, sizeof *r);
  r->memory = m == MODE_MEMORY;
  /* The flags and busy timeout of Host::open, and the pragmas it ran (traced). */
  if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                                         SQLITE_OPEN_EXRESCODE, NULL) != SQLITE_OK)
    die_sql(r->db, "open");
  sqlite3_extended_result_codes(r->db, 1);
  sqlite3_busy_timeout(r->db, 5000);
  for (int i = 0; i < g_npragmas[m]; ++i) raw_exec(r->db, g_pragmas[m][i]);
  copy_template(r->db);
  for (int i = 0; i < S_COUNT; ++i) {
    if (sqlite3_prepare_v3(r->db, kSql[i], -1, SQLITE_PREPARE_PERSISTENT, &r->s[i], NULL) != SQLITE_OK)
      die_sql(r->db, kSql[i]);
  }
  r->worker = query_int(r->db, "SELECT id FROM workers");
  r->next_idx = query_int(r->db, "SELECT coalesce(max(idx), 0) + 1 FROM oplog");
  if (r->memory) {
    raw_exec(r->db, "BEGIN");
    r->committed = sqlite3_total_changes64(r->db);
  }
}

static void step_done(raw *r, int i) {
  if (sqlite3_step(r->s[i]) != SQLITE_DONE) die_sql(r->db, kSql[i]);
  sqlite3_reset(r->s[i]);
}

/* What sql::Db::cached does before each statement of an in-memory host: commit the open
 * transaction and begin the next once it holds enough changed rows. */
static inline void settle(raw *r) {
  if (!r->memory || sqlite3_total_changes64(r->db) - r->committed < MEMORY_COMMIT_EVERY) return;
  step_done(r, S_COMMIT);
  step_done(r, S_DEFERRED_BEGIN);
  r->committed = sqlite3_total_changes64(r->db);
}

static void raw_close(raw *r) {
  for (int i = 0; i < S_COUNT; ++i) sqlite3_finalize(r->s[i]);
  sqlite3_close_v2(r->db);
}

/* Runs a statement that returns no row. */
static void run(raw *r, int i) {
  settle(r);
  step_done(r, i);
}

static int64_t key_of(raw *r, int64_t idx) { return (int64_t)(((uint64_t)r->worker << 40) | (uint64_t)idx); }

static int64_t next_idx(raw *r) {
  if (r->memory) return r->next_idx;
  settle(r);
  sqlite3_stmt *q = r->s[S_NEXT_IDX];
  sqlite3_bind_int64(q, 1, key_of(r, 0));
  sqlite3_bind_int64(q, 2, key_of(r, ((int64_t)1 << 40) - 1));
  if (sqlite3_step(q) != SQLITE_ROW) die_sql(r->db, kSql[S_NEXT_IDX]);
  const int64_t idx = sqlite3_column_int64(q, 0) + 1;
  sqlite3_reset(q);
  return idx;
}

static void append_entry(raw *r, int64_t idx, int kind, const unsigned char *tmpl, int len) {
  /* Stands in for encode_entry: a real entry of the same kind and size, copied into a fresh
   * buffer; ours reads the clock for the entry's timestamp, so raw does too. */
  unsigned char blob[512];
  memcpy(blob, tmpl, (size_t)len);
  volatile int64_t ts = wall_us();
  (void)ts;
  sqlite3_stmt *q = r->s[S_INS_OPLOG];
  sqlite3_bind_int64(q, 1, key_of(r, idx));
  sqlite3_bind_int64(q, 2, kind);
  sqlite3_bind_blob(q, 3, blob, len, SQLITE_STATIC);
  /* A create-promise entry's row is also the pending promise. */
  if (kind == 2) {
    sqlite3_bind_int64(q, 4, 0);
  } else {
    sqlite3_bind_null(q, 4);
  }
  run(r, S_INS_OPLOG);
  if (r->memory) r->next_idx = idx + 1;
}

/* SELECT state [, length, payload]: returns the state (-1 if no row). */
static int lookup(raw *r, int which, int64_t key) {
  settle(r);
  sqlite3_stmt *q = r->s[which];
  sqlite3_bind_int64(q, 1, key);
  const int state = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : -1;
  if (which == S_LOOKUP) sqlite3_reset(q); /* S_LOOKUP_PAYLOAD: the caller reads, then resets */
  return state;
}

static int64_t raw_create(raw *r) {
  /* One INSERT (the entry's row is the promise); a file wraps the index lookup with it in a
   * write transaction; in memory it runs alone in the open transaction (committed periodically). */
  if (!r->memory) run(r, S_BEGIN);
  const int64_t idx = next_idx(r);
  append_entry(r, idx, 2, g_entry_create, g_entry_create_len);
  if (!r->memory) run(r, S_COMMIT);
  return idx;
}

static void raw_complete(raw *r, int64_t idx, const uint8_t *data, size_t len) {
  const int64_t key = key_of(r, idx);
  if (r->memory) {
    /* In memory the core completes in one statement that only matches a pending row. */
    sqlite3_bind_int64(r->s[S_COMPLETE_PENDING], 1, key);
    sqlite3_bind_blob64(r->s[S_COMPLETE_PENDING], 2, data, len, SQLITE_STATIC);
    run(r, S_COMPLETE_PENDING);
    if (sqlite3_changes(r->db) != 1) die_sql(r->db, "complete: promise not pending");
    return;
  }
  /* On a file: look up and update in one write transaction. */
  run(r, S_BEGIN);
  if (lookup(r, S_LOOKUP, key) != 0) die_sql(r->db, "complete: promise not pending");
  sqlite3_bind_int64(r->s[S_COMPLETE], 1, key);
  sqlite3_bind_blob64(r->s[S_COMPLETE], 2, data, len, SQLITE_STATIC);
  run(r, S_COMPLETE);
  run(r, S_COMMIT);
}

static uint8_t *raw_await(raw *r, int64_t idx, size_t *len) {
  const int64_t key = key_of(r, idx);
  /* On a file the core looks once without the write lock first, then reads and records in one
   * write transaction; in memory both run in the open transaction (committed periodically). */
  if (!r->memory) {
    if (lookup(r, S_LOOKUP, key) != 1) die_sql(r->db, "await: not completed");
    run(r, S_BEGIN);
  }
  sqlite3_stmt *q = r->s[S_LOOKUP_PAYLOAD];
  if (lookup(r, S_LOOKUP_PAYLOAD, key) != 1) die_sql(r->db, "await: not completed");
  *len = (size_t)sqlite3_column_int64(q, 1);
  uint8_t *out = malloc(*len ? *len : 1);
  if (!out) die_sql(NULL, "malloc");
  memcpy(out, sqlite3_column_blob(q, 2), *len);
  sqlite3_reset(q);
  volatile uint64_t hash = fnv1a64(out, *len); /* the entry records the payload's hash */
  (void)hash;
  append_entry(r, next_idx(r), 5, g_entry_await, g_entry_await_len);
  if (!r->memory) run(r, S_COMMIT);
  return out;
}

static inline void raw_cycle(raw *r, marks *mk) {
  if (mk) mk->at[0][0] = g_trace.n;
  const int64_t idx = raw_create(r);
  if (mk) mk->at[0][1] = mk->at[1][0] = g_trace.n;
  raw_complete(r, idx, g_payload, cfg.payload_len);
  if (mk) mk->at[1][1] = mk->at[2][0] = g_trace.n;
  size_t len = 0;
  uint8_t *got = raw_await(r, idx, &len);
  if (mk) mk->at[2][1] = g_trace.n;
  if (len != cfg.payload_len) die_sql(r->db, "await: wrong length");
  free(got);
}

__attribute__((noinline)) static void raw_cycles(raw *r, long n) {
  for (long i = 0; i < n; ++i) raw_cycle(r, NULL);
}

/* ------------------------------------------------------------------ setup and checks */

/* A fresh golem-promise database with the bench worker, at g_template. */
static void make_template(void) {
  db_path(g_template, sizeof g_template, "template");
  remove_db(g_template);
  ours o;
  ours_open(&o, g_template, MODE_NORMAL);
  ours_close(&o);
}

/* Every table's row count and the summed length of every column: equal for two databases that
 * hold the same rows up to timestamps. */
static void fingerprint(sqlite3 *db, char *out, size_t n) {
  sqlite3_stmt *t;
  size_t at = 0;
  out[0] = 0;
  if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", -1, &t, NULL))
    die_sql(db, "tables");
  while (sqlite3_step(t) == SQLITE_ROW) {
    const char *table = (const char *)sqlite3_column_text(t, 0);
    char sql[2048], cols[1536] = "";
    sqlite3_stmt *c;
    snprintf(sql, sizeof sql, "SELECT name FROM pragma_table_info('%s')", table);
    if (sqlite3_prepare_v2(db, sql, -1, &c, NULL) != SQLITE_OK) die_sql(db, sql);
    while (sqlite3_step(c) == SQLITE_ROW) {
      const size_t l = strlen(cols);
      snprintf(cols + l, sizeof cols - l, ", sum(length(\"%s\"))", (const char *)sqlite3_column_text(c, 0));
    }
    sqlite3_finalize(c);
    snprintf(sql, sizeof sql, "SELECT count(*)%s FROM \"%s\"", cols, table);
    if (sqlite3_prepare_v2(db, sql, -1, &c, NULL) != SQLITE_OK) die_sql(db, sql);
    if (sqlite3_step(c) == SQLITE_ROW) {
      at += (size_t)snprintf(out + at, n - at, "%s:", table);
      for (int i = 0; i < sqlite3_column_count(c) && at < n; ++i)
        at += (size_t)snprintf(out + at, n - at, " %lld", (long long)sqlite3_column_int64(c, i));
      if (at < n) at += (size_t)snprintf(out + at, n - at, "; ");
    }
    sqlite3_finalize(c);
  }
  sqlite3_finalize(t);
}

/* In memory, COMMIT and BEGIN are the deferred commit, which falls wherever the count of changed
 * rows says: the cadence check compares those, so the call-by-call check leaves them out. */
static int is_deferred_commit(enum mode m, const char *sql) {
  return m == MODE_MEMORY && (strcmp(sql, "COMMIT") == 0 || strcmp(sql, "BEGIN") == 0);
}

static int same_calls(enum mode m, const marks *a, const marks *b, int call) {
  int i = a->at[call][0], j = b->at[call][0];
  for (;;) {
    while (i < a->at[call][1] && is_deferred_commit(m, g_trace.sql[i])) ++i;
    while (j < b->at[call][1] && is_deferred_commit(m, g_trace.sql[j])) ++j;
    if (i == a->at[call][1] || j == b->at[call][1]) return i == a->at[call][1] && j == b->at[call][1];
    if (strcmp(g_trace.sql[i++], g_trace.sql[j++]) != 0) return 0;
  }
}

/* The writes (INSERT or UPDATE, one row each in this cycle) between consecutive COMMITs of the
 * trace, each of which must be followed by BEGIN: fills gaps, returns how many, or -1 if a
 * COMMIT is not followed by BEGIN. */
#define CADENCE_CYCLES 1500
static int commit_gaps(int *gaps, int max) {
  int n = 0, seen = 0, writes = 0;
  for (int i = 0; i < g_trace.n; ++i) {
    const char *sql = g_trace.sql[i];
    if (strncmp(sql, "INSERT", 6) == 0 || strncmp(sql, "UPDATE", 6) == 0) ++writes;
    if (strcmp(sql, "COMMIT") != 0) continue;
    if (i + 1 < g_trace.n && strcmp(g_trace.sql[i + 1], "BEGIN") != 0) return -1;
    if (seen++ && n < max) gaps[n++] = writes;
    writes = 0;
  }
  return n;
}

/* In memory: ours and raw commit their open transaction equally often (checked over
 * CADENCE_CYCLES cycles, which must hold at least two full gaps). */
static void check_cadence(ours *o, raw *r) {
  int go[64], gr[64];
  trace_clear();
  g_trace.on = 1;
  ours_cycles(o, CADENCE_CYCLES);
  g_trace.on = 0;
  const int no = commit_gaps(go, 64);
  trace_clear();
  g_trace.on = 1;
  raw_cycles(r, CADENCE_CYCLES);
  g_trace.on = 0;
  const int nr = commit_gaps(gr, 64);
  trace_clear();
  int ok = no >= 2 && no == nr;
  for (int i = 0; ok && i < no; ++i) ok = go[i] == gr[i];
  if (!ok) {
    fprintf(stderr, "gp_bench_cycle: in memory raw no longer commits as often as the core (%d and %d gaps between "
                    "COMMITs over %d cycles, the first of %d and %d writes); update MEMORY_COMMIT_EVERY in "
                    "bench/bench_cycle.c (and bench/bench_cycle.py)\n", no, nr, CADENCE_CYCLES,
            no > 0 ? go[0] : 0, nr > 0 ? gr[0] : 0);
    exit(3);
  }
  printf(";\n                   one open transaction, committed every %d writes, as the core's", go[0]);
}

static void print_calls(FILE *f, const char *who, const marks *mk) {
  for (int c = 0; c < 3; ++c)
    for (int i = mk->at[c][0]; i < mk->at[c][1]; ++i) fprintf(f, "STMT %s %s %s\n", who, kCall[c], g_trace.sql[i]);
}

/* Real oplog entries of the last cycle in ours' database, as the raw oplog blobs. */
static void capture_entries(const char *path) {
  sqlite3 *db;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) die_sql(db, path);
  sqlite3_stmt *q;
  const char *sql = "SELECT kind, entry FROM oplog WHERE kind IN (2, 5) ORDER BY idx DESC LIMIT 2";
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) die_sql(db, sql);
  while (sqlite3_step(q) == SQLITE_ROW) {
    const int kind = sqlite3_column_int(q, 0);
    const int len = sqlite3_column_bytes(q, 1);
    if (len > (int)sizeof g_entry_create) die_sql(db, "oplog entry larger than expected");
    memcpy(kind == 2 ? g_entry_create : g_entry_await, sqlite3_column_blob(q, 1), (size_t)len);
    *(kind == 2 ? &g_entry_create_len : &g_entry_await_len) = len;
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  if (!g_entry_create_len || !g_entry_await_len) die_sql(NULL, "no create-promise or await-promise entry found");
}

/* Runs three cycles of ours and of raw with every statement traced, and checks that the third
 * cycle ran the same SQL in the same order, call by call (and, for a file, that both databases
 * end with the same rows; in memory, that both commit equally often).  Also captures real oplog entries for raw from ours' file. */
static void check_mode(enum mode m, int show) {
  char pours[4096] = ":memory:", praw[4096] = ":memory:";
  if (m != MODE_MEMORY) {
    db_path(pours, sizeof pours, "check");
    db_path(praw, sizeof praw, "check-raw");
    remove_db(pours);
    remove_db(praw);
  }
  trace_clear();
  for (int i = 0; i < g_npragmas[m]; ++i) free(g_pragmas[m][i]);
  g_npragmas[m] = 0;
  marks mo, mr;
  ours o;
  g_trace.on = 1;
  ours_open(&o, pours, m);
  g_trace.on = 0;
  /* The pragmas that set something, as raw must set them too. */
  for (int i = 0; i < g_trace.n; ++i) {
    const char *sql = g_trace.sql[i];
    if (strncmp(sql, "PRAGMA", 6) == 0 && strchr(sql, '=') && g_npragmas[m] < PRAGMAS_MAX)
      g_pragmas[m][g_npragmas[m]++] = strdup(sql);
  }
  /* A FULL host commits at NORMAL and then waits for an fdatasync of the WAL before the call
   * returns (core/wal_sync.hpp): on one connection that is one sync per commit, which is what
   * SQLite's own FULL does inside COMMIT.  Raw gets that, not a NORMAL without any sync. */
  if (m == MODE_FULL)
    for (int i = 0; i < g_npragmas[m]; ++i)
      if (strcmp(g_pragmas[m][i], "PRAGMA synchronous = NORMAL") == 0) {
        free(g_pragmas[m][i]);
        g_pragmas[m][i] = strdup("PRAGMA synchronous = FULL");
      }
  if (show)
    for (int i = 0; i < g_npragmas[m]; ++i) printf("OPEN %s %s\n", kModeArg[m], g_pragmas[m][i]);
  trace_clear();
  ours_cycles(&o, 2);
  g_trace.on = 1;
  ours_cycle(&o, &mo);
  g_trace.on = 0;
  if (m != MODE_MEMORY) {
    ours_close(&o);
    capture_entries(pours);
  }
  raw r;
  raw_open(&r, praw, m);
  raw_cycles(&r, 2);
  g_trace.on = 1;
  raw_cycle(&r, &mr);
  g_trace.on = 0;

  int ok = 1;
  for (int c = 0; c < 3; ++c) ok &= same_calls(m, &mo, &mr, c);
  if (show) print_calls(stdout, kModeArg[m], &mo);
  if (!ok) {
    fprintf(stderr, "gp_bench_cycle: the raw baseline no longer runs the statements the core runs (%s host);\n"
                    "update the raw cycle in bench/bench_cycle.c (and bench/bench_cycle.py):\n", kModeName[m]);
    print_calls(stderr, "core", &mo);
    print_calls(stderr, "raw ", &mr);
    exit(3);
  }
  printf("check %-11s: raw runs the core's statements, call by call (create %d, complete %d, await %d);\n"
         "                   its pragmas:",
         kModeName[m], mo.at[0][1] - mo.at[0][0], mo.at[1][1] - mo.at[1][0], mo.at[2][1] - mo.at[2][0]);
  for (int i = 0; i < g_npragmas[m]; ++i) printf(" %s%s", g_pragmas[m][i] + 7, i + 1 < g_npragmas[m] ? "," : "");
  if (m == MODE_FULL) printf(" (the core: NORMAL, then its own fdatasync of the WAL per commit)");
  if (m == MODE_MEMORY) {
    check_cadence(&o, &r);
    ours_close(&o);
  }

  if (m != MODE_MEMORY) {
    sqlite3 *db;
    if (sqlite3_open_v2(pours, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) die_sql(db, pours);
    char fa[4096], fb[4096];
    fingerprint(db, fa, sizeof fa);
    fingerprint(r.db, fb, sizeof fb);
    if (strcmp(fa, fb) != 0) {
      fprintf(stderr, "\ngp_bench_cycle: raw leaves other rows than the core:\n  core: %s\n  raw:  %s\n", fa, fb);
      exit(3);
    }
    printf("; same rows");
    sqlite3_close(db);
  }
  printf("\n");
  raw_close(&r);
  if (m != MODE_MEMORY) {
    remove_db(pours);
    remove_db(praw);
  }
  trace_clear();
}

static void check_all(int show) {
  sqlite3_auto_extension((void (*)(void))trace_ext);
  make_template();
  check_mode(MODE_NORMAL, show); /* first: captures the oplog entries raw uses */
  check_mode(MODE_MEMORY, show);
  check_mode(MODE_FULL, 0);
  sqlite3_reset_auto_extension(); /* no tracing in the timed runs */
}

/* ------------------------------------------------------------------ timing */

typedef enum { V_OURS, V_RAW, V_COUNT } variant;
static const char *const kVariant[V_COUNT] = {"golem-promise (C ABI)", "raw SQLite"};

/* Cycles per second of wall-clock time for one fresh database. */
static double run_once(variant v, enum mode m, long n) {
  char path[4096] = ":memory:";
  if (m != MODE_MEMORY) {
    db_path(path, sizeof path, v == V_OURS ? "ours" : "raw");
    remove_db(path);
  }
  const long warm = n / 10 + 1;
  double t0, t1;
  if (v == V_OURS) {
    ours o;
    ours_open(&o, path, m);
    ours_cycles(&o, warm); /* warm-up on the same connection */
    t0 = now_s();
    ours_cycles(&o, n);
    t1 = now_s();
    ours_close(&o);
  } else {
    raw r;
    raw_open(&r, path, m);
    raw_cycles(&r, warm);
    t0 = now_s();
    raw_cycles(&r, n);
    t1 = now_s();
    raw_close(&r);
  }
  if (m != MODE_MEMORY) remove_db(path);
  return (double)n / (t1 - t0);
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median_of(double *v, int k) {
  qsort(v, (size_t)k, sizeof(double), cmp_double);
  return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

static void bench_mode(enum mode m) {
  const long n = cfg.iters[m];
  double res[V_COUNT][64];
  /* Interleaved, so slow drift (other load, disk cache) hits both variants alike. */
  for (int rep = 0; rep < cfg.repeats; ++rep)
    for (int v = 0; v < V_COUNT; ++v) res[v][rep] = run_once((variant)v, m, n);
  double best[V_COUNT], med[V_COUNT];
  for (int v = 0; v < V_COUNT; ++v) {
    med[v] = median_of(res[v], cfg.repeats); /* sorts */
    best[v] = res[v][cfg.repeats - 1];
  }
  printf("\n%s host: %ld cycles x %d repeats (after %ld warm-up cycles each)\n", kModeName[m], n, cfg.repeats,
         n / 10 + 1);
  printf("  %-22s %12s %12s %10s\n", "", "best cyc/s", "median cyc/s", "us/cycle");
  for (int v = 0; v < V_COUNT; ++v)
    printf("  %-22s %12.0f %12.0f %10.2f\n", kVariant[v], best[v], med[v], 1e6 / med[v]);
  const double r_best = best[V_OURS] / best[V_RAW], r_med = med[V_OURS] / med[V_RAW];
  printf("  ours/raw: %.0f%% (best), %.0f%% (median)\n", 100 * r_best, 100 * r_med);
  if (m == MODE_MEMORY) {
    printf("  target >= 100000 cycles/s through the C ABI: %s (best %.0f, median %.0f)\n",
           best[V_OURS] >= 100000 ? "met" : "NOT met", best[V_OURS], med[V_OURS]);
    printf("  target >= 60%% of raw SQLite: %s (best %.0f%%, median %.0f%%)\n", r_best >= 0.60 ? "met" : "NOT met",
           100 * r_best, 100 * r_med);
  }
  printf("RESULT c %s%s ours_best=%.0f ours_median=%.0f raw_best=%.0f raw_median=%.0f ratio_best=%.3f "
         "ratio_median=%.3f iters=%ld repeats=%d\n",
         kModeArg[m], cfg.memstatus_off ? "-tuned" : "", best[V_OURS], med[V_OURS], best[V_RAW], med[V_RAW], r_best, r_med, n, cfg.repeats);
  fflush(stdout);
}

static int mode_of(const char *s) {
  for (int m = 0; m < MODE_COUNT; ++m)
    if (strcmp(s, kModeArg[m]) == 0) return m;
  fprintf(stderr, "gp_bench_cycle: unknown mode '%s' (memory, normal, full)\n", s);
  exit(1);
}

static void usage(void) {
  puts("usage: gp_bench_cycle [--repeats N] [--memory N] [--normal N] [--full N] [--payload BYTES]\n"
       "                      [--dir DIR] [--only memory|normal|full] [--quick] [--statements]\n"
       "                      [--profile ours|raw] [--sqlite-memstatus on|off]\n"
       "  --memory/--normal/--full N  timed cycles per repeat for that host (default 100000/20000/300)\n"
       "  --dir DIR                   where file hosts are created (default .)\n"
       "  --quick                     few cycles: a smoke test, not a measurement\n"
       "  --statements                print the SQL the core runs per call (STMT lines) and exit\n"
       "  --profile ours|raw          one run of one path in the --only mode (default memory), for\n"
       "                              profilers; ours_cycles / raw_cycles hold the measured loop\n"
       "  --sqlite-memstatus off      call gp_sqlite_disable_memstatus() first (process-wide, so raw\n"
       "                              SQLite runs without the statistics too); RESULT modes get -tuned");
}

static void show_load(void) {
  FILE *f = fopen("/proc/loadavg", "r");
  char buf[128] = "?";
  if (f) {
    if (!fgets(buf, sizeof buf, f)) strcpy(buf, "?");
    fclose(f);
  }
  buf[strcspn(buf, "\n")] = 0;
  printf("load average at start: %s (CPUs: %ld)\n", buf, sysconf(_SC_NPROCESSORS_ONLN));
}

int main(int argc, char **argv) {
  int statements = 0;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage();
      return 0;
    } else if (strcmp(a, "--quick") == 0) {
      cfg.iters[MODE_MEMORY] = 3000, cfg.iters[MODE_NORMAL] = 500, cfg.iters[MODE_FULL] = 20, cfg.repeats = 3;
    } else if (strcmp(a, "--statements") == 0) {
      statements = 1;
    } else if (!v) {
      usage();
      return 1;
    } else if (strcmp(a, "--repeats") == 0) {
      cfg.repeats = atoi(v), ++i;
    } else if (strcmp(a, "--memory") == 0) {
      cfg.iters[MODE_MEMORY] = atol(v), ++i;
    } else if (strcmp(a, "--normal") == 0) {
      cfg.iters[MODE_NORMAL] = atol(v), ++i;
    } else if (strcmp(a, "--full") == 0) {
      cfg.iters[MODE_FULL] = atol(v), ++i;
    } else if (strcmp(a, "--payload") == 0) {
      cfg.payload_len = (size_t)atol(v), ++i;
    } else if (strcmp(a, "--dir") == 0) {
      cfg.dir = v, ++i;
    } else if (strcmp(a, "--only") == 0) {
      cfg.only = mode_of(v), ++i;
    } else if (strcmp(a, "--sqlite-memstatus") == 0) {
      if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0) {
        usage();
        return 1;
      }
      cfg.memstatus_off = strcmp(v, "off") == 0, ++i;
    } else if (strcmp(a, "--profile") == 0) {
      if (strcmp(v, "ours") != 0 && strcmp(v, "raw") != 0) {
        usage();
        return 1;
      }
      cfg.profile = strcmp(v, "raw") == 0, ++i;
    } else {
      usage();
      return 1;
    }
  }
  if (cfg.repeats < 1 || cfg.repeats > 64 || cfg.payload_len > sizeof g_payload) {
    fprintf(stderr, "gp_bench_cycle: --repeats must be 1..64 and --payload at most %zu\n", sizeof g_payload);
    return 1;
  }
  for (long *it = cfg.iters; it < cfg.iters + MODE_COUNT; ++it) {
    if (*it < 1) {
      fprintf(stderr, "gp_bench_cycle: cycle counts must be at least 1\n");
      return 1;
    }
  }
  for (size_t i = 0; i < sizeof g_payload; ++i) g_payload[i] = (uint8_t)('a' + i % 26);
  /* Before anything touches SQLite: it only accepts this while uninitialised. */
  if (cfg.memstatus_off && gp_sqlite_disable_memstatus() != GP_OK) {
    fprintf(stderr, "gp_bench_cycle: %s\n", gp_last_error_message());
    return 1;
  }

  if (cfg.profile >= 0) {
    /* One run of ours or raw in one mode (--only, default memory), for perf or callgrind:
     * `valgrind --tool=callgrind --toggle-collect=ours_cycles gp_bench_cycle --profile ours`. */
    const enum mode m = cfg.only >= 0 ? (enum mode)cfg.only : MODE_MEMORY;
    check_all(0);
    char path[4096] = ":memory:";
    if (m != MODE_MEMORY) db_path(path, sizeof path, "profile"), remove_db(path);
    const double t0 = now_s();
    if (cfg.profile == 0) {
      ours o;
      ours_open(&o, path, m);
      ours_cycles(&o, cfg.iters[m]);
      ours_close(&o);
    } else {
      raw r;
      raw_open(&r, path, m);
      raw_cycles(&r, cfg.iters[m]);
      raw_close(&r);
    }
    const double t1 = now_s();
    if (m != MODE_MEMORY) remove_db(path);
    printf("profile run: %s, %ld cycles on a %s host, %.0f cycles/s\n", cfg.profile ? "raw" : "ours",
           cfg.iters[m], kModeName[m], cfg.iters[m] / (t1 - t0));
    return 0;
  }
  if (statements) {
    check_all(1);
    return 0;
  }

  printf("gp_bench_cycle: golem-promise %s (header %s), SQLite %s, SQLite memory statistics %s\n", gp_version(),
         GP_VERSION_STRING, sqlite3_libversion(),
         cfg.memstatus_off ? "off (gp_sqlite_disable_memstatus, for ours and raw alike)" : "on (SQLite's default)");
  show_load();
  printf("cycle = gp_worker_create_promise + gp_host_complete_promise (%zu-byte payload)\n"
         "        + gp_worker_await_promise, on one thread and one host\n",
         cfg.payload_len);
  check_all(0);
  printf("raw SQLite = the statements the core runs (checked above by tracing both), as prepared\n"
         "  statements on one connection, same transactions, same flags and pragmas, starting from a\n"
         "  copy of a fresh golem-promise database (same schema).  Its oplog blobs are real\n"
         "  FlatBuffers entries captured from golem-promise (create-promise %d bytes, await-promise\n"
         "  %d bytes), copied per call with a clock read, not re-encoded.\n",
         g_entry_create_len, g_entry_await_len);
  printf("file hosts in %s (WAL; synchronous as named)\n", cfg.dir);
  for (int m = 0; m < MODE_COUNT; ++m) {
    if (cfg.only >= 0 && cfg.only != m) continue;
    bench_mode((enum mode)m);
  }
  return 0;
}
