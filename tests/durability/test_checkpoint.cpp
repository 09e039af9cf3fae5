// Checkpoints run off the completion path (core/checkpointer.hpp): the WAL must still stay
// bounded while several processes keep committing, and closing the last host must still leave
// a database file with no WAL beside it and every completion in it.
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>

#include "harness.hpp"

using namespace gpd;

namespace {

std::int64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : -1;
}

constexpr std::int64_t kFrameBytes = 4096 + 24;  // a WAL frame: page and header

}  // namespace

TEST_CASE("the WAL stays bounded while several processes keep completing, and closing the last host removes it",
          "[durability][checkpoint]") {
  TempDir dir;
  const auto db = dir.file("wal.db");
  constexpr int kProcs = 4;
  constexpr std::uint64_t kEach = 1000;
  constexpr std::size_t kLen = 30000;  // at least 8 pages of WAL per completion
  std::uint64_t first = 0;
  {
    Host h(db, 0, GP_SYNCHRONOUS_NORMAL);
    Worker w(h, "filler");
    for (std::uint64_t i = 0; i < kProcs * kEach; ++i) {
      const auto p = w.create();
      if (i == 0) first = p.oplog_idx;
    }
  }
  Host h(db);  // held open throughout, so the children's closes do not end the WAL

  std::atomic<bool> running{true};
  std::atomic<std::int64_t> largest{0};
  std::thread watch([&] {
    while (running.load()) {
      largest.store(std::max(largest.load(), file_size(db + "-wal")));
      ::usleep(500);
    }
  });
  std::vector<std::unique_ptr<Child>> kids;
  for (int c = 0; c < kProcs; ++c) {
    kids.push_back(std::make_unique<Child>(std::vector<std::string>{
        "complete-range", db, "filler", std::to_string(first + c * kEach), std::to_string(kEach), std::to_string(kLen)}));
  }
  for (auto& k : kids) {
    const auto done = k->expect("done", 120000);
    CHECK(done.at(1) == std::to_string(kEach));
    CHECK(done.at(2) == "0");
    k->require_clean_exit();
  }
  running.store(false);
  watch.join();

  const auto written = static_cast<double>(kProcs * kEach * ((kLen + 4095) / 4096));  // pages, at least
  const auto largest_pages = static_cast<double>(largest.load()) / kFrameBytes;
  std::printf("[durability] %d processes wrote >= %.0f WAL pages; the WAL file never exceeded %.0f pages (%.1f MiB)\n",
              kProcs, written, largest_pages, static_cast<double>(largest.load()) / (1 << 20));
  // Without checkpoints the WAL would hold every page written; with them it is recycled.
  CHECK(largest_pages < written / 2);

  h.close();  // the last connection: SQLite checkpoints everything and removes the WAL
  CHECK(file_size(db + "-wal") == -1);
  RawDb raw(db);
  CHECK(raw.texts("PRAGMA integrity_check") == std::vector<std::string>{"ok"});
  // Every completion is in the database file, with its payload.
  Host again(db);
  for (std::uint64_t idx = first; idx < first + kProcs * kEach; idx += 97) {
    const auto p = promise_id(Worker(again, "filler").id, idx);
    Payload b;
    int ready = -1;
    REQUIRE(gp_host_poll_promise(b.out(), &ready, again, &p) == GP_OK);
    REQUIRE(ready == 1);
    REQUIRE(b.b.len == kLen);
    CHECK(pattern_mismatch(b.b.data, b.b.len, idx) == -1);
  }
}
