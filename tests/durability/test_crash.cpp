// Crash safety: a completion that returned true survives SIGKILL of its process at any moment,
// and the file reopens cleanly afterwards.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "harness.hpp"

using namespace gpd;

namespace {

bool holds_payload(const Payload& b, std::uint64_t idx, int round) {
  return b.b.len == crash_payload_len(idx) && pattern_mismatch(b.b.data, b.b.len, crash_payload_seed(idx, round)) < 0;
}

}  // namespace

TEST_CASE("acknowledged completions survive SIGKILL of the completing process at random moments, 20 rounds",
          "[durability][crash]") {
  constexpr int kRounds = 20;
  constexpr int kPromises = 3000;
  constexpr int kThreads = 4;
  auto rng = kill_moments("crash loop");

  TempDir dir;
  const auto db = dir.file("crash.db");
  std::uint64_t first = 0;
  gp_worker_id_t wid{};
  {
    Host h(db, 0, GP_SYNCHRONOUS_NORMAL);  // setting up needs no fsync per promise
    Worker w(h, "crashy");
    wid = w.id;
    for (int i = 0; i < kPromises; ++i) {
      const auto p = w.create();
      if (i == 0) first = p.oplog_idx;
    }
  }

  // How long a child takes to start and open the file here (much longer under the sanitizers):
  // the kill window covers that and 60 ms of completions beyond it, so rounds get somewhere on
  // a slow machine too.
  int window_us = 0;
  {
    const auto t0 = now_ns();
    Child calibrate({"open-fresh", dir.file("calibrate.db")});
    calibrate.expect("opening");
    REQUIRE(calibrate.expect("opened").at(1) == "0");
    calibrate.require_clean_exit();
    window_us = static_cast<int>((now_ns() - t0) / 1000) + 60000;
  }

  std::map<std::uint64_t, int> acked;  // promise -> the round whose child acknowledged it
  std::set<std::uint64_t> acked_by_worker;
  int killed = 0;
  int finished = 0;
  for (int round = 0; round < kRounds; ++round) {
    // Kill anywhere from before the child has opened the file to well into its completions.
    const auto delay_us = std::uniform_int_distribution<int>(0, window_us)(rng);
    Child c({"crash-complete", db, "crashy", std::to_string(first), std::to_string(kPromises), std::to_string(round),
             std::to_string(kThreads)});
    // Choosing the moment of death, not waiting for anything: the pipe holds what the child says.
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
    c.kill();
    const int status = c.wait();
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
      ++killed;
    } else {
      INFO("child ended with " << Child::describe(status));
      REQUIRE(WIFEXITED(status));
      REQUIRE(WEXITSTATUS(status) == 0);
      ++finished;
    }
    int acks = 0;
    for (const auto& line : c.rest()) {
      const auto w = Child::words(line);
      INFO("round " << round << ", child said: " << line);
      REQUIRE(!w.empty());
      if (w[0] == "ack") {
        const auto idx = static_cast<std::uint64_t>(to_i64(w.at(1)));
        // Exactly once across crashes: a later child never wins a promise an earlier one won.
        INFO("promise " << idx << " acknowledged again; first in round " << (acked.count(idx) ? acked[idx] : -1));
        REQUIRE(acked.count(idx) == 0);
        acked[idx] = round;
        if (w.at(2) == "worker") acked_by_worker.insert(idx);
        ++acks;
      } else {
        REQUIRE((w[0] == "started" || w[0] == "finished"));
      }
    }
    UNSCOPED_INFO("round " << round << ": killed after " << delay_us << " us, " << acks << " acknowledged");
  }
  std::printf("[durability] crash loop: %d rounds (%d killed, %d ran to the end), %zu completions acknowledged\n",
              kRounds, killed, finished, acked.size());
  CHECK(killed > 0);
  CHECK(acked.size() < static_cast<std::size_t>(kPromises));  // the rounds really were cut short

  {
    // Reopens cleanly, and every acknowledged completion is there with its exact payload.
    Host h(db, 2000);
    int missing = 0, wrong = 0, unacked_completed = 0, foreign = 0, pending = 0;
    for (int i = 0; i < kPromises; ++i) {
      const auto idx = first + static_cast<std::uint64_t>(i);
      const auto p = promise_id(wid, idx);
      Payload b;
      int ready = -1;
      const int rc = gp_host_poll_promise(b.out(), &ready, h, &p);
      INFO("promise " << idx << ": " << gp_last_error_message());
      REQUIRE(rc == GP_OK);
      if (auto it = acked.find(idx); it != acked.end()) {
        if (ready != 1) {
          ++missing;
        } else if (!holds_payload(b, idx, it->second)) {
          ++wrong;
        }
      } else if (ready == 1) {
        // Committed, but the child died before it could say so: must be some round's payload.
        bool any = false;
        for (int r = 0; r < kRounds && !any; ++r) any = holds_payload(b, idx, r);
        ++(any ? unacked_completed : foreign);
      } else {
        ++pending;
      }
    }
    std::printf("[durability] crash loop: %d completed but unacknowledged (died between commit and ack), %d still pending\n",
                unacked_completed, pending);
    CHECK(missing == 0);
    CHECK(wrong == 0);
    CHECK(foreign == 0);

    // The completing worker's oplog: every entry there and sound, each one's effect present
    // (the entry and the completion were committed together), each acknowledged worker
    // completion recorded exactly once.
    gp_worker_id_t cid{};
    REQUIRE(make_worker_id(&cid, "completer"));
    std::uint64_t n = 0;
    const int length_rc = gp_host_oplog_length(&n, h, &cid);
    // No child got as far as opening its worker (every round killed early): nothing recorded.
    if (length_rc == GP_EWORKERNOTFOUND) CHECK(acked_by_worker.empty());
    if (length_rc != GP_EWORKERNOTFOUND) REQUIRE(length_rc == GP_OK);
    std::map<std::uint64_t, int> recorded_wins;
    int recorded_losses = 0, effect_missing = 0;
    for (std::uint64_t i = 1; i <= n; ++i) {
      gp_oplog_entry_t e{};
      const int rc = gp_host_oplog_read(&e, h, &cid, i);
      INFO("completer's oplog entry " << i << " of " << n << ": " << gp_last_error_message());
      REQUIRE(rc == GP_OK);
      if (i == 1) {
        CHECK(e.kind == GP_OPLOG_CREATE);
        continue;
      }
      REQUIRE(e.kind == GP_OPLOG_COMPLETE_PROMISE);
      CHECK(e.status == GP_OK);
      if (!e.result_flag) {
        ++recorded_losses;
        continue;
      }
      ++recorded_wins[e.promise_id.oplog_idx];
      const auto p = promise_id(wid, e.promise_id.oplog_idx);
      Payload b;
      int ready = -1;
      REQUIRE(gp_host_poll_promise(b.out(), &ready, h, &p) == GP_OK);
      if (ready != 1 || b.b.len != e.payload_len || fnv1a64(b.b.data, b.b.len) != e.payload_hash) ++effect_missing;
    }
    CHECK(effect_missing == 0);
    int twice = 0, unrecorded = 0;
    for (auto& [idx, k] : recorded_wins) twice += k > 1;
    for (auto idx : acked_by_worker) unrecorded += recorded_wins.count(idx) == 0;
    CHECK(twice == 0);
    CHECK(unrecorded == 0);
    std::printf("[durability] crash loop: the completing worker's oplog holds %llu entries, %zu winning completions "
                "(%zu acknowledged), %d losing\n",
                static_cast<unsigned long long>(n), recorded_wins.size(), acked_by_worker.size(), recorded_losses);

    // No stuck lock: a write goes through at once.
    const auto p = promise_id(wid, first + kPromises - 1);
    int done = -1;
    const auto t0 = now_ns();
    const int rc = gp_host_complete_promise(&done, h, &p, u8("after the crashes"), 17);
    INFO(gp_last_error_message());
    CHECK(rc == GP_OK);
    CHECK(ms(now_ns() - t0) < 1000.0);
    Worker w(h, "after-crash");
    w.create();
  }
  // All hosts closed: the file itself is sound.
  RawDb raw(db);
  CHECK(raw.texts("PRAGMA integrity_check") == std::vector<std::string>{"ok"});
  CHECK(raw.texts("PRAGMA journal_mode") == std::vector<std::string>{"wal"});
}
