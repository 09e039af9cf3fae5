// An in-memory host keeps one SQLite transaction open and commits it every thousand or so changes
// (sql::Db::defer_commits).  What a caller relies on must not depend on where those commits
// fall: every change is there afterwards, a failing call undoes only itself, and running out of
// memory fails the call that hit it without undoing what earlier calls were told.
#include "support.hpp"

#include <sqlite3.h>

#include <catch2/matchers/catch_matchers_string.hpp>

#include <map>
#include <string>
#include <vector>

using namespace gpt;
using Catch::Matchers::ContainsSubstring;

namespace {

// What a test expects of one promise afterwards.
struct Expect {
  gp_promise_id_t id{};
  enum { pending, completed, deleted } state = pending;
  std::string payload;
};

void check_promise(gp_host* h, const Expect& e) {
  Bytes b;
  int ready = -1;
  const int rc = gp_host_poll_promise(b.out(), &ready, h, &e.id);
  INFO("promise " << format(e.id) << ": " << gp_last_error_message());
  if (e.state == Expect::deleted) {
    CHECK(rc == GP_ENOTFOUND);
    return;
  }
  REQUIRE(rc == GP_OK);
  CHECK(ready == (e.state == Expect::completed ? 1 : 0));
  if (e.state == Expect::completed) CHECK(b.str() == e.payload);
}

// Every oplog entry of the worker reads back, and their number is what the calls made.
void check_oplog(gp_host* h, const gp_worker_id_t& id, std::uint64_t expected_length) {
  REQUIRE(oplog_length(h, id) == expected_length);
  for (std::uint64_t i = 1; i <= expected_length; ++i) {
    auto e = oplog_entry(h, id, i);
    CHECK(e.oplog_idx == i);
  }
}

}  // namespace

TEST_CASE("an in-memory host keeps every change across its periodic commits", "[memory]") {
  Host h;
  Worker w0(h, "w0"), w1(h, "w1"), w2(h, "w2");
  Worker* workers[] = {&w0, &w1, &w2};
  std::uint64_t oplog[3] = {1, 1, 1};  // each worker's entry 1 records its creation
  std::vector<Expect> all;
  // 4,000 promises: about ten thousand changes, so several commits (one per 1,024 changed rows,
  // or sooner by payload bytes) fall among them, at different offsets in the mix of calls.
  for (int i = 0; i < 4000; ++i) {
    const int k = i % 3;
    Expect e;
    e.id = workers[k]->create();
    ++oplog[k];
    const std::string data = "payload " + std::to_string(i) + std::string(static_cast<std::size_t>(i % 7), '\0');
    int done = -1;
    switch (i % 5) {
      case 0:  // completed by an outside party
        REQUIRE(gp_host_complete_promise(&done, h, &e.id, u8(data), data.size()) == GP_OK);
        REQUIRE(done == 1);
        e.state = Expect::completed;
        e.payload = data;
        break;
      case 1: {  // completed by a worker (recorded), then awaited by its creator
        REQUIRE(gp_worker_complete_promise(&done, *workers[(k + 1) % 3], &e.id, u8(data), data.size()) == GP_OK);
        REQUIRE(done == 1);
        ++oplog[(k + 1) % 3];
        Bytes b;
        REQUIRE(gp_worker_await_promise(b.out(), *workers[k], &e.id, 0) == GP_OK);
        CHECK(b.str() == data);
        ++oplog[k];
        e.state = Expect::completed;
        e.payload = data;
        break;
      }
      case 2:  // deleted by its worker, then a completion finds it gone
        REQUIRE(gp_worker_delete_promise(*workers[k], &e.id) == GP_OK);
        ++oplog[k];
        CHECK(gp_host_complete_promise(&done, h, &e.id, u8(data), data.size()) == GP_ENOTFOUND);
        e.state = Expect::deleted;
        break;
      case 3:  // completed twice: the second call is false and changes nothing
        REQUIRE(gp_host_complete_promise(&done, h, &e.id, u8(data), data.size()) == GP_OK);
        REQUIRE(gp_host_complete_promise(&done, h, &e.id, u8("other"), 5) == GP_OK);
        CHECK(done == 0);
        e.state = Expect::completed;
        e.payload = data;
        break;
      default:  // left pending
        break;
    }
    all.push_back(e);
  }
  for (const auto& e : all) check_promise(h, e);
  for (int k = 0; k < 3; ++k) check_oplog(h, workers[k]->id, oplog[k]);

  gp_promise_list_t list{};
  REQUIRE(gp_host_list_promises(&list, h, nullptr, GP_PROMISE_PENDING) == GP_OK);
  CHECK(list.count == 800);
  gp_promise_list_free(&list);
  REQUIRE(gp_host_list_promises(&list, h, nullptr, GP_PROMISE_COMPLETED) == GP_OK);
  CHECK(list.count == 2400);
  gp_promise_list_free(&list);
}

TEST_CASE("in memory, a call that fails half-way undoes only itself, between periodic commits", "[memory][conflict]") {
  Host h;
  Worker a(h, "twin");
  Worker b(h, "twin");  // falls behind once a appends: its calls conflict
  std::vector<Expect> done;
  for (int round = 0; round < 1000; ++round) {  // ~2,000 changed rows: commits fall among them
    Expect e;
    e.id = a.create();
    const std::string data = "round " + std::to_string(round);
    int ok = -1;
    REQUIRE(gp_host_complete_promise(&ok, h, &e.id, u8(data), data.size()) == GP_OK);
    e.state = Expect::completed;
    e.payload = data;
    done.push_back(e);
    // b's delete would mark the promise deleted, then fails to record it: the mark goes too.
    CHECK(gp_worker_delete_promise(b, &e.id) == GP_ECONFLICT);
    CHECK(gp_worker_complete_promise(&ok, b, &e.id, u8("x"), 1) == GP_ECONFLICT);
  }
  for (const auto& e : done) check_promise(h, e);
  check_oplog(h, a.id, 1001);
}

TEST_CASE("in memory, running out of memory fails only the calls that hit it and undoes nothing acknowledged",
          "[memory][nomem]") {
  Host h;
  Worker w(h, "frugal");
  Worker other(h, "completer");
  if (sqlite3_memory_used() == 0) SKIP("SQLite's memory statistics are off in this process: no heap limit applies");

  std::vector<Expect> acked;  // what calls reported done, and so must stay
  std::vector<gp_promise_id_t> failed;  // promises whose completion failed: still pending
  std::uint64_t oplog = 1, other_oplog = 1;
  int nomem = 0;
  const auto note = [&](int rc) {
    INFO(gp_last_error_message());
    CHECK(rc == GP_ENOMEM);
    nomem += rc == GP_ENOMEM;
  };
  // Rounds of calls that succeed, then calls under a heap limit just above what SQLite holds:
  // whatever the limit makes fail may take SQLite's whole open transaction with it, which
  // holds the acknowledged calls of the rounds since the last periodic commit.
  const std::int64_t slack[] = {0, 2048, 8192};
  for (int round = 0; round < 60; ++round) {
    sqlite3_hard_heap_limit64(0);
    Expect e;
    e.id = w.create();
    ++oplog;
    // Every fifth payload is over 64 KiB: written by blob I/O, which the redo log cannot
    // replay, so it must be committed before the calls under the limit below.
    e.payload = "fine " + std::to_string(round) + (round % 5 == 4 ? std::string(70000, 'f') : "");
    int ok = -1;
    REQUIRE(gp_host_complete_promise(&ok, h, &e.id, u8(e.payload), e.payload.size()) == GP_OK);
    e.state = Expect::completed;
    acked.push_back(e);
    const auto target = w.create();
    ++oplog;

    const std::string data = std::string(30000, 'x') + std::to_string(round);
    REQUIRE(sqlite3_hard_heap_limit64(sqlite3_memory_used() + slack[round % 3]) >= 0);
    // An outside completion (one statement) or a worker's (a savepoint with its oplog entry).
    int rc = round % 2 == 0 ? gp_host_complete_promise(&ok, h, &target, u8(data), data.size())
                            : gp_worker_complete_promise(&ok, other, &target, u8(data), data.size());
    if (rc == GP_OK) {
      REQUIRE(ok == 1);
      if (round % 2 == 1) ++other_oplog;
      acked.push_back({target, Expect::completed, data});
    } else {
      note(rc);
      failed.push_back(target);
    }
    gp_promise_id_t p{};
    rc = gp_worker_create_promise(&p, w);
    if (rc == GP_OK) {
      ++oplog;
      acked.push_back({p, Expect::pending, ""});
    } else {
      note(rc);
    }
  }
  sqlite3_hard_heap_limit64(0);
  CHECK(nomem > 0);  // the limit did bite; otherwise this test showed nothing


  // What was acknowledged is all there; what failed left its promise pending; the oplogs
  // hold exactly the calls that succeeded.
  for (const auto& e : acked) check_promise(h, e);
  for (const auto& id : failed) check_promise(h, {id, Expect::pending, ""});
  check_oplog(h, w.id, oplog);
  check_oplog(h, other.id, other_oplog);
  // And the host goes on.
  const auto p = w.create();
  int ok = -1;
  REQUIRE(gp_host_complete_promise(&ok, h, &p, u8("after"), 5) == GP_OK);
  Bytes b;
  REQUIRE(gp_worker_await_promise(b.out(), w, &p, 0) == GP_OK);
  CHECK(b.str() == "after");
}
