// Files a host must refuse with a clear error, leaving them byte-identical and leaving no
// -wal/-shm/-journal/-gpwake files behind.  (Non-SQLite files, files of zeros, foreign SQLite
// schemas and version+1 files are covered by tests/capi/test_file_host.cpp.)
#include <catch2/generators/catch_generators.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "harness.hpp"

using namespace gpd;

namespace {

// A golem-promise database of several dozen pages, closed (so its WAL is checkpointed away).
void make_host_file(const std::string& path) {
  Host h(path);
  Worker w(h, "filler");
  std::string payload(8000, 'p');
  for (int i = 0; i < 30; ++i) {
    const auto p = w.create();
    payload[0] = static_cast<char>('a' + i % 26);
    int done = -1;
    REQUIRE(gp_worker_complete_promise(&done, w, &p, u8(payload), payload.size()) == GP_OK);
  }
}

struct Refusal {
  int rc;
  std::string message;
};

// Opens path in this process and returns the error; the open must fail.
Refusal refuse_here(const std::string& path) {
  gp_host* h = nullptr;
  const int rc = gp_host_open(&h, path.c_str(), nullptr);
  Refusal r{rc, gp_last_error_message()};
  CHECK(h == nullptr);
  gp_host_close(&h);
  return r;
}

// Opens path in a child process running as uid/gid 65534 (root ignores file modes, so a
// read-only file only means something to an ordinary user).  nullopt when this cannot be done.
std::optional<Refusal> refuse_as_user(const std::string& path, std::string& skip_reason) {
  Child c({"open", path, "nobody"});
  const auto line = c.line();
  c.require_clean_exit();
  const auto w = Child::words(line);
  if (w.at(0) == "skip") {
    skip_reason = line;
    return std::nullopt;
  }
  REQUIRE(w.at(0) == "result");
  return Refusal{static_cast<int>(to_i64(w.at(1))), tail_words(line, 2)};
}

bool running_as_root() { return ::geteuid() == 0; }

}  // namespace

TEST_CASE("a truncated golem-promise database is refused with GP_ECORRUPT and left unchanged", "[durability][files]") {
  TempDir dir;
  const auto path = dir.file("cut.db");
  make_host_file(path);
  const auto whole = read_file(path);
  REQUIRE(whole.size() >= 40 * 4096);
  REQUIRE_FALSE(std::filesystem::exists(path + "-wal"));

  const auto keep = GENERATE_COPY(whole.size() / 2, whole.size() - 4096, whole.size() - 100, std::size_t{4096},
                                  std::size_t{1000});
  CAPTURE(whole.size(), keep);
  write_file(path, whole.substr(0, keep));
  const auto before = read_file(path);
  const auto entries = dir.entries();

  const auto r = refuse_here(path);
  CAPTURE(r.message);
  CHECK(r.rc == GP_ECORRUPT);
  CHECK((r.message.find("truncated") != std::string::npos || r.message.find("damaged") != std::string::npos));
  CHECK(read_file(path) == before);
  CHECK(dir.entries() == entries);
}

TEST_CASE("a database whose newest pages are still in its WAL opens through a symlink, not taken for truncated",
          "[durability][files][symlink]") {
  TempDir dir;
  const auto path = dir.file("busy.db");
  const auto link = dir.file("alias.db");
  std::filesystem::create_symlink("busy.db", link);
  Host writer(path);  // stays open, so its commits stay in the WAL (no checkpoint below 1000 pages)
  Worker w(writer, "filler");
  std::string payload(8000, 'p');
  gp_promise_id_t last{};
  for (int i = 0; i < 30; ++i) {
    last = w.create();
    int done = -1;
    REQUIRE(gp_worker_complete_promise(&done, w, &last, u8(payload), payload.size()) == GP_OK);
  }
  REQUIRE(std::filesystem::file_size(path + "-wal") > std::filesystem::file_size(path));

  Host reader(link);
  Payload b;
  int ready = 0;
  REQUIRE(gp_host_poll_promise(b.out(), &ready, reader, &last) == GP_OK);
  CHECK(ready == 1);
  CHECK(b.str() == payload);
}

TEST_CASE("a golem-promise database of schema version 99 is refused with GP_ESCHEMA naming the version",
          "[durability][files]") {
  TempDir dir;
  const auto path = dir.file("future.db");
  {
    // Written by a future golem-promise: our application id, a schema we do not know.
    RawDb raw(path);
    raw.exec("PRAGMA application_id = " + std::to_string(0x47505231) +
             "; PRAGMA user_version = 99;"
             "CREATE TABLE promises_v99 (id INTEGER PRIMARY KEY, shape TEXT);"
             "INSERT INTO promises_v99 (shape) VALUES ('unknown to us');");
  }
  const auto before = read_file(path);
  const auto entries = dir.entries();
  const auto r = refuse_here(path);
  CAPTURE(r.message);
  CHECK(r.rc == GP_ESCHEMA);
  CHECK(r.message.find("99") != std::string::npos);
  CHECK(read_file(path) == before);
  CHECK(dir.entries() == entries);
  RawDb raw(path);
  CHECK(raw.scalar("SELECT count(*) FROM promises_v99") == 1);
}

TEST_CASE("a read-only database file is refused with GP_EIO and left unchanged", "[durability][files]") {
  TempDir dir;
  const auto path = dir.file("readonly.db");
  make_host_file(path);
  REQUIRE(::chmod(path.c_str(), 0444) == 0);
  // The directory is writable by anyone: only the file's mode stands in the way.
  REQUIRE(::chmod(dir.path.c_str(), 0777) == 0);
  const auto before = read_file(path);
  const auto entries = dir.entries();

  std::optional<Refusal> r;
  std::string skip;
  if (running_as_root()) {
    r = refuse_as_user(path, skip);
  } else {
    r = refuse_here(path);
  }
  if (!r) SKIP("running as root and " << skip);
  CAPTURE(r->message);
  CHECK(r->rc == GP_EIO);
  CHECK(r->message.find("read-only") != std::string::npos);
  CHECK(read_file(path) == before);
  CHECK(dir.entries() == entries);
}

TEST_CASE("a database in a read-only directory is refused with GP_EIO and left unchanged", "[durability][files]") {
  TempDir dir;
  const auto sub = dir.file("locked-dir");
  REQUIRE(std::filesystem::create_directory(sub));
  const auto path = sub + "/host.db";
  // A WAL database needs its -wal and -shm beside it; a rollback-journal one needs a journal to
  // switch to WAL.  Neither can be created in a read-only directory.
  const bool wal = GENERATE(true, false);
  CAPTURE(wal);
  make_host_file(path);
  if (!wal) {
    RawDb raw(path);
    REQUIRE(raw.texts("PRAGMA journal_mode = DELETE") == std::vector<std::string>{"delete"});
  }
  for (auto& e : std::filesystem::directory_iterator(sub)) {
    if (e.path() != path) std::filesystem::remove(e.path());  // the doorbell file, say
  }
  REQUIRE(::chmod(path.c_str(), 0666) == 0);  // the file itself is writable by anyone
  REQUIRE(::chmod(sub.c_str(), 0555) == 0);
  REQUIRE(::chmod(dir.path.c_str(), 0755) == 0);
  const auto before = read_file(path);
  const auto listing = [&] {
    std::vector<std::string> out;
    for (auto& e : std::filesystem::directory_iterator(sub)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  };
  const auto entries = listing();
  REQUIRE(entries == std::vector<std::string>{"host.db"});

  std::optional<Refusal> r;
  std::string skip;
  if (running_as_root()) {
    r = refuse_as_user(path, skip);
  } else {
    r = refuse_here(path);
  }
  if (!r) SKIP("running as root and " << skip);
  CAPTURE(r->message);
  CHECK(r->rc == GP_EIO);
  // SQLite's words ("attempt to write a readonly database") or ours ("read-only").
  CHECK((r->message.find("readonly") != std::string::npos || r->message.find("read-only") != std::string::npos));
  CHECK(read_file(path) == before);
  CHECK(listing() == entries);

  // And a new database cannot be made there either, with nothing left behind.
  std::optional<Refusal> fresh;
  if (running_as_root()) {
    fresh = refuse_as_user(sub + "/new.db", skip);
  } else {
    fresh = refuse_here(sub + "/new.db");
  }
  REQUIRE(fresh);
  CAPTURE(fresh->message);
  CHECK(fresh->rc == GP_EIO);
  CHECK(fresh->message.find("new.db") != std::string::npos);
  CHECK(listing() == entries);
}

TEST_CASE("opening a host in a directory that does not exist creates nothing and names the path",
          "[durability][files]") {
  TempDir dir;
  const auto entries = dir.entries();
  const auto path = dir.file("missing/deeper/host.db");
  const auto r = refuse_here(path);
  CAPTURE(r.message);
  CHECK(r.rc == GP_EIO);
  CHECK(r.message.find(path) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.file("missing")));
  CHECK(dir.entries() == entries);
}
