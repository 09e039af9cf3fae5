// Fuzz target: oplog entry decoding and replay over a database whose rows the fuzzer writes.
//
// Each input starts from a real database (a worker with a few recorded calls), then its bytes
// are read as rows written straight into the oplog table with SQLite (key index, kind, state,
// entry bytes, payload), as a damaged or foreign file could hold them.  Then the library opens
// the file and reads every entry, lists promises, and replays the worker's recorded calls.
// Invariants: every call returns a GP code (GP_ECORRUPT for a bad entry, never a crash), and a
// read entry's kind and index are the ones its row claims or the call failed.
#include <sqlite3.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "golem_promise.h"

namespace {

const char* const kComponent = "f022f022-0000-4000-8000-00000000f022";

void broken(const char* what) {
  std::fprintf(stderr, "fuzz_oplog: invariant broken: %s (%s)\n", what, gp_last_error_message());
  std::abort();
}

// GP_OK down to the last pinned code, GP_ENOENTRY (-15); GP_EINTERNAL (-99) is a bug in
// golem-promise, so it is not among them.
bool is_gp_code(int rc) { return rc <= 0 && rc >= GP_ENOENTRY; }

std::string db_path() {
  static const std::string path = "/dev/shm/gp-fuzz-oplog-" + std::to_string(::getpid()) + ".db";
  return path;
}

void remove_db() {
  for (const char* suffix : {"", "-wal", "-shm", "-gpwake"}) ::unlink((db_path() + suffix).c_str());
}

// A worker with recorded calls: create (1), three promises (2, 3, 4), a completion of 2 (5),
// a poll of 2 (6), a delete of 4 (7), get-oplog-index (8).
bool make_base(gp_worker_id_t& wid) {
  remove_db();
  gp_host* host = nullptr;
  if (gp_host_open(&host, db_path().c_str(), nullptr) != GP_OK) return false;
  gp_uuid_t component{};
  gp_uuid_parse(&component, kComponent);
  gp_worker_id_make(&wid, &component, "fuzzed");
  gp_worker* w = nullptr;
  gp_worker_open(&w, host, &wid);
  gp_promise_id_t p[3]{};
  for (auto& id : p) gp_worker_create_promise(&id, w);
  const std::uint8_t payload[] = {1, 2, 3};
  int completed = 0;
  gp_worker_complete_promise(&completed, w, &p[0], payload, sizeof payload);
  gp_bytes_t out{};
  int ready = 0;
  gp_worker_poll_promise(&out, &ready, w, &p[0]);
  gp_bytes_free(&out);
  gp_worker_delete_promise(w, &p[2]);
  std::uint64_t idx = 0;
  gp_worker_get_oplog_index(&idx, w);
  gp_worker_close(&w);
  gp_host_close(&host);
  return true;
}

// Rows from the input: [idx][kind][state][entry length][payload length] then the bytes.
void write_rows(const std::uint8_t* data, std::size_t size) {
  sqlite3* db = nullptr;
  if (sqlite3_open(db_path().c_str(), &db) != SQLITE_OK) {
    sqlite3_close(db);
    return;
  }
  sqlite3_exec(db, "PRAGMA busy_timeout = 1000", nullptr, nullptr, nullptr);
  sqlite3_int64 worker = 1;
  sqlite3_stmt* q = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT id FROM workers LIMIT 1", -1, &q, nullptr) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) {
    worker = sqlite3_column_int64(q, 0);
  }
  sqlite3_finalize(q);
  sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO oplog (key, kind, entry, state, payload) VALUES (?, ?, ?, ?, ?)", -1, &q,
                     nullptr);
  std::size_t at = 0;
  while (q && size - at >= 5) {
    const unsigned idx = data[at] % 12, kind = data[at + 1], state = data[at + 2];
    std::size_t entry_len = data[at + 3], payload_len = data[at + 4] % 16;
    at += 5;
    entry_len = std::min(entry_len, size - at);
    const auto* entry = data + at;
    at += entry_len;
    payload_len = std::min(payload_len, size - at);
    const auto* payload = data + at;
    at += payload_len;
    sqlite3_bind_int64(q, 1, (worker << 40) | idx);
    sqlite3_bind_int(q, 2, static_cast<int>(kind % 10));
    sqlite3_bind_blob(q, 3, entry, static_cast<int>(entry_len), SQLITE_TRANSIENT);
    if (state < 200) sqlite3_bind_int(q, 4, static_cast<int>(state % 4)); else sqlite3_bind_null(q, 4);
    if (payload_len) sqlite3_bind_blob(q, 5, payload, static_cast<int>(payload_len), SQLITE_TRANSIENT);
    else sqlite3_bind_null(q, 5);
    sqlite3_step(q);
    sqlite3_reset(q);
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gp_worker_id_t wid{};
  if (!make_base(wid)) return 0;
  write_rows(data, size);

  gp_host* host = nullptr;
  int rc = gp_host_open(&host, db_path().c_str(), nullptr);
  if (!is_gp_code(rc)) broken("gp_host_open returns a GP code");
  if (rc != GP_OK) return 0;

  std::uint64_t length = 0;
  rc = gp_host_oplog_length(&length, host, &wid);
  if (!is_gp_code(rc)) broken("gp_host_oplog_length returns a GP code");
  for (std::uint64_t i = 1; rc == GP_OK && i <= length && i < 16; ++i) {
    gp_oplog_entry_t e{};
    const int r = gp_host_oplog_read(&e, host, &wid, i);
    if (!is_gp_code(r)) broken("gp_host_oplog_read returns a GP code");
    if (r == GP_OK && e.oplog_idx != i) broken("an entry read is the one asked for");
    if (r == GP_OK && std::strcmp(gp_oplog_kind_name(e.kind), "unknown") == 0) broken("an entry read has a known kind");
  }
  gp_promise_list_t list{};
  rc = gp_host_list_promises(&list, host, &wid, GP_PROMISE_ANY);
  if (!is_gp_code(rc)) broken("gp_host_list_promises returns a GP code");
  gp_promise_list_free(&list);

  // Replay the recorded calls in their order, then go on live.
  gp_worker* w = nullptr;
  rc = gp_worker_open(&w, host, &wid);
  if (!is_gp_code(rc)) broken("gp_worker_open returns a GP code");
  if (rc == GP_OK) {
    gp_promise_id_t p[3]{};
    for (auto& id : p) {
      if (!is_gp_code(gp_worker_create_promise(&id, w))) broken("create replays to a GP code");
    }
    const std::uint8_t payload[] = {1, 2, 3};
    int completed = 0;
    if (!is_gp_code(gp_worker_complete_promise(&completed, w, &p[0], payload, sizeof payload))) {
      broken("complete replays to a GP code");
    }
    gp_bytes_t out{};
    int ready = 0;
    if (!is_gp_code(gp_worker_poll_promise(&out, &ready, w, &p[0]))) broken("poll replays to a GP code");
    gp_bytes_free(&out);
    if (!is_gp_code(gp_worker_delete_promise(w, &p[2]))) broken("delete replays to a GP code");
    std::uint64_t idx = 0;
    if (!is_gp_code(gp_worker_get_oplog_index(&idx, w))) broken("get-oplog-index replays to a GP code");
    if (!is_gp_code(gp_worker_await_promise(&out, w, &p[1], 0))) broken("await returns a GP code");
    gp_bytes_free(&out);
    gp_worker_close(&w);
  }
  gp_host_close(&host);
  return 0;
}
