// A large payload crosses processes through the file intact.  (512 MiB is the benchmark's job.)
#include <cstdio>
#include <vector>

#include "harness.hpp"

using namespace gpd;

TEST_CASE("a 64 MiB payload completed in one process is awaited byte-identical in another", "[durability][large]") {
  constexpr std::size_t kLen = std::size_t{64} * 1024 * 1024;
  constexpr std::uint64_t kSeed = 0x6464;
  TempDir dir;
  const auto db = dir.file("large.db");
  gp_promise_id_t p{};
  {
    Host h(db);
    Worker w(h, "big");
    p = w.create();
  }
  const auto idx = std::to_string(p.oplog_idx);

  Child waiter({"big-await", db, "big", idx, std::to_string(kLen), std::to_string(kSeed), "60000"});
  waiter.expect("awaiting");
  REQUIRE(wait_in_futex(waiter.pid(), 1, 10000));

  const auto t0 = now_ns();
  Child completer({"complete", db, "big", idx, std::to_string(kLen), std::to_string(kSeed)});
  const auto done = completer.expect("result");
  const auto t1 = now_ns();
  CHECK(done.at(1) == "0");
  CHECK(done.at(2) == "1");
  completer.require_clean_exit();

  const auto r = waiter.expect("result");
  const auto t2 = now_ns();
  CHECK(r.at(1) == "0");
  CHECK(r.at(2) == std::to_string(kLen));
  CHECK(r.at(3) == "-1");  // no byte differs from the pattern
  waiter.require_clean_exit();
  std::printf("[durability] 64 MiB: completer process done in %.0f ms, waiter had it checked %.0f ms later\n",
              ms(t1 - t0), ms(t2 - t1));

  // And a third process reads the same bytes back.
  Host h(db);
  Payload b;
  int ready = -1;
  REQUIRE(gp_host_poll_promise(b.out(), &ready, h, &p) == GP_OK);
  REQUIRE(ready == 1);
  REQUIRE(b.b.len == kLen);
  CHECK(pattern_mismatch(b.b.data, b.b.len, kSeed) == -1);
}
