// Exactly one completion wins per promise across processes and threads, and the stored
// payload is the winner's; a deleted promise is PromiseNotFound for every racer.
#include <cstdio>
#include <map>
#include <vector>

#include "harness.hpp"

using namespace gpd;

TEST_CASE("8 processes of 4 threads completing the same 2000 promises: exactly one wins each, and its payload stays",
          "[durability][race]") {
  constexpr int kProcesses = 8;
  constexpr int kThreads = 4;
  constexpr int kPromises = 2000;
  TempDir dir;
  const auto db = dir.file("race.db");
  std::uint64_t first = 0;
  gp_worker_id_t wid{};
  {
    Host h(db, 0, GP_SYNCHRONOUS_NORMAL);  // setting up needs no fsync per promise
    Worker w(h, "contested");
    wid = w.id;
    for (int i = 0; i < kPromises; ++i) {
      const auto p = w.create();
      if (i == 0) first = p.oplog_idx;
      REQUIRE(p.oplog_idx == first + static_cast<std::uint64_t>(i));
    }
    // Every 100th is gone before the race: completing it is PromiseNotFound for everyone, in
    // the same group-committed batches as the winning completions.
    for (int i = 0; i < kPromises; i += 100) {
      const auto p = promise_id(wid, first + static_cast<std::uint64_t>(i));
      REQUIRE(gp_host_delete_promise(h, &p) == GP_OK);
    }
  }
  constexpr int kDeleted = kPromises / 100;
  const auto deleted = [&](std::uint64_t idx) { return (idx - first) % 100 == 0; };

  // The racers complete with synchronous=FULL (the default): true must mean durable.
  std::vector<std::unique_ptr<Child>> racers;
  for (int p = 0; p < kProcesses; ++p) {
    racers.push_back(std::make_unique<Child>(std::vector<std::string>{
        "race", db, "contested", std::to_string(first), std::to_string(kPromises), std::to_string(kThreads),
        std::to_string(p), std::to_string(GP_SYNCHRONOUS_FULL)}));
  }
  for (auto& r : racers) r->expect("ready");
  const auto t0 = now_ns();
  for (auto& r : racers) r->send("go");

  // winner[idx] = (process, thread); every win is counted, so a double win is caught.
  std::map<std::uint64_t, std::vector<std::pair<int, int>>> wins;
  long attempts = 0;
  long notfound = 0;
  for (int p = 0; p < kProcesses; ++p) {
    bool finished = false;
    for (const auto& line : racers[static_cast<std::size_t>(p)]->rest()) {
      const auto w = Child::words(line);
      INFO("racer " << p << " said: " << line);
      REQUIRE(!w.empty());
      if (w[0] == "win") {
        wins[static_cast<std::uint64_t>(to_i64(w.at(1)))].emplace_back(p, static_cast<int>(to_i64(w.at(2))));
      } else if (w[0] == "done") {
        attempts += to_i64(w.at(1));
        CHECK(w.at(2) == "0");  // no call failed: contention waits, it does not leak SQLITE_BUSY
        notfound += to_i64(w.at(3));
        finished = true;
      } else {
        FAIL("unexpected line");
      }
    }
    CHECK(finished);
    racers[static_cast<std::size_t>(p)]->require_clean_exit();
  }
  const auto elapsed = ms(now_ns() - t0);
  CHECK(attempts == static_cast<long>(kProcesses) * kThreads * kPromises);
  CHECK(notfound == static_cast<long>(kProcesses) * kThreads * kDeleted);
  std::printf("[durability] race: %ld completion attempts by %d processes x %d threads on %d promises in %.0f ms\n",
              attempts, kProcesses, kThreads, kPromises, elapsed);

  // Exactly one true per promise (none for the deleted ones)...
  int doubles = 0, on_deleted = 0;
  for (auto& [idx, who] : wins) {
    if (who.size() != 1) ++doubles;
    if (deleted(idx) || idx < first || idx >= first + kPromises) ++on_deleted;
  }
  CHECK(doubles == 0);
  CHECK(on_deleted == 0);
  REQUIRE(wins.size() == static_cast<std::size_t>(kPromises - kDeleted));

  // ...and what is stored is the winner's payload.
  Host h(db);
  int mismatches = 0;
  std::map<int, int> per_process;
  for (auto& [idx, who] : wins) {
    const auto [proc, thread] = who.front();
    ++per_process[proc];
    const auto p = promise_id(wid, idx);
    Payload b;
    int ready = -1;
    REQUIRE(gp_host_poll_promise(b.out(), &ready, h, &p) == GP_OK);
    REQUIRE(ready == 1);
    if (b.str() != race_payload(proc, thread, idx)) {
      if (++mismatches <= 5) UNSCOPED_INFO("promise " << idx << " holds '" << b.str() << "'");
    }
  }
  CHECK(mismatches == 0);
  for (int i = 0; i < kPromises; i += 100) {
    const auto p = promise_id(wid, first + static_cast<std::uint64_t>(i));
    Payload b;
    int ready = -1;
    CHECK(gp_host_poll_promise(b.out(), &ready, h, &p) == GP_ENOTFOUND);  // still gone
  }
  std::printf("[durability] race: wins per process:");
  for (auto& [proc, n] : per_process) std::printf(" p%d=%d", proc, n);
  std::printf("\n");
}
