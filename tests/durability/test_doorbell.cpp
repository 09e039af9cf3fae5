// The doorbell file (<db>-gpwake): its layout is shared by every process on a database, so the
// slot of a promise and the file's permissions are checked here against the file itself.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

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

// The 1026 counters of a doorbell file.
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
