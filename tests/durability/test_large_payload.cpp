// Large payloads cross processes through the file intact: completed from a buffer in one
// process, awaited into a buffer in another, read back in a third; every byte is checked
// against the pattern the completer wrote.
#include <cstdio>
#include <vector>

#include "harness.hpp"

using namespace gpd;

namespace {

void payload_crosses_processes(std::size_t len, std::uint64_t seed) {
  TempDir dir;
  const auto db = dir.file("large.db");
  gp_promise_id_t p{};
  {
    Host h(db);
    Worker w(h, "big");
    p = w.create();
  }
  const auto idx = std::to_string(p.oplog_idx);

  Child waiter({"big-await", db, "big", idx, std::to_string(len), std::to_string(seed), "600000"});
  waiter.expect("awaiting");
  REQUIRE(wait_in_futex(waiter.pid(), 1, 10000));

  const auto t0 = now_ns();
  Child completer({"complete", db, "big", idx, std::to_string(len), std::to_string(seed)});
  const auto done = completer.expect("result");
  const auto t1 = now_ns();
  CHECK(done.at(1) == "0");
  CHECK(done.at(2) == "1");
  completer.require_clean_exit();

  const auto r = waiter.expect("result");
  const auto t2 = now_ns();
  CHECK(r.at(1) == "0");
  CHECK(r.at(2) == std::to_string(len));
  CHECK(r.at(3) == "-1");  // no byte differs from the pattern
  waiter.require_clean_exit();
  std::printf("[durability] %zu MiB: completer process done in %.0f ms, waiter had it checked %.0f ms later\n",
              len >> 20, ms(t1 - t0), ms(t2 - t1));

  // And a third process reads the same bytes back.
  Host h(db);
  Payload b;
  int ready = -1;
  REQUIRE(gp_host_poll_promise(b.out(), &ready, h, &p) == GP_OK);
  REQUIRE(ready == 1);
  REQUIRE(b.b.len == len);
  CHECK(pattern_mismatch(b.b.data, b.b.len, seed) == -1);
}

}  // namespace

TEST_CASE("a 64 MiB payload completed in one process is awaited byte-identical in another", "[durability][large]") {
  payload_crosses_processes(std::size_t{64} << 20, 0x6464);
}

// Issue 3's minimum per payload.  7 to 20 s here (mostly the fsync of 512 MiB of WAL, and the
// pattern checks) and 1 GiB of disk meanwhile.  Hidden from discovery ([.]) so that it is one
// ctest entry of its own, labelled "huge": `make test` runs it in the plain build and leaves it
// out of the sanitizer build (ctest -LE huge), where it would take several times as long and
// check nothing new.  Run it alone with `ctest -L huge`.
TEST_CASE("a 512 MiB payload completed in one process is awaited byte-identical in another",
          "[.][durability][huge]") {
  payload_crosses_processes(std::size_t{512} << 20, 0x512512);
}
