// A worker runs in one place at a time: two handles of one worker must not both append to its
// oplog, or a restart would replay one execution's results into the other (ids would move).
// The handle that finds the oplog longer than it left it gets GP_ECONFLICT and writes nothing.
#include "support.hpp"

#include <catch2/matchers/catch_matchers_string.hpp>

#include <string>

using namespace gpt;
using Catch::Matchers::ContainsSubstring;

namespace {

// Every worker-level call that appends, made on `w`, must fail with GP_ECONFLICT.
void every_call_conflicts(gp_host* h, gp_worker* w, const gp_worker_id_t& id, const gp_promise_id_t& theirs) {
  const auto before = oplog_length(h, id);
  gp_promise_id_t p{};
  CHECK(gp_worker_create_promise(&p, w) == GP_ECONFLICT);
  CHECK_THAT(gp_last_error_message(), ContainsSubstring("another handle of the same worker"));
  int done = -1;
  CHECK(gp_worker_complete_promise(&done, w, &theirs, u8("x"), 1) == GP_ECONFLICT);
  Bytes b;
  int ready = -1;
  CHECK(gp_worker_poll_promise(b.out(), &ready, w, &theirs) == GP_ECONFLICT);
  std::uint64_t idx = 0;
  CHECK(gp_worker_get_oplog_index(&idx, w) == GP_ECONFLICT);
  CHECK(gp_worker_delete_promise(w, &theirs) == GP_ECONFLICT);
  CHECK(oplog_length(h, id) == before);  // nothing written
  // The promise the other handle created was neither completed nor deleted.
  CHECK(gp_host_poll_promise(b.out(), &ready, h, &theirs) == GP_OK);
  CHECK(ready == 0);
}

}  // namespace

TEST_CASE("two live handles of one worker: the one that falls behind gets GP_ECONFLICT", "[replay][conflict]") {
  Host h;
  Worker a(h, "twin");
  Worker b(h, "twin");
  const auto p2 = a.create();
  CHECK(p2.oplog_idx == 2);
  every_call_conflicts(h, b, a.id, p2);
  // a, which wrote last, goes on.
  CHECK(a.create().oplog_idx == 3);
}

TEST_CASE("after GP_ECONFLICT, restart replays the oplog as it is and the handle goes on", "[replay][conflict]") {
  Host h;
  Worker a(h, "twin");
  Worker b(h, "twin");
  a.create();
  gp_promise_id_t p{};
  REQUIRE(gp_worker_create_promise(&p, b) == GP_ECONFLICT);
  REQUIRE(gp_worker_restart(b) == GP_OK);
  // b's execution from the start: its first create is answered from a's entry 2 ...
  CHECK(b.create().oplog_idx == 2);
  // ... and its next runs live at the end; now a is the one behind.
  CHECK(b.create().oplog_idx == 3);
  CHECK(gp_worker_create_promise(&p, a) == GP_ECONFLICT);
}

TEST_CASE("two hosts on one file (as two processes): a worker handle in each conflicts", "[replay][conflict][file]") {
  TempDir dir;
  const std::string path = dir.file("twins.db");
  Host h1(path);
  Host h2(path);
  Worker a(h1, "twin");
  Worker b(h2, "twin", kComponent, GP_WORKER_OPEN_LIVE);
  const auto p2 = a.create();
  every_call_conflicts(h2, b, a.id, p2);
  CHECK(a.create().oplog_idx == 3);
  // Reopening is a restart: the new handle replays entries 2 and 3, then runs live.
  Worker c(h2, "twin");
  CHECK(c.create().oplog_idx == 2);
  CHECK(c.create().oplog_idx == 3);
  CHECK(c.create().oplog_idx == 4);
}

TEST_CASE("a replaying handle that reaches the end conflicts if another handle appended meanwhile", "[replay][conflict]") {
  Host h;
  {
    Worker first(h, "twin");
    first.create();  // entry 2
  }
  Worker replayer(h, "twin");  // replays up to entry 2
  Worker other(h, "twin", kComponent, GP_WORKER_OPEN_LIVE);
  CHECK(other.create().oplog_idx == 3);
  CHECK(replayer.create().oplog_idx == 2);  // replayed: fine
  gp_promise_id_t p{};
  CHECK(gp_worker_create_promise(&p, replayer) == GP_ECONFLICT);  // would have taken 3
}

TEST_CASE("a handle whose own write failed is not taken for a conflict", "[replay][conflict]") {
  Host h;
  Worker w(h, "solo");
  const auto p = w.create();
  // A payload over the limit fails before anything is written; the next calls go on.
  int done = -1;
  CHECK(gp_worker_complete_promise(&done, w, &p, u8("x"), GP_MAX_PAYLOAD + 1) == GP_ETOOBIG);
  CHECK(w.create().oplog_idx == 3);
  // A call that fails with a recorded status (PromiseNotFound) is an entry of this handle.
  gp_promise_id_t gone = p;
  gone.oplog_idx = 99;
  CHECK(gp_worker_complete_promise(&done, w, &gone, u8("x"), 1) == GP_ENOTFOUND);
  CHECK(w.create().oplog_idx == 5);
}
