// File hosts: state survives close and reopen; damaged or foreign files give a clear error and
// are left untouched.  The raw SQLite access here stands in for disk damage or another program.
#include "support.hpp"

#include <catch2/generators/catch_generators.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <string>

using namespace gpt;

namespace {

// A raw SQLite connection for poking at a host file from outside the library.
struct RawDb {
  sqlite3* db = nullptr;
  explicit RawDb(const std::string& path) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) ==
            SQLITE_OK);
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  ~RawDb() { sqlite3_close(db); }
  void exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    INFO(sql << ": " << (err ? err : ""));
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
  }
  std::int64_t scalar(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    std::int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
  }
  // Overwrites the stored entry of oplog row idx (the file holds one worker) with bytes.
  void overwrite_oplog_entry(std::uint64_t idx, const std::string& bytes) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "UPDATE oplog SET entry = ?1 WHERE idx = ?2", -1, &st, nullptr) ==
            SQLITE_OK);
    sqlite3_bind_blob(st, 1, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, static_cast<sqlite3_int64>(idx));
    REQUIRE(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    REQUIRE(sqlite3_changes(db) == 1);
  }
};

void require_untouched_open_fails(const TempDir& dir, const std::string& path,
                                  std::initializer_list<int> allowed) {
  const std::string before = read_file(path);
  auto files_before = dir.entries();
  gp_host* h = nullptr;
  int rc = gp_host_open(&h, path.c_str(), nullptr);
  std::string msg = gp_last_error_message();
  CAPTURE(rc, msg);
  CHECK(std::find(allowed.begin(), allowed.end(), rc) != allowed.end());
  CHECK(h == nullptr);
  CHECK_FALSE(msg.empty());
  gp_host_close(&h);
  CHECK(read_file(path) == before);
  auto files_after = dir.entries();
  std::sort(files_before.begin(), files_before.end());
  std::sort(files_after.begin(), files_after.end());
  CHECK(files_after == files_before);  // no journal or WAL files left behind
}

}  // namespace

TEST_CASE("a file host keeps promises across close and reopen", "[file]") {
  TempDir dir;
  const std::string path = dir.file("host.db");
  gp_promise_id_t completed{}, pending{}, deleted{};
  std::uint64_t length = 0;
  {
    Host h(path);
    Worker w(h, "durable");
    completed = w.create();
    pending = w.create();
    deleted = w.create();
    int done = -1;
    REQUIRE(gp_worker_complete_promise(&done, w, &completed, u8("kept\0bytes"), 10) == GP_OK);
    REQUIRE(done == 1);
    REQUIRE(gp_worker_delete_promise(w, &deleted) == GP_OK);
    length = oplog_length(h, w.id);
  }
  Host h(path);
  CHECK(oplog_length(h, worker_id("durable")) == length);
  // Continue live at the end of the oplog (plain gp_worker_open would replay; see test_replay).
  Worker w(h, "durable", kComponent, GP_WORKER_OPEN_LIVE);
  CHECK(oplog_length(h, w.id) == length);  // reopening the worker appends nothing

  Bytes b;
  int ready = -1;
  REQUIRE(gp_host_poll_promise(b.out(), &ready, h, &completed) == GP_OK);
  CHECK(ready == 1);
  CHECK(b.str() == std::string("kept\0bytes", 10));
  REQUIRE(gp_host_poll_promise(b.out(), &ready, h, &pending) == GP_OK);
  CHECK(ready == 0);
  CHECK(gp_host_poll_promise(b.out(), &ready, h, &deleted) == GP_ENOTFOUND);

  int done = -1;
  REQUIRE(gp_host_complete_promise(&done, h, &completed, u8("new"), 3) == GP_OK);
  CHECK(done == 0);  // first payload still wins after reopen
  REQUIRE(gp_host_complete_promise(&done, h, &pending, u8("now"), 3) == GP_OK);
  CHECK(done == 1);
  REQUIRE(gp_worker_await_promise(b.out(), w, &pending, 0) == GP_OK);
  CHECK(b.str() == "now");

  const std::uint64_t before_create = oplog_length(h, w.id);
  CHECK(before_create == length + 1);  // the await above was recorded
  gp_promise_id_t next = w.create();
  CHECK(next.oplog_idx > deleted.oplog_idx);  // no index reused after reopen
  CHECK(next.oplog_idx == before_create + 1);

  // The recorded entries survived with their contents.
  auto e = oplog_entry(h, w.id, completed.oplog_idx);
  CHECK(e.kind == GP_OPLOG_CREATE_PROMISE);
  CHECK(same_id(e.promise_id, completed));
}

TEST_CASE("a completion is visible to another host handle on the same file", "[file]") {
  TempDir dir;
  const std::string path = dir.file("shared.db");
  Host writer(path);
  Worker w(writer, "two-handles");
  gp_promise_id_t p = w.create();
  Host reader(path);
  std::thread completer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    int done = -1;
    gp_host_complete_promise(&done, writer, &p, u8("across"), 6);
  });
  Bytes b;
  auto t0 = Clock::now();
  int rc = gp_host_await_promise(b.out(), reader, &p, 20000);
  completer.join();
  REQUIRE(rc == GP_OK);
  CHECK(b.str() == "across");
  CHECK(ms_since(t0) < 5000);
}

TEST_CASE("a damaged oplog entry reads as GP_ECORRUPT and the others still read", "[file]") {
  TempDir dir;
  const std::string path = dir.file("damaged.db");
  gp_worker_id_t wid = worker_id("victim");
  {
    Host h(path);
    Worker w(h, "victim");
    gp_promise_id_t p = w.create();                                             // 2
    int done = -1;
    REQUIRE(gp_worker_complete_promise(&done, w, &p, u8("abc"), 3) == GP_OK);  // 3
    std::uint64_t idx = 0;
    REQUIRE(gp_worker_get_oplog_index(&idx, w) == GP_OK);                      // 4
    REQUIRE(oplog_length(h, w.id) == 4);
  }
  const std::string garbage = GENERATE(as<std::string>{}, std::string(16, '\xff'),
                                       std::string("not a flatbuffer, just some text"),
                                       std::string("\x04\x00\x00", 3), std::string(64, '\0'));
  CAPTURE(garbage.size());
  {
    RawDb raw(path);
    raw.overwrite_oplog_entry(3, garbage);
  }
  Host h(path);
  gp_oplog_entry_t e{};
  int rc = gp_host_oplog_read(&e, h, &wid, 3);
  CHECK(rc == GP_ECORRUPT);
  CHECK(gp_last_error_code() == GP_ECORRUPT);
  CHECK(std::strlen(gp_last_error_message()) > 0);

  CHECK(oplog_entry(h, wid, 1).kind == GP_OPLOG_CREATE);
  CHECK(oplog_entry(h, wid, 2).kind == GP_OPLOG_CREATE_PROMISE);
  CHECK(oplog_entry(h, wid, 4).kind == GP_OPLOG_GET_OPLOG_INDEX);
  CHECK(oplog_length(h, wid) == 4);
}

TEST_CASE("an oplog entry whose kind disagrees with its row reads as GP_ECORRUPT", "[file]") {
  TempDir dir;
  const std::string path = dir.file("swapped.db");
  gp_worker_id_t wid = worker_id("swapped");
  {
    Host h(path);
    Worker w(h, "swapped");
    w.create();  // 2: create-promise
    std::uint64_t idx = 0;
    REQUIRE(gp_worker_get_oplog_index(&idx, w) == GP_OK);  // 3: get-oplog-index
  }
  {
    // A well-formed entry in the wrong row: the verifier passes, the kind check must not.
    RawDb raw(path);
    raw.exec("UPDATE oplog SET entry = (SELECT entry FROM oplog WHERE idx = 3) WHERE idx = 2");
  }
  Host h(path);
  gp_oplog_entry_t e{};
  CHECK(gp_host_oplog_read(&e, h, &wid, 2) == GP_ECORRUPT);
  CHECK(oplog_entry(h, wid, 3).kind == GP_OPLOG_GET_OPLOG_INDEX);
}

TEST_CASE("a file that is not SQLite is refused and left unchanged", "[file]") {
  TempDir dir;
  const std::string path = dir.file("not-a-db");
  std::string content = GENERATE(as<std::string>{}, std::string(4096, '\0'),
                                 std::string("just some text\nin a file\n"),
                                 std::string("SQLite format 3") + std::string(200, 'x'));
  write_file(path, content);
  require_untouched_open_fails(dir, path, {GP_ESCHEMA, GP_ECORRUPT});
}

TEST_CASE("a foreign SQLite database is refused with GP_ESCHEMA and left unchanged", "[file]") {
  TempDir dir;
  const std::string path = dir.file("customers.db");
  {
    RawDb raw(path);
    raw.exec("CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT);"
             "INSERT INTO customers(name) VALUES ('ada'), ('grace');");
  }
  require_untouched_open_fails(dir, path, {GP_ESCHEMA});
  RawDb raw(path);
  CHECK(raw.scalar("SELECT count(*) FROM customers") == 2);
}

TEST_CASE("an empty SQLite database with another application id is refused", "[file]") {
  TempDir dir;
  const std::string path = dir.file("other-app.db");
  {
    RawDb raw(path);
    raw.exec("PRAGMA application_id = 12345; PRAGMA user_version = 3;");
  }
  require_untouched_open_fails(dir, path, {GP_ESCHEMA});
}

TEST_CASE("a golem-promise database of a newer schema is refused with GP_ESCHEMA", "[file]") {
  TempDir dir;
  const std::string path = dir.file("future.db");
  {
    Host h(path);
    Worker w(h, "from-the-future");
    w.create();
  }
  {
    RawDb raw(path);
    const auto version = raw.scalar("PRAGMA user_version");
    REQUIRE(version > 0);  // the library records its schema version
    raw.exec("PRAGMA user_version = " + std::to_string(version + 1));
  }
  require_untouched_open_fails(dir, path, {GP_ESCHEMA});
}

TEST_CASE("opening a host in a missing directory gives GP_EIO", "[file]") {
  TempDir dir;
  const std::string path = dir.file("no/such/dir/host.db");
  gp_host* h = nullptr;
  CHECK(gp_host_open(&h, path.c_str(), nullptr) == GP_EIO);
  CHECK(h == nullptr);
  CHECK(std::strlen(gp_last_error_message()) > 0);
}

TEST_CASE("a new file host is a valid golem-promise database", "[file]") {
  TempDir dir;
  const std::string path = dir.file("new.db");
  { Host h(path); }
  {
    RawDb raw(path);
    CHECK(raw.scalar("PRAGMA application_id") != 0);
    CHECK(raw.scalar("PRAGMA user_version") > 0);
  }
  Host again(path);  // and reopens cleanly
  Worker w(again, "after");
  CHECK(oplog_length(again, w.id) == 1);
}
