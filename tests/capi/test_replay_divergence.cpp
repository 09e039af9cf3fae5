// Replay through the C ABI, issue 6 sentence by sentence: every kind of divergence is
// GP_ENONDETERMINISM naming the oplog index, the recorded call and the attempted one, and writes
// nothing; an await that was pending at the crash is answered from the store on replay.
#include "support.hpp"

#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cinttypes>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>

using namespace gpt;
using Catch::Matchers::ContainsSubstring;
using Catch::Matchers::EndsWith;

namespace {

std::string hex(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

int replaying(gp_worker* w) {
  int r = -1;
  REQUIRE(gp_worker_is_replaying(&r, w) == GP_OK);
  return r;
}

std::uint64_t position(gp_worker* w) {
  std::uint64_t p = 0;
  REQUIRE(gp_worker_oplog_position(&p, w) == GP_OK);
  return p;
}

}  // namespace

TEST_CASE("each kind of replay divergence is GP_ENONDETERMINISM naming index, recorded and attempted call",
          "[replay]") {
  Host h;
  Worker w(h, "strict");
  // Recorded: 2 create p, 3 complete p "one", 4 poll p, 5 delete p, 6 get-oplog-index.
  const gp_promise_id_t p = w.create();
  int done = -1;
  REQUIRE(gp_worker_complete_promise(&done, w, &p, u8("one"), 3) == GP_OK);
  Bytes b;
  int ready = -1;
  REQUIRE(gp_worker_poll_promise(b.out(), &ready, w, &p) == GP_OK);
  REQUIRE(gp_worker_delete_promise(w, &p) == GP_OK);
  std::uint64_t idx = 0;
  REQUIRE(gp_worker_get_oplog_index(&idx, w) == GP_OK);
  const std::uint64_t length = oplog_length(h, w.id);
  REQUIRE(length == 6);

  gp_promise_id_t other = p;
  other.oplog_idx = 42;
  const std::string P = format(p), Q = format(other);

  struct Case {
    const char* name;
    std::uint64_t diverges_at;  // the recorded entry the attempted call is matched with
    std::function<int()> attempt;
    std::string recorded, attempted;
  };
  const Case cases[] = {
      {"another function instead of create", 2, [&] { return gp_worker_get_oplog_index(&idx, w); },
       "create-promise()", "get-oplog-index()"},
      {"another function instead of complete", 3, [&] { return gp_worker_poll_promise(b.out(), &ready, w, &p); },
       "complete-promise(" + P + ", 3 bytes)", "poll-promise(" + P + ")"},
      {"another promise id to complete", 3,
       [&] { return gp_worker_complete_promise(&done, w, &other, u8("one"), 3); },
       "complete-promise(" + P + ", 3 bytes)", "complete-promise(" + Q + ", 3 bytes)"},
      {"another payload of another length", 3, [&] { return gp_worker_complete_promise(&done, w, &p, u8("three"), 5); },
       "complete-promise(" + P + ", 3 bytes)", "complete-promise(" + P + ", 5 bytes)"},
      {"another payload of the same length", 3, [&] { return gp_worker_complete_promise(&done, w, &p, u8("two"), 3); },
       "complete-promise(" + P + ", 3 bytes, fnv1a64 " + hex(fnv1a64("one")) + ")",
       "complete-promise(" + P + ", 3 bytes, fnv1a64 " + hex(fnv1a64("two")) + ")"},
      {"an empty payload for a recorded one", 3, [&] { return gp_worker_complete_promise(&done, w, &p, nullptr, 0); },
       "complete-promise(" + P + ", 3 bytes)", "complete-promise(" + P + ", 0 bytes)"},
      {"another promise id to poll", 4, [&] { return gp_worker_poll_promise(b.out(), &ready, w, &other); },
       "poll-promise(" + P + ")", "poll-promise(" + Q + ")"},
      {"an await for a recorded poll", 4, [&] { return gp_worker_await_promise(b.out(), w, &p, 0); },
       "poll-promise(" + P + ")", "await-promise(" + P + ")"},
      {"another promise id to delete", 5, [&] { return gp_worker_delete_promise(w, &other); },
       "delete-promise(" + P + ")", "delete-promise(" + Q + ")"},
      {"a create for a recorded get-oplog-index", 6,
       [&] {
         gp_promise_id_t x{};
         return gp_worker_create_promise(&x, w);
       },
       "get-oplog-index()", "create-promise()"},
  };
  // The matching calls that lead up to entry n (they replay, answering from the oplog).
  const auto replay_until = [&](std::uint64_t n) {
    if (n > 2) REQUIRE(same_id(w.create(), p));
    if (n > 3) {
      REQUIRE(gp_worker_complete_promise(&done, w, &p, u8("one"), 3) == GP_OK);
      REQUIRE(done == 1);
    }
    if (n > 4) {
      REQUIRE(gp_worker_poll_promise(b.out(), &ready, w, &p) == GP_OK);
      REQUIRE(b.str() == "one");
    }
    if (n > 5) REQUIRE(gp_worker_delete_promise(w, &p) == GP_OK);
  };

  for (const auto& c : cases) {
    CAPTURE(c.name);
    REQUIRE(gp_worker_restart(w) == GP_OK);
    replay_until(c.diverges_at);
    REQUIRE(replaying(w) == 1);
    const int rc = c.attempt();
    CHECK(rc == GP_ENONDETERMINISM);
    CHECK(gp_last_error_code() == GP_ENONDETERMINISM);
    const std::string msg = gp_last_error_message();
    CAPTURE(msg);
    CHECK_THAT(msg, ContainsSubstring("worker " + std::string(kComponent) + "/strict at oplog index " +
                                      std::to_string(c.diverges_at) + ": "));
    CHECK_THAT(msg, ContainsSubstring("recorded " + c.recorded + ", attempted " + c.attempted));
    CHECK_THAT(msg, EndsWith(c.attempted));
    CHECK(oplog_length(h, w.id) == length);  // nothing written
    CHECK(replaying(w) == 1);                 // still waiting for the same entry
    CHECK(position(w) == c.diverges_at - 1);
  }
}

TEST_CASE("an await pending at the crash is answered from the store on replay", "[replay]") {
  TempDir dir;
  const std::string path = dir.file("pending.db");
  gp_promise_id_t p{};
  {
    Host h(path);
    Worker w(h, "sleeper");
    p = w.create();
    Bytes b;
    REQUIRE(gp_worker_await_promise(b.out(), w, &p, 0) == GP_ETIMEOUT);  // pending at the "crash"
    REQUIRE(oplog_length(h, w.id) == 2);  // an unfinished await is not recorded
  }
  Host h(path);
  const bool completed_while_down = GENERATE(true, false);
  CAPTURE(completed_while_down);
  if (completed_while_down) {
    int done = -1;
    REQUIRE(gp_host_complete_promise(&done, h, &p, u8("while down"), 10) == GP_OK);
  }
  Worker w(h, "sleeper");
  CHECK(replaying(w) == 1);
  CHECK(same_id(w.create(), p));  // replayed: the same id, nothing written
  CHECK(replaying(w) == 0);       // the await was never recorded, so it runs live
  Bytes b;
  if (completed_while_down) {
    // Returned at once (timeout 0: one check of the store, no waiting).
    REQUIRE(gp_worker_await_promise(b.out(), w, &p, 0) == GP_OK);
  } else {
    // Still pending: the replayed worker waits, and a completion wakes it.
    int completed = -1;
    std::thread completer([&] {
      int done = -1;
      // Let the await block first when it can; its result does not depend on this order.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      completed = gp_host_complete_promise(&done, h, &p, u8("while down"), 10);
    });
    const int rc = gp_worker_await_promise(b.out(), w, &p, -1);
    completer.join();
    REQUIRE(completed == GP_OK);
    REQUIRE(rc == GP_OK);
  }
  CHECK(b.str() == "while down");
  CHECK(oplog_length(h, w.id) == 3);
  CHECK(oplog_entry(h, w.id, 3).kind == GP_OPLOG_AWAIT_PROMISE);

  // And once recorded, the next restart answers the await from the oplog.
  REQUIRE(gp_host_delete_promise(h, &p) == GP_OK);
  REQUIRE(gp_worker_restart(w) == GP_OK);
  CHECK(same_id(w.create(), p));
  REQUIRE(gp_worker_await_promise(b.out(), w, &p, 0) == GP_OK);
  CHECK(b.str() == "while down");
  CHECK(oplog_length(h, w.id) == 3);
}
