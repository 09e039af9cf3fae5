// Cross-process completion, deletion and wake-ups on one database file.  The waiters are other
// processes (gp_durability_child); they are known to be asleep in the await before the
// completion is made, by watching their threads enter a futex wait in /proc.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <numeric>
#include <vector>

#include "harness.hpp"

using namespace gpd;

namespace {

constexpr int kBlockedWithinMs = 10000;

std::uint64_t pattern_fnv(std::size_t len, std::uint64_t seed) {
  std::vector<std::uint8_t> data(len);
  fill_pattern(data.data(), len, seed);
  return fnv1a64(data.data(), len);
}

}  // namespace

TEST_CASE("a worker awaiting in one process gets the payload a second process completes", "[durability][cross]") {
  TempDir dir;
  const auto db = dir.file("shared.db");
  Child a({"worker-await", db, "waiter", "60000", "0"});
  const auto idx = a.expect("promise").at(1);
  a.expect("awaiting");
  REQUIRE(wait_in_futex(a.pid(), 1, kBlockedWithinMs));  // A sleeps in the await

  Child b({"complete", db, "waiter", idx, "1000", "77"});
  const auto done = b.expect("result");
  CHECK(done.at(1) == "0");  // GP_OK
  CHECK(done.at(2) == "1");  // this completion won
  b.require_clean_exit();

  const auto r = a.expect("result");
  CHECK(r.at(1) == "0");
  CHECK(r.at(2) == "1000");
  CHECK(r.at(3) == std::to_string(pattern_fnv(1000, 77)));
  a.require_clean_exit();

  // A third process sees that A's finished await was recorded with the payload it received.
  Host h(db);
  gp_worker_id_t wid{};
  REQUIRE(make_worker_id(&wid, "waiter"));
  std::uint64_t n = 0;
  REQUIRE(gp_host_oplog_length(&n, h, &wid) == GP_OK);
  REQUIRE(n == 3);  // create, create-promise, await-promise
  gp_oplog_entry_t e{};
  REQUIRE(gp_host_oplog_read(&e, h, &wid, 3) == GP_OK);
  CHECK(e.kind == GP_OPLOG_AWAIT_PROMISE);
  CHECK(e.status == GP_OK);
  CHECK(e.payload_len == 1000);
  CHECK(e.payload_hash == pattern_fnv(1000, 77));
}

TEST_CASE("deleting a promise in another process wakes its awaiting worker with GP_ENOTFOUND", "[durability][cross]") {
  TempDir dir;
  const auto db = dir.file("shared.db");
  Child a({"worker-await", db, "doomed", "60000", "0"});
  const auto idx = a.expect("promise").at(1);
  a.expect("awaiting");
  REQUIRE(wait_in_futex(a.pid(), 1, kBlockedWithinMs));

  Child b({"delete", db, "doomed", idx});
  CHECK(b.expect("result").at(1) == "0");
  b.require_clean_exit();

  const auto line = a.line();
  const auto r = Child::words(line);
  REQUIRE(r.at(0) == "result");
  CHECK(r.at(1) == std::to_string(GP_ENOTFOUND));
  CHECK(r.at(2) == "0");
  CHECK(tail_words(line, 5).find("not found") != std::string::npos);
  a.require_clean_exit();
}

namespace {

constexpr int kFanProcesses = 4;
constexpr int kFanThreads = 3;

// kFanProcesses processes of kFanThreads threads each, all awaiting promise p at host level and
// known to be asleep.  Their fallback poll is 10 s: one that wakes sooner was woken by the
// change itself.
std::vector<std::unique_ptr<Child>> fan_of_waiters(const std::string& db, const gp_promise_id_t& p) {
  std::vector<std::unique_ptr<Child>> waiters;
  for (int i = 0; i < kFanProcesses; ++i) {
    waiters.push_back(std::make_unique<Child>(std::vector<std::string>{
        "host-await", db, p.worker_id.worker_name, std::to_string(p.oplog_idx), std::to_string(kFanThreads), "60000",
        "10000000"}));
  }
  for (auto& c : waiters) {
    for (int t = 0; t < kFanThreads; ++t) c->expect("awaiting");
  }
  // Every thread asleep: the awaiting ones, and the main thread in pthread_join.
  for (auto& c : waiters) REQUIRE(wait_in_futex(c->pid(), kFanThreads + 1, kBlockedWithinMs));
  return waiters;
}

// Every waiter's result line, checked by `check` (given its words and whole line); returns how
// long after t0 each woke, and requires far below the 10 s fallback poll for the slowest.
template <class Check>
std::vector<double> fan_results(std::vector<std::unique_ptr<Child>>& waiters, std::int64_t t0, const char* what,
                                Check check) {
  std::vector<double> wake_ms;
  for (auto& c : waiters) {
    for (int t = 0; t < kFanThreads; ++t) {
      const auto line = c->line();
      const auto r = Child::words(line);
      INFO("waiter said: " << line);
      REQUIRE(r.at(0) == "result");
      check(r, line);
      wake_ms.push_back(ms(to_i64(r.at(5)) - t0));
    }
    c->require_clean_exit();
  }
  REQUIRE(wake_ms.size() == kFanProcesses * kFanThreads);
  std::sort(wake_ms.begin(), wake_ms.end());
  std::printf("[durability] %d waiters in %d processes woke %.3f .. %.3f ms after the %s call began\n",
              kFanProcesses * kFanThreads, kFanProcesses, wake_ms.front(), wake_ms.back(), what);
  CHECK(wake_ms.back() < 5000.0);
  return wake_ms;
}

}  // namespace

TEST_CASE("every waiter in every process wakes with the payload of one completion from another process",
          "[durability][cross]") {
  TempDir dir;
  const auto db = dir.file("shared.db");
  Host h(db);
  Worker w(h, "fan-out");
  const auto p = w.create();
  auto waiters = fan_of_waiters(db, p);

  std::vector<std::uint8_t> data(5000);
  fill_pattern(data.data(), data.size(), 4242);
  int done = -1;
  const auto t0 = now_ns();
  REQUIRE(gp_host_complete_promise(&done, h, &p, data.data(), data.size()) == GP_OK);
  REQUIRE(done == 1);
  fan_results(waiters, t0, "completion", [&](const std::vector<std::string>& r, const std::string&) {
    CHECK(r.at(2) == "0");
    CHECK(r.at(3) == "5000");
    CHECK(r.at(4) == std::to_string(fnv1a64(data.data(), data.size())));
  });
}

TEST_CASE("every waiter in every process wakes with GP_ENOTFOUND when another process deletes the promise",
          "[durability][cross]") {
  TempDir dir;
  const auto db = dir.file("shared.db");
  Host h(db);
  Worker w(h, "fan-out-deleted");
  const auto p = w.create();
  auto waiters = fan_of_waiters(db, p);

  const auto t0 = now_ns();
  REQUIRE(gp_worker_delete_promise(w, &p) == GP_OK);
  fan_results(waiters, t0, "deletion", [&](const std::vector<std::string>& r, const std::string& line) {
    CHECK(r.at(2) == std::to_string(GP_ENOTFOUND));
    CHECK(r.at(3) == "0");  // no payload
    CHECK(tail_words(line, 6).find("not found") != std::string::npos);
  });
  // The promise stays gone for everyone, the deleter included.
  Payload b;
  int ready = -1;
  CHECK(gp_host_poll_promise(b.out(), &ready, h, &p) == GP_ENOTFOUND);
}

TEST_CASE("a waiter in another process wakes well under the fallback poll when a completion rings",
          "[durability][cross][latency]") {
  constexpr int kRounds = 20;
  TempDir dir;
  const auto db = dir.file("shared.db");
  Host h(db);
  Worker w(h, "pinged");
  std::vector<gp_promise_id_t> ps;
  for (int i = 0; i < kRounds; ++i) ps.push_back(w.create());
  for (int i = 1; i < kRounds; ++i) REQUIRE(ps[i].oplog_idx == ps[0].oplog_idx + i);

  // The waiter re-checks the store only every 10 s on its own, so only the doorbell can wake it
  // within the bound asserted below.
  Child c({"await-loop", db, "pinged", std::to_string(ps[0].oplog_idx), std::to_string(kRounds), "10000000"});
  std::vector<double> from_call, from_return, call;
  for (int i = 0; i < kRounds; ++i) {
    const auto waiting = c.expect("waiting");
    REQUIRE(waiting.at(1) == std::to_string(ps[i].oplog_idx));
    REQUIRE(wait_in_futex(c.pid(), 1, kBlockedWithinMs));
    int done = -1;
    const auto t0 = now_ns();
    REQUIRE(gp_host_complete_promise(&done, h, &ps[i], u8("ping"), 4) == GP_OK);
    const auto t1 = now_ns();
    REQUIRE(done == 1);
    const auto woke = c.expect("woke");
    REQUIRE(woke.at(1) == std::to_string(ps[i].oplog_idx));
    REQUIRE(woke.at(2) == "0");
    const auto t = to_i64(woke.at(3));
    from_call.push_back(ms(t - t0));
    from_return.push_back(ms(t - t1));
    call.push_back(ms(t1 - t0));
  }
  c.require_clean_exit();
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  const auto max = [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); };
  std::printf("[durability] cross-process wake-up over %d rounds (synchronous=FULL completer): "
              "after the call began median %.3f ms, max %.3f ms; after it returned median %.3f ms, max %.3f ms; "
              "the completion call itself median %.3f ms\n",
              kRounds, median(from_call), max(from_call), median(from_return), max(from_return), median(call));
  CHECK(median(from_call) < 20.0);
  CHECK(max(from_call) < 5000.0);  // never the 10 s fallback
}

TEST_CASE("a waiter that opened the database through a symlink is woken by a process that opened the real path",
          "[durability][cross][symlink]") {
  TempDir dir;
  std::filesystem::create_directory(dir.path / "real");
  std::filesystem::create_directory(dir.path / "links");
  const auto real = dir.file("real/shared.db");
  const auto link = dir.file("links/alias.db");
  Host h(real);
  std::filesystem::create_symlink("../real/shared.db", link);
  Worker w(h, "linked");

  // Both ways round: the waiter through the link and the completer on the real path, then the
  // other way.  The 10 s fallback poll means only the doorbell wakes them within the bound.
  for (const bool waiter_on_link : {true, false}) {
    CAPTURE(waiter_on_link);
    const auto p = w.create();
    const auto idx = std::to_string(p.oplog_idx);
    Child waiter({"host-await", waiter_on_link ? link : real, "linked", idx, "1", "60000", "10000000"});
    waiter.expect("awaiting");
    REQUIRE(wait_in_futex(waiter.pid(), 2, kBlockedWithinMs));  // the awaiting thread and main
    const auto t0 = now_ns();
    Child completer({"complete", waiter_on_link ? real : link, "linked", idx, "100", "5"});
    const auto done = completer.expect("result");
    CHECK(done.at(1) == "0");
    CHECK(done.at(2) == "1");
    completer.require_clean_exit();
    const auto r = waiter.expect("result");
    CHECK(r.at(2) == "0");
    CHECK(r.at(3) == "100");
    const auto woke_ms = ms(to_i64(r.at(5)) - t0);
    std::printf("[durability] waiter on the %s woke %.3f ms after the completer on the %s started\n",
                waiter_on_link ? "symlink" : "real path", woke_ms, waiter_on_link ? "real path" : "symlink");
    CHECK(woke_ms < 5000.0);  // far below the 10 s fallback: the completion rang its doorbell
    waiter.require_clean_exit();
  }
  // One doorbell, beside the real file; nothing is made beside the link.
  CHECK(std::filesystem::exists(real + "-gpwake"));
  CHECK_FALSE(std::filesystem::exists(link + "-gpwake"));
  CHECK(std::filesystem::is_symlink(link));
}
