// Group commit across processes (core/wal_sync.hpp): FULL hosts of different processes share
// their WAL fdatasyncs, every completion that returned true is stored, and a process killed
// while it is the one syncing holds nobody up for longer than the takeover bound.
#include <sys/mman.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "harness.hpp"

using namespace gpd;

namespace {

// The core's words in <db>-gpwake (core/wal_sync.cpp): the boot stamp at 1536..1539, then
// numbered write transactions, the highest finished, the highest synced, the syncing thread,
// rounds, their waiters, and fdatasyncs made.
constexpr std::size_t kWrites = 1540, kSynced = 1542, kSyncer = 1543, kFsyncs = 1546;

class SharedWords {
 public:
  explicit SharedWords(const std::string& db) {
    const int fd = ::open((db + "-gpwake").c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    map_ = ::mmap(nullptr, 8192, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    REQUIRE(map_ != MAP_FAILED);
  }
  SharedWords(const SharedWords&) = delete;
  SharedWords& operator=(const SharedWords&) = delete;
  ~SharedWords() { ::munmap(map_, 8192); }
  std::uint32_t operator[](std::size_t i) const {
    return static_cast<const std::atomic<std::uint32_t>*>(map_)[i].load();
  }

 private:
  void* map_;
};

std::size_t payload_len(std::uint64_t idx) { return 24 + idx % 100; }

// Creates n pending promises of worker "shared" (NORMAL: setting up needs no fsync each);
// returns the first index.
std::uint64_t create_promises(const std::string& db, int n, gp_worker_id_t& wid) {
  Host h(db, 0, GP_SYNCHRONOUS_NORMAL);
  Worker w(h, "shared");
  wid = w.id;
  std::uint64_t first = 0;
  for (int i = 0; i < n; ++i) {
    const auto p = w.create();
    if (i == 0) first = p.oplog_idx;
  }
  return first;
}

// Every acknowledged completion holds its payload; returns how many were checked.
void check_stored(const std::string& db, const gp_worker_id_t& wid, const std::set<std::uint64_t>& acked) {
  Host h(db);
  int missing = 0, wrong = 0;
  for (auto idx : acked) {
    const auto p = promise_id(wid, idx);
    Payload b;
    int ready = -1;
    REQUIRE(gp_host_poll_promise(b.out(), &ready, h, &p) == GP_OK);
    if (ready != 1) {
      ++missing;
    } else if (b.b.len != payload_len(idx) || pattern_mismatch(b.b.data, b.b.len, idx) >= 0) {
      ++wrong;
    }
  }
  CHECK(missing == 0);
  CHECK(wrong == 0);
}

// n sync-complete children, child p completing promises first + p * each, each; all ready.
std::vector<std::unique_ptr<Child>> spawn_completers(const std::string& db, std::uint64_t first, int n, int each) {
  std::vector<std::unique_ptr<Child>> kids;
  for (int p = 0; p < n; ++p) {
    kids.push_back(std::make_unique<Child>(std::vector<std::string>{
        "sync-complete", db, "shared", std::to_string(first + static_cast<std::uint64_t>(p * each)),
        std::to_string(each)}));
  }
  for (auto& k : kids) k->expect("ready");
  return kids;
}

}  // namespace

TEST_CASE("16 single-threaded FULL processes completing distinct promises share fsyncs, and every true is stored",
          "[durability][group-sync]") {
  constexpr int kProcs = 16;
  constexpr int kEach = 60;
  TempDir dir;
  const auto db = dir.file("shared.db");
  gp_worker_id_t wid{};
  const auto first = create_promises(db, kProcs * kEach, wid);
  auto kids = spawn_completers(db, first, kProcs, kEach);
  SharedWords words(db);
  const auto fsyncs0 = words[kFsyncs], writes0 = words[kWrites];
  const auto t0 = now_ns();
  for (auto& k : kids) k->send("go");

  std::set<std::uint64_t> acked;
  std::int64_t max_call = 0;
  for (auto& k : kids) {
    bool finished = false;
    for (const auto& line : k->rest()) {
      const auto w = Child::words(line);
      INFO("child said: " << line);
      REQUIRE(!w.empty());
      if (w[0] == "ack") {
        REQUIRE(acked.insert(static_cast<std::uint64_t>(to_i64(w.at(1)))).second);
      } else {
        REQUIRE(w[0] == "done");
        CHECK(w.at(1) == std::to_string(kEach));
        CHECK(w.at(2) == "0");
        max_call = std::max(max_call, to_i64(w.at(3)));
        finished = true;
      }
    }
    CHECK(finished);
    k->require_clean_exit();
  }
  const auto elapsed = ms(now_ns() - t0);
  const auto fsyncs = words[kFsyncs] - fsyncs0, writes = words[kWrites] - writes0;
  std::printf("[durability] group sync: %d processes x %d completions in %.0f ms: %u fdatasyncs for %u commits "
              "(%.1f completions per fdatasync), slowest call %.1f ms\n",
              kProcs, kEach, elapsed, fsyncs, writes, static_cast<double>(kProcs * kEach) / std::max(1u, fsyncs),
              ms(max_call));
  CHECK(acked.size() == static_cast<std::size_t>(kProcs * kEach));
  CHECK(writes >= static_cast<std::uint32_t>(kProcs * kEach));  // one numbered commit each (one thread each)
  CHECK(fsyncs >= 1);
  CHECK(fsyncs < static_cast<std::uint32_t>(kProcs * kEach));  // shared: fewer fsyncs than completions
  // Everything the children were told is durable is synced by the counters' own account.
  CHECK(static_cast<std::int32_t>(words[kSynced] - (writes0 + static_cast<std::uint32_t>(kProcs * kEach))) >= 0);
  check_stored(db, wid, acked);
}

TEST_CASE("a process killed while it is the one syncing the WAL holds the other processes up for at most the takeover bound",
          "[durability][group-sync][crash]") {
  constexpr int kProcs = 16;
  constexpr int kEach = 150;
  TempDir dir;
  const auto db = dir.file("syncer-killed.db");
  gp_worker_id_t wid{};
  const auto first = create_promises(db, kProcs * kEach, wid);
  auto kids = spawn_completers(db, first, kProcs, kEach);
  std::map<pid_t, int> by_pid;
  for (int p = 0; p < kProcs; ++p) by_pid[kids[static_cast<std::size_t>(p)]->pid()] = p;
  SharedWords words(db);
  for (auto& k : kids) k->send("go");

  // Wait until a child (single-threaded: its thread id is its pid) holds the flag, kill it, and
  // make sure it died holding it: the flag still names it a moment later.  Its zombie is reaped
  // only at the end, so to the others it looks alive and they must rely on the time bound.
  int victim = -1;
  std::set<int> killed;
  std::int64_t killed_at = 0;
  for (int attempt = 0; attempt < 200 && victim < 0; ++attempt) {
    const auto deadline = now_ns() + 2'000'000'000;
    std::uint32_t holder = 0;
    while (now_ns() < deadline) {
      holder = words[kSyncer];
      if (holder != 0 && by_pid.count(static_cast<pid_t>(holder))) break;
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
    const auto it = by_pid.find(static_cast<pid_t>(holder));
    if (it == by_pid.end()) break;  // the children finished without us catching one
    kids[static_cast<std::size_t>(it->second)]->kill();
    killed.insert(it->second);
    killed_at = now_ns();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (words[kSyncer] == holder) {
      victim = it->second;
    } else {
      by_pid.erase(it);  // it had let go already; try another one
    }
  }
  REQUIRE(victim >= 0);
  // Someone takes over within the bound (100 ms) plus scheduling on a busy machine.
  std::int64_t taken_over_ms = -1;
  while (ms(now_ns() - killed_at) < 5000) {
    const auto holder = words[kSyncer];
    if (holder != static_cast<std::uint32_t>(kids[static_cast<std::size_t>(victim)]->pid())) {
      taken_over_ms = static_cast<std::int64_t>(ms(now_ns() - killed_at));
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }

  std::set<std::uint64_t> acked;
  std::int64_t max_call = 0;
  int survivors_done = 0;
  for (std::size_t p = 0; p < kids.size(); ++p) {
    for (const auto& line : kids[p]->rest()) {
      const auto w = Child::words(line);
      INFO("child " << p << " said: " << line);
      REQUIRE(!w.empty());
      if (w[0] == "ack") {
        REQUIRE(acked.insert(static_cast<std::uint64_t>(to_i64(w.at(1)))).second);
      } else if (w[0] == "done") {
        CHECK(w.at(2) == "0");
        max_call = std::max(max_call, to_i64(w.at(3)));
        ++survivors_done;
      }
    }
  }
  // The killed ones (the victim, and any that had let the flag go just before) died of the
  // signal; the others exit cleanly.
  for (std::size_t p = 0; p < kids.size(); ++p) {
    const int st = kids[p]->wait();
    INFO("child " << p << " ended with " << Child::describe(st));
    if (killed.count(static_cast<int>(p))) {
      CHECK(WIFSIGNALED(st));
    } else {
      CHECK(WIFEXITED(st));
      CHECK(WEXITSTATUS(st) == 0);
    }
  }
  std::printf("[durability] syncer killed: flag taken over after %lld ms; %d processes finished, slowest call %.1f ms; "
              "%zu completions acknowledged\n",
              static_cast<long long>(taken_over_ms), survivors_done, ms(max_call), acked.size());
  CHECK(taken_over_ms >= 0);
  CHECK(taken_over_ms < 2000);
  CHECK(survivors_done == kProcs - static_cast<int>(killed.size()));
  CHECK(ms(max_call) < 2000.0);
  check_stored(db, wid, acked);
  RawDb raw(db);
  CHECK(raw.texts("PRAGMA integrity_check") == std::vector<std::string>{"ok"});
}

TEST_CASE("a FULL host that reads a completion nobody has synced yet syncs it once before handing it out",
          "[durability][group-sync]") {
  TempDir dir;
  const auto db = dir.file("read-barrier.db");
  // A NORMAL host commits without ever syncing: what it completes is exactly what a FULL
  // reader could see before any fsync.
  Host normal(db, 0, GP_SYNCHRONOUS_NORMAL);
  Worker w(normal, "reader-test");
  const auto done = w.create();
  const auto open = w.create();
  int ok = -1;
  REQUIRE(gp_host_complete_promise(&ok, normal, &done, u8("payload"), 7) == GP_OK);
  REQUIRE(ok == 1);
  Host full(db, 0, GP_SYNCHRONOUS_FULL);
  SharedWords words(db);
  const auto fsyncs0 = words[kFsyncs];
  const auto writes = words[kWrites];
  REQUIRE(static_cast<std::int32_t>(words[kSynced] - writes) < 0);  // the completion is not synced

  // Pending: nothing to make durable.
  Payload b;
  int ready = -1;
  REQUIRE(gp_host_poll_promise(b.out(), &ready, full, &open) == GP_OK);
  CHECK(ready == 0);
  CHECK(words[kFsyncs] == fsyncs0);
  // Completed: the poll syncs before it returns the payload...
  REQUIRE(gp_host_poll_promise(b.out(), &ready, full, &done) == GP_OK);
  CHECK(ready == 1);
  CHECK(b.str() == "payload");
  CHECK(words[kFsyncs] == fsyncs0 + 1);
  CHECK(static_cast<std::int32_t>(words[kSynced] - writes) >= 0);
  // ...and a second read, or an await, of the same promise finds it synced already.
  REQUIRE(gp_host_poll_promise(b.out(), &ready, full, &done) == GP_OK);
  REQUIRE(gp_host_await_promise(b.out(), full, &done, 1000) == GP_OK);
  CHECK(b.str() == "payload");
  CHECK(words[kFsyncs] == fsyncs0 + 1);
  // A NORMAL reader never waits for a sync.
  const auto other = w.create();
  REQUIRE(gp_host_complete_promise(&ok, normal, &other, u8("x"), 1) == GP_OK);
  REQUIRE(gp_host_poll_promise(b.out(), &ready, normal, &other) == GP_OK);
  CHECK(words[kFsyncs] == fsyncs0 + 1);
}
