// Schema version 0 (an empty SQLite file) is initialised to the current version, and an
// initialisation cut short by SIGKILL is never observable: the file is either still empty or
// complete.  A new file runs every migration step in turn (0 -> 1 -> 2) in one transaction;
// test_schema_migration.cpp upgrades a real version-1 file.
#include <catch2/generators/catch_generators.hpp>

#include <cstdio>
#include <cstdlib>
#include <random>

#include "harness.hpp"

using namespace gpd;

namespace {

constexpr std::int64_t kApplicationId = 0x47505231;
const std::vector<std::string> kTables{"oplog", "workers"};  // and the view "promises"

std::vector<std::string> tables(RawDb& raw) {
  return raw.texts("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
}

// The file is a usable host: a worker, a promise, a completion, and it reads back.
void require_usable(const std::string& path) {
  Host h(path);
  Worker w(h, "after-init");
  const auto p = w.create();
  int done = -1;
  REQUIRE(gp_host_complete_promise(&done, h, &p, u8("ok"), 2) == GP_OK);
  REQUIRE(done == 1);
  Payload b;
  REQUIRE(gp_worker_await_promise(b.out(), w, &p, 0) == GP_OK);
  CHECK(b.str() == "ok");
}

}  // namespace

TEST_CASE("an empty SQLite file (schema version 0) is initialised to the current schema", "[durability][schema]") {
  TempDir dir;
  const auto path = dir.file("empty.db");
  const auto kind = GENERATE(as<std::string>{}, "zero bytes", "header only", "header only, WAL mode");
  CAPTURE(kind);
  {
    RawDb raw(path);  // sqlite3_open alone leaves a 0-byte file
    if (kind != "zero bytes") {
      // Pages and a bumped schema cookie, but no schema objects, application id or version.
      raw.exec("CREATE TABLE scratch (x); DROP TABLE scratch;");
      if (kind == "header only, WAL mode") {
        REQUIRE(raw.texts("PRAGMA journal_mode = WAL") == std::vector<std::string>{"wal"});
      }
    }
    REQUIRE(tables(raw).empty());
    REQUIRE(raw.scalar("PRAGMA user_version") == 0);
    REQUIRE(raw.scalar("PRAGMA application_id") == 0);
  }
  if (kind == "zero bytes") REQUIRE(read_file(path).empty());

  require_usable(path);

  RawDb raw(path);
  CHECK(raw.scalar("PRAGMA application_id") == kApplicationId);
  CHECK(raw.scalar("PRAGMA user_version") == 2);
  CHECK(tables(raw) == kTables);
  CHECK(raw.texts("PRAGMA journal_mode") == std::vector<std::string>{"wal"});
  CHECK(raw.texts("PRAGMA integrity_check") == std::vector<std::string>{"ok"});
}

TEST_CASE("an initialisation killed at a random moment leaves the file empty or complete, never half-made",
          "[durability][schema][crash]") {
  constexpr int kRounds = 30;
  auto rng = kill_moments("init crash");
  TempDir dir;

  // How long gp_host_open takes to create a fresh file, seen from here.
  const auto open_ns = open_duration_ns({dir.file("calibrate0.db"), dir.file("calibrate1.db"), dir.file("calibrate2.db")});

  int absent = 0, empty = 0, complete = 0, survived = 0, mid_transaction = 0;
  for (int round = 0; round < kRounds; ++round) {
    const auto path = dir.file("fresh" + std::to_string(round) + ".db");
    const auto delay_ns = std::uniform_int_distribution<std::int64_t>(0, open_ns * 3 / 2)(rng);
    const int status = kill_during_open(path, delay_ns);
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) ++survived;
    CAPTURE(round, delay_ns, Child::describe(status));

    // A rollback journal left behind means the kill landed inside a transaction: the schema's,
    // or the switch to WAL that follows it.
    std::error_code ec;
    if (std::filesystem::file_size(path + "-journal", ec) > 0 && !ec) ++mid_transaction;
    if (!std::filesystem::exists(path)) {
      ++absent;
    } else {
      RawDb raw(path);  // recovers a hot journal or WAL, as any reader would
      const auto t = tables(raw);
      const auto app = raw.scalar("PRAGMA application_id");
      const auto version = raw.scalar("PRAGMA user_version");
      CAPTURE(t, app, version);
      if (t.empty() && app == 0 && version == 0) {
        ++empty;
      } else {
        CHECK(t == kTables);
        CHECK(app == kApplicationId);
        CHECK(version == 2);
        ++complete;
      }
      CHECK(raw.texts("PRAGMA integrity_check") == std::vector<std::string>{"ok"});
    }
    require_usable(path);  // whatever the kill left, the host opens it and works
  }
  std::printf("[durability] init killed at random within %.1f ms: %d no file yet, %d empty, %d complete "
              "(%d opens finished before the kill; %d kills left a hot journal, rolled back)\n",
              ms(open_ns * 3 / 2), absent, empty, complete, survived, mid_transaction);
}

TEST_CASE("many processes opening the same new host file at once all succeed, and it is initialised once",
          "[durability][schema]") {
  constexpr int kProcesses = 8;
  constexpr int kRounds = 20;
  // All openers start together on "go"; GP_DURABILITY_STAGGER_US=N starts opener i N*i µs
  // later instead, to explore other interleavings.
  const char* stagger_us = std::getenv("GP_DURABILITY_STAGGER_US");
  TempDir dir;
  const auto prefix = dir.file("together");
  std::vector<std::unique_ptr<Child>> openers;
  for (int i = 0; i < kProcesses; ++i) {
    openers.push_back(std::make_unique<Child>(std::vector<std::string>{
        "open-race", prefix, std::to_string(i), std::to_string(kRounds), stagger_us ? stagger_us : "0"}));
  }
  int failed_rounds = 0;
  for (int round = 0; round < kRounds; ++round) {
    for (auto& c : openers) c->expect("ready");
    for (auto& c : openers) c->send("go");
    int failures = 0;
    for (auto& c : openers) {
      const auto opened = c->line();
      INFO("round " << round << ": " << opened);
      CHECK(opened.rfind("opened 0 ", 0) == 0);
      if (opened.rfind("opened 0 ", 0) != 0) {
        ++failures;
        continue;
      }
      const auto wrote = c->line();
      INFO("round " << round << ": " << wrote);
      CHECK(wrote.rfind("wrote 0 ", 0) == 0);
      failures += wrote.rfind("wrote 0 ", 0) != 0;
    }
    failed_rounds += failures > 0;
    RawDb raw(prefix + std::to_string(round) + ".db");
    CHECK(tables(raw) == kTables);
    CHECK(raw.scalar("PRAGMA user_version") == 2);
    CHECK(raw.scalar("SELECT count(*) FROM workers") == kProcesses - failures);
  }
  for (auto& c : openers) c->require_clean_exit();
  std::printf("[durability] %d processes opening one new file together, %d rounds: %d rounds with a failed open\n",
              kProcesses, kRounds, failed_rounds);
}
