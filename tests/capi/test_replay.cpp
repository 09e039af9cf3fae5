// Durable execution (DESIGN §3): a worker reopened over its oplog replays its recorded calls,
// answered from the oplog; a call that differs is a non-determinism error.
#include "support.hpp"

#include <catch2/matchers/catch_matchers_string.hpp>

#include <cstring>
#include <string>

using namespace gpt;
using Catch::Matchers::ContainsSubstring;

namespace {

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

// The recorded run (entries 2..6): create p, create q, [host completes p with "v1"], await p,
// poll q, delete q.
struct Recorded {
  gp_promise_id_t p{}, q{};
};

Recorded record_run(gp_host* h, Worker& w) {
  Recorded r;
  r.p = w.create();
  r.q = w.create();
  int done = -1;
  REQUIRE(gp_host_complete_promise(&done, h, &r.p, u8("v1"), 2) == GP_OK);
  Bytes b;
  REQUIRE(gp_worker_await_promise(b.out(), w, &r.p, 0) == GP_OK);
  int ready = -1;
  REQUIRE(gp_worker_poll_promise(b.out(), &ready, w, &r.q) == GP_OK);
  REQUIRE(ready == 0);
  REQUIRE(gp_worker_delete_promise(w, &r.q) == GP_OK);
  return r;
}

}  // namespace

TEST_CASE("a reopened worker replays its recorded calls with the recorded results", "[replay]") {
  TempDir dir;
  const std::string path = dir.file("replay.db");
  Recorded rec;
  std::uint64_t length = 0;
  {
    Host h(path);
    Worker w(h, "replayer");
    CHECK(replaying(w) == 0);
    rec = record_run(h, w);
    length = oplog_length(h, w.id);
    REQUIRE(length == 6);  // the host-level complete wrote nothing
  }
  Host h(path);
  // Meanwhile the world moved on: p is deleted, and q would now be gone too.
  REQUIRE(gp_host_delete_promise(h, &rec.p) == GP_OK);

  Worker w(h, "replayer");
  CHECK(replaying(w) == 1);
  CHECK(position(w) == 1);

  gp_promise_id_t p = w.create();
  CHECK(same_id(p, rec.p));  // the recorded id, not a new one
  gp_promise_id_t q = w.create();
  CHECK(same_id(q, rec.q));
  Bytes b;
  REQUIRE(gp_worker_await_promise(b.out(), w, &p, 0) == GP_OK);
  CHECK(b.str() == "v1");  // the recorded payload, though the promise is deleted now
  int ready = -1;
  REQUIRE(gp_worker_poll_promise(b.out(), &ready, w, &q) == GP_OK);
  CHECK(ready == 0);  // as recorded
  CHECK(replaying(w) == 1);
  CHECK(position(w) == 5);
  REQUIRE(gp_worker_delete_promise(w, &q) == GP_OK);
  CHECK(oplog_length(h, w.id) == length);  // replay writes nothing

  CHECK(replaying(w) == 0);  // recorded entries used up: live
  gp_promise_id_t fresh = w.create();
  CHECK(fresh.oplog_idx == length + 1);
  CHECK(oplog_length(h, w.id) == length + 1);
  CHECK(position(w) == length + 1);
}

TEST_CASE("a replayed call that differs from the recording is GP_ENONDETERMINISM", "[replay]") {
  Host h;
  Worker w(h, "diverges");
  Recorded rec = record_run(h, w);
  const auto length = oplog_length(h, w.id);
  REQUIRE(gp_worker_restart(w) == GP_OK);
  CHECK(replaying(w) == 1);

  SECTION("another function") {
    std::uint64_t idx = 0;
    CHECK(gp_worker_get_oplog_index(&idx, w) == GP_ENONDETERMINISM);
    std::string msg = gp_last_error_message();
    CAPTURE(msg);
    CHECK_THAT(msg, ContainsSubstring("2"));  // the oplog index
    CHECK_THAT(msg, ContainsSubstring("create-promise"));
    CHECK_THAT(msg, ContainsSubstring("get-oplog-index"));
  }
  SECTION("another payload") {
    w.create();
    w.create();
    // Recorded: host completed p, then the worker awaited it.  Completing from the worker
    // instead of awaiting differs.
    int done = -1;
    CHECK(gp_worker_complete_promise(&done, w, &rec.p, u8("v2"), 2) == GP_ENONDETERMINISM);
  }
  SECTION("another promise id") {
    w.create();
    w.create();
    Bytes b;
    CHECK(gp_worker_await_promise(b.out(), w, &rec.q, 0) == GP_ENONDETERMINISM);
  }
  CHECK(gp_last_error_code() == GP_ENONDETERMINISM);
  CHECK(oplog_length(h, w.id) == length);  // nothing written
}

TEST_CASE("opening with GP_WORKER_OPEN_LIVE skips replay", "[replay]") {
  TempDir dir;
  const std::string path = dir.file("live.db");
  std::uint64_t length = 0;
  {
    Host h(path);
    Worker w(h, "live");
    record_run(h, w);
    length = oplog_length(h, w.id);
  }
  Host h(path);
  Worker w(h, "live", kComponent, GP_WORKER_OPEN_LIVE);
  CHECK(replaying(w) == 0);
  CHECK(position(w) == length);
  std::uint64_t idx = 0;
  REQUIRE(gp_worker_get_oplog_index(&idx, w) == GP_OK);
  CHECK(idx == length + 1);
}

TEST_CASE("a new worker and a worker with only its creation entry start live", "[replay]") {
  Host h;
  Worker a(h, "new");
  CHECK(replaying(a) == 0);
  Worker again(h, "new");
  CHECK(replaying(again) == 0);
  CHECK(again.create().oplog_idx == 2);
}

TEST_CASE("replay entry points check their arguments", "[replay][errors]") {
  Host h;
  Worker w(h, "args");
  gp_worker_id_t id = w.id;
  gp_worker* out = nullptr;
  int flag = 0;
  std::uint64_t n = 0;
  CHECK(gp_worker_open_v2(nullptr, h, &id, 0) == GP_EINVAL);
  CHECK(gp_worker_open_v2(&out, nullptr, &id, 0) == GP_EINVAL);
  CHECK(gp_worker_open_v2(&out, h, nullptr, 0) == GP_EINVAL);
  CHECK(gp_worker_open_v2(&out, h, &id, 0x80000000u) == GP_EINVAL);  // unknown flag
  CHECK(out == nullptr);
  CHECK(gp_worker_restart(nullptr) == GP_EINVAL);
  CHECK(gp_worker_is_replaying(nullptr, w) == GP_EINVAL);
  CHECK(gp_worker_is_replaying(&flag, nullptr) == GP_EINVAL);
  CHECK(gp_worker_oplog_position(nullptr, w) == GP_EINVAL);
  CHECK(gp_worker_oplog_position(&n, nullptr) == GP_EINVAL);
  CHECK(std::strlen(gp_last_error_message()) > 0);
  gp_worker_close(&out);
}

namespace {

// The payloads returned by one run of a worker that polls and awaits promises of every payload
// size (empty, small, past the 4 KiB that replay reads ahead with its batch, past the 64 KiB
// inline limit), soon after creating them and more than a batch of entries (256) later, and
// polls another worker's promise.
std::vector<std::string> payload_run(Worker& w, const gp_promise_id_t& foreign) {
  std::vector<std::string> seen;
  const std::size_t sizes[] = {0, 1, 4096, 4097, 70000};
  std::vector<gp_promise_id_t> early;
  for (std::size_t i = 0; i < 300; ++i) {
    const gp_promise_id_t p = w.create();
    const std::string data(sizes[i % 5], static_cast<char>('a' + i % 26));
    int done = -1;
    REQUIRE(gp_worker_complete_promise(&done, w, &p, u8(data), data.size()) == GP_OK);
    Bytes b;
    int ready = -1;
    REQUIRE(gp_worker_poll_promise(b.out(), &ready, w, &p) == GP_OK);
    REQUIRE(ready == 1);
    seen.push_back(b.str());
    if (i % 7 == 0) early.push_back(p);
  }
  for (const auto& p : early) {  // hundreds of entries after they were created
    Bytes b;
    REQUIRE(gp_worker_await_promise(b.out(), w, &p, 0) == GP_OK);
    seen.push_back(b.str());
  }
  REQUIRE(gp_worker_delete_promise(w, &early[1]) == GP_OK);
  Bytes b;
  int ready = -1;
  REQUIRE(gp_worker_poll_promise(b.out(), &ready, w, &foreign) == GP_OK);
  REQUIRE(ready == 1);
  seen.push_back(b.str());
  return seen;
}

}  // namespace

TEST_CASE("replayed polls and awaits return the recorded payloads of every size and age", "[replay]") {
  TempDir dir;
  for (const std::string& path : {std::string(":memory:"), dir.file("payloads.db")}) {
    CAPTURE(path);
    Host h(path);
    Worker other(h, "payload-owner");
    const gp_promise_id_t foreign = other.create();
    int done = -1;
    REQUIRE(gp_worker_complete_promise(&done, other, &foreign, u8("foreign payload"), 15) == GP_OK);
    Worker w(h, "payloads");
    const auto live = payload_run(w, foreign);
    const auto length = oplog_length(h, w.id);
    // Deleted since: the replayed poll of the other worker's promise still returns its payload.
    REQUIRE(gp_host_delete_promise(h, &foreign) == GP_OK);
    for (int round = 0; round < 2; ++round) {  // restarting mid-way through the replay too
      REQUIRE(gp_worker_restart(w) == GP_OK);
      if (round == 1) {
        CHECK(same_id(w.create(), gp_promise_id_t{w.id, 2}));
        REQUIRE(gp_worker_restart(w) == GP_OK);
      }
      CHECK(payload_run(w, foreign) == live);
      CHECK(replaying(w) == 0);
      CHECK(oplog_length(h, w.id) == length);
    }
  }
}
