// A database written by an older golem-promise is upgraded in place when a host opens it: every
// promise, payload and oplog entry survives, a worker replays from it, and a migration killed
// at any moment leaves either the old file untouched or the new one complete.
//
// tests/data/schema-v1.db was written by golem-promise at schema version 1 (promises in their
// own table) with tests/data/make_schema_v1.py; its contents are spelled out below.  The tests
// only ever copy it: opened in place, even read-only, it is in WAL mode, so SQLite would make
// -wal and -shm files in the source tree (and fail in a read-only one).
#include <catch2/generators/catch_generators.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "harness.hpp"

using namespace gpd;

namespace {

const std::string kFixture = std::string(GP_TEST_DATA) + "/schema-v1.db";

// A copy of the fixture in dir, the only way the tests reach it.
std::string fixture_copy(const TempDir& dir, const std::string& name) {
  const auto path = dir.file(name);
  std::filesystem::copy_file(kFixture, path);
  return path;
}

// What the fixture's directory holds and the fixture's bytes, to show a test left both alone.
struct SourceTree {
  std::vector<std::string> entries;
  std::string fixture;
};
SourceTree source_tree() {
  SourceTree t{{}, read_file(kFixture)};
  for (auto& e : std::filesystem::directory_iterator(GP_TEST_DATA)) t.entries.push_back(e.path().filename().string());
  std::sort(t.entries.begin(), t.entries.end());
  return t;
}
void require_untouched(const SourceTree& before) {
  const auto now = source_tree();
  CHECK(now.entries == before.entries);
  CHECK(now.fixture == before.fixture);
}

gp_worker_id_t wid(const char* component, const char* name) {
  gp_uuid_t u{};
  REQUIRE(gp_uuid_parse(&u, component) == GP_OK);
  gp_worker_id_t w{};
  REQUIRE(gp_worker_id_make(&w, &u, name) == GP_OK);
  return w;
}
const char* const kApprovalsComponent = "00000000-0000-0001-0000-000000000002";
const char* const kOtherComponent = "00000000-0000-0003-0000-000000000004";

std::string big_payload() {  // as make_schema_v1.py writes it: 70 KiB, above the inline limit
  std::string s(70 * 1024, '\0');
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>((i * 7 + 3) % 256);
  return s;
}

// Host-level view of one promise: "pending", "gone", or "completed:<payload>".
std::string state_of(gp_host* h, const gp_worker_id_t& w, std::uint64_t idx) {
  const auto p = promise_id(w, idx);
  Payload b;
  int ready = -1;
  const int rc = gp_host_poll_promise(b.out(), &ready, h, &p);
  if (rc == GP_ENOTFOUND) return "gone";
  INFO(gp_last_error_message());
  REQUIRE(rc == GP_OK);
  return ready ? "completed:" + b.str() : "pending";
}

std::vector<std::string> oplog_rows(RawDb& raw) {
  return raw.texts("SELECT key || ':' || kind || ':' || hex(entry) FROM oplog ORDER BY key");
}

// Everything make_schema_v1.py left in the file, checked through the C ABI.
void require_fixture_contents(gp_host* h) {
  const auto approvals = wid(kApprovalsComponent, "approvals");
  const auto other = wid(kOtherComponent, "other");
  CHECK(state_of(h, approvals, 2) == "pending");
  CHECK(state_of(h, approvals, 3) == "completed:small");
  CHECK(state_of(h, approvals, 4) == "completed:" + big_payload());
  CHECK(state_of(h, approvals, 5) == "gone");  // deleted while pending
  CHECK(state_of(h, approvals, 6) == "gone");  // completed, awaited, then deleted
  CHECK(state_of(h, approvals, 7) == "completed:");
  CHECK(state_of(h, approvals, 8) == "gone");  // an await entry, not a promise
  CHECK(state_of(h, other, 2) == "completed:from approvals");
  std::uint64_t len = 0;
  REQUIRE(gp_host_oplog_length(&len, h, &approvals) == GP_OK);
  CHECK(len == 12);
  REQUIRE(gp_host_oplog_length(&len, h, &other) == GP_OK);
  CHECK(len == 3);
}

std::vector<std::string> tables(RawDb& raw) {
  return raw.texts("SELECT type || ' ' || name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name");
}
const std::vector<std::string> kV2Objects{"table oplog", "view promises", "table workers"};
const std::vector<std::string> kV1Objects{"table oplog", "table promises", "table workers"};

}  // namespace

TEST_CASE("a schema version 1 database is migrated to version 2 keeping every promise, payload and oplog entry",
          "[durability][schema][migration]") {
  const auto tree = source_tree();
  TempDir dir;
  const auto path = fixture_copy(dir, "v1.db");
  std::vector<std::string> before;
  {
    RawDb raw(path);
    REQUIRE(raw.scalar("PRAGMA user_version") == 1);
    REQUIRE(tables(raw) == kV1Objects);
    before = oplog_rows(raw);
    REQUIRE(before.size() == 15);
  }

  Host h(path);
  require_fixture_contents(h);
  {
    RawDb raw(path);
    CHECK(raw.scalar("PRAGMA user_version") == 2);
    CHECK(tables(raw) == kV2Objects);
    CHECK(oplog_rows(raw) == before);  // every entry byte for byte, under the same key
    CHECK(raw.texts("SELECT idx || ' ' || state || ' ' || coalesce(payload_len, '-') FROM promises "
                    "WHERE worker = 1 ORDER BY idx") ==
          std::vector<std::string>{"2 pending -", "3 completed 5", "4 completed 71680", "5 deleted -",
                                   "6 deleted 8", "7 completed 0"});
    CHECK(raw.texts("PRAGMA integrity_check") == std::vector<std::string>{"ok"});
  }

  // The worker replays its recorded calls from the migrated oplog, then goes on live.
  const auto approvals = wid(kApprovalsComponent, "approvals");
  const auto other = wid(kOtherComponent, "other");
  gp_worker* w = nullptr;
  REQUIRE(gp_worker_open_v2(&w, h, &approvals, 0) == GP_OK);
  int replaying = 0;
  REQUIRE(gp_worker_is_replaying(&replaying, w) == GP_OK);
  CHECK(replaying == 1);
  for (std::uint64_t idx = 2; idx <= 7; ++idx) {
    gp_promise_id_t p{};
    REQUIRE(gp_worker_create_promise(&p, w) == GP_OK);
    CHECK(p.oplog_idx == idx);
  }
  const auto p6 = promise_id(approvals, 6);
  const auto p7 = promise_id(approvals, 7);
  {
    Payload b;
    REQUIRE(gp_worker_await_promise(b.out(), w, &p6, 0) == GP_OK);  // deleted since: the recorded payload
    CHECK(b.str() == "approved");
  }
  REQUIRE(gp_worker_delete_promise(w, &p6) == GP_OK);
  {
    Payload b;
    int ready = 0;
    REQUIRE(gp_worker_poll_promise(b.out(), &ready, w, &p7) == GP_OK);
    CHECK(ready == 1);
    CHECK(b.str().empty());
  }
  std::uint64_t idx = 0;
  REQUIRE(gp_worker_get_oplog_index(&idx, w) == GP_OK);
  CHECK(idx == 11);
  const auto q2 = promise_id(other, 2);
  int done = -1;
  REQUIRE(gp_worker_complete_promise(&done, w, &q2, u8("from approvals"), 14) == GP_OK);
  CHECK(done == 1);
  REQUIRE(gp_worker_is_replaying(&replaying, w) == GP_OK);
  CHECK(replaying == 0);
  gp_promise_id_t fresh{};
  REQUIRE(gp_worker_create_promise(&fresh, w) == GP_OK);
  CHECK(fresh.oplog_idx == 13);
  gp_worker_close(&w);

  // The pending promise created before the migration completes as usual.
  const auto p2 = promise_id(approvals, 2);
  REQUIRE(gp_host_complete_promise(&done, h, &p2, u8("late"), 4) == GP_OK);
  CHECK(done == 1);
  CHECK(state_of(h, approvals, 2) == "completed:late");
  require_untouched(tree);
}

TEST_CASE("a migration killed at a random moment leaves the version 1 file intact or the version 2 file complete",
          "[durability][schema][migration][crash]") {
  constexpr int kRounds = 20;
  auto rng = kill_moments("migration crash");
  const auto tree = source_tree();
  TempDir dir;

  std::vector<std::string> before;
  {
    RawDb raw(fixture_copy(dir, "original.db"), SQLITE_OPEN_READONLY);
    before = oplog_rows(raw);
  }

  // How long opening (and so migrating) the fixture takes, seen from here.
  std::vector<std::string> calibration;
  for (int i = 0; i < 3; ++i) calibration.push_back(fixture_copy(dir, "calibrate" + std::to_string(i) + ".db"));
  const auto open_ns = open_duration_ns(calibration);

  int old_kept = 0, migrated = 0;
  for (int round = 0; round < kRounds; ++round) {
    const auto path = fixture_copy(dir, "v1-" + std::to_string(round) + ".db");
    const auto delay_ns = std::uniform_int_distribution<std::int64_t>(0, open_ns * 3 / 2)(rng);
    kill_during_open(path, delay_ns);
    CAPTURE(round, delay_ns);
    {
      RawDb raw(path);  // recovers a hot journal or WAL, as any reader would
      const auto version = raw.scalar("PRAGMA user_version");
      CAPTURE(version);
      if (version == 1) {
        CHECK(tables(raw) == kV1Objects);
        ++old_kept;
      } else {
        CHECK(version == 2);
        CHECK(tables(raw) == kV2Objects);
        ++migrated;
      }
      CHECK(oplog_rows(raw) == before);
      CHECK(raw.texts("PRAGMA integrity_check") == std::vector<std::string>{"ok"});
    }
    Host h(path);  // whatever the kill left, the host opens it, migrating if still needed
    require_fixture_contents(h);
  }
  std::printf("[durability] migration killed at random within %.1f ms: %d left at version 1, %d migrated\n",
              ms(open_ns * 3 / 2), old_kept, migrated);
  require_untouched(tree);
}
