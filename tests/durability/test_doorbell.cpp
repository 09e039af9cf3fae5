// The doorbell file (<db>-gpwake): its layout is shared by every process on a database, so the
// slot of a promise and the file's permissions are checked here against the file itself.
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>

#include "harness.hpp"

using namespace gpd;

namespace {

constexpr std::size_t kSlots = 1024;
constexpr std::size_t kAnySlot = kSlots;

// The counter of a promise, as the doorbell's header comment defines it: FNV-1a 64 over the
// worker name, then the component's high and low bits and the oplog index as little-endian
// 64-bit words, mod 1024.
std::size_t slot_of(const gp_promise_id_t& p) {
  std::string bytes = p.worker_id.worker_name;
  for (const std::uint64_t v : {p.worker_id.component_id.high_bits, p.worker_id.component_id.low_bits, p.oplog_idx}) {
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>(v >> (8 * i)));
  }
  return fnv1a64(bytes.data(), bytes.size()) % kSlots;
}

// The 1025 counters of a doorbell file: one per slot, then the any-change counter.
std::vector<std::uint32_t> counters(const std::string& path) {
  const auto bytes = read_file(path);
  REQUIRE(bytes.size() >= (kAnySlot + 1) * 4);
  std::vector<std::uint32_t> out(kAnySlot + 1);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

// Sets the process's umask for the life of the object.
struct Umask {
  mode_t old;
  explicit Umask(mode_t m) : old(::umask(m)) {}
  ~Umask() { ::umask(old); }
};

}  // namespace

TEST_CASE("a completion bumps the doorbell counter its promise's FNV-1a hash names, and the any-change counter",
          "[durability][doorbell]") {
  TempDir dir;
  const auto db = dir.file("slots.db");
  Host h(db);
  Worker a(h, "slot-owner");
  Worker b(h, "another-name-entirely");
  for (Worker* w : {&a, &b}) {
    for (int i = 0; i < 8; ++i) {
      const auto p = w->create();
      const auto slot = slot_of(p);
      CAPTURE(p.worker_id.worker_name, p.oplog_idx, slot);
      const auto before = counters(db + "-gpwake");
      int done = -1;
      REQUIRE(gp_host_complete_promise(&done, h, &p, u8("x"), 1) == GP_OK);
      const auto after = counters(db + "-gpwake");
      for (std::size_t s = 0; s < kSlots; ++s) {
        if (s != slot && after[s] != before[s]) FAIL_CHECK("counter " << s << " moved instead");
      }
      CHECK(after[slot] == before[slot] + 1);
      CHECK(after[kAnySlot] == before[kAnySlot] + 1);
    }
  }
}

TEST_CASE("the doorbell file is made with the database file's mode and owner, whatever the umask",
          "[durability][doorbell]") {
  TempDir dir;
  const auto db = dir.file("shared.db");
  write_file(db, "");  // an empty database someone made for a group to share
  REQUIRE(::chmod(db.c_str(), 0664) == 0);
  const bool root = ::geteuid() == 0;
  if (root) REQUIRE(::chown(db.c_str(), 65534, 65534) == 0);  // as if root opened a user's database
  {
    Umask mask(022);
    Host h(db);
  }
  struct stat bell {};
  REQUIRE(::stat((db + "-gpwake").c_str(), &bell) == 0);
  CHECK((bell.st_mode & 0777) == 0664);
  if (root) {
    CHECK(bell.st_uid == 65534u);
    CHECK(bell.st_gid == 65534u);
  }

  // A doorbell already in use keeps its mode: only a new (empty) file is adjusted.
  REQUIRE(::chmod((db + "-gpwake").c_str(), 0600) == 0);
  {
    Host h(db);
  }
  REQUIRE(::stat((db + "-gpwake").c_str(), &bell) == 0);
  CHECK((bell.st_mode & 0777) == 0600);
}

// ---------------------------------------------------------------- the fallback poll
//
// Writers that do not ring (the sqlite3 shell, a process whose doorbell could not be opened)
// are caught by each waiter re-checking the store every fallback_poll_us.  The waiters below
// poll every 30 ms and would otherwise sleep until their 10 s await timeout.

namespace {

constexpr const char* kFallbackUs = "30000";
constexpr const char* kAwaitMs = "10000";
constexpr double kWokeWithinMs = 2000.0;

// Completes a pending promise as a program without golem-promise would: the same UPDATE the
// core makes, on the row keyed (worker row << 40) | oplog index (store/sqlite/schema.cpp), in a
// transaction of its own.  Rings no doorbell.
void complete_raw(const std::string& db, const char* worker_name, std::uint64_t idx, const std::string& payload) {
  RawDb raw(db);
  const auto row = raw.scalar(std::string("SELECT id FROM workers WHERE component_id = '") + kComponent +
                              "' AND worker_name = '" + worker_name + "'");
  const auto key = (row << 40) | static_cast<std::int64_t>(idx);
  raw.exec("UPDATE oplog SET state = 1, payload = CAST('" + payload + "' AS BLOB) WHERE key = " +
           std::to_string(key) + " AND state = 0");
  REQUIRE(sqlite3_changes(raw.db) == 1);
}

// A child awaiting promise idx at host level, asleep in its await.
std::unique_ptr<Child> sleeping_waiter(const std::string& db, const char* worker_name, std::uint64_t idx) {
  auto c = std::make_unique<Child>(
      std::vector<std::string>{"host-await", db, worker_name, std::to_string(idx), "1", kAwaitMs, kFallbackUs});
  c->expect("awaiting");
  REQUIRE(wait_in_futex(c->pid(), 2, 10000));  // the awaiting thread and main
  return c;
}

// The waiter's result: it got `payload`, and when it woke (ms after t0_ns).
double woke_with(Child& c, const std::string& payload, std::int64_t t0_ns) {
  const auto line = c.line(30000);
  const auto r = Child::words(line);
  INFO("waiter said: " << line);
  REQUIRE(r.at(0) == "result");
  CHECK(r.at(2) == "0");  // GP_OK, not GP_ETIMEOUT
  CHECK(r.at(3) == std::to_string(payload.size()));
  CHECK(r.at(4) == std::to_string(fnv1a64(payload.data(), payload.size())));
  c.require_clean_exit();
  return ms(to_i64(r.at(5)) - t0_ns);
}

}  // namespace

TEST_CASE("a waiter in another process sees a completion by a writer that does not ring within its fallback poll",
          "[durability][doorbell][fallback]") {
  TempDir dir;
  const auto db = dir.file("quiet.db");
  Host h(db);
  Worker w(h, "polled");
  const auto p = w.create();
  auto waiter = sleeping_waiter(db, "polled", p.oplog_idx);
  const auto rung_before = counters(db + "-gpwake");

  const auto t0 = now_ns();
  complete_raw(db, "polled", p.oplog_idx, "raw write");
  const auto woke_ms = woke_with(*waiter, "raw write", t0);
  std::printf("[durability] a waiter polling every 30 ms saw a raw UPDATE after %.3f ms\n", woke_ms);
  CHECK(woke_ms < kWokeWithinMs);
  CHECK(counters(db + "-gpwake") == rung_before);  // nobody rang: the poll found it
}

TEST_CASE("a database whose doorbell file cannot be opened still opens, and waits and the change feed fall back to "
          "the poll", "[durability][doorbell][fallback]") {
  TempDir dir;
  const auto db = dir.file("no-bell.db");
  std::filesystem::create_directory(db + "-gpwake");  // in the way: cannot be opened as a file
  Host h(db, 0, 0, 30000);
  Worker w(h, "bell-less");
  int feed = -1;
  REQUIRE(gp_host_change_fd(&feed, h) == GP_OK);

  // Across processes: nobody can ring, so the waiter and this host's feed learn of the
  // completion only by polling.
  const auto p = w.create();
  auto waiter = sleeping_waiter(db, "bell-less", p.oplog_idx);
  REQUIRE(gp_host_change_ack(h) == GP_OK);
  const auto t0 = now_ns();
  Child completer({"complete", db, "bell-less", std::to_string(p.oplog_idx), "64", "9"});
  CHECK(completer.expect("result").at(1) == "0");
  completer.require_clean_exit();
  std::vector<std::uint8_t> expected(64);
  fill_pattern(expected.data(), expected.size(), 9);
  const auto woke_ms = woke_with(*waiter, std::string(expected.begin(), expected.end()), t0);
  CHECK(woke_ms < kWokeWithinMs);
  // The feed fires at least every fallback interval on a file host, doorbell or not.
  pollfd pfd{feed, POLLIN, 0};
  CHECK(::poll(&pfd, 1, static_cast<int>(kWokeWithinMs)) == 1);

  // In this process the completion wakes an await directly.
  const auto q = w.create();
  int rc = 1;
  std::thread local([&] {
    Payload b;
    rc = gp_worker_await_promise(b.out(), w, &q, 10000);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  int done = -1;
  REQUIRE(gp_host_complete_promise(&done, h, &q, u8("here"), 4) == GP_OK);
  local.join();
  CHECK(rc == GP_OK);
  CHECK(std::filesystem::is_directory(db + "-gpwake"));
}
