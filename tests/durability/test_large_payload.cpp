// Large payloads cross processes through the file intact: completed from a buffer in one
// process, awaited into a buffer in another, read back in a third; every byte is checked
// against the pattern the completer wrote.
#include <cstdio>
#include <vector>
#include <string>

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

namespace {
// Runs a big-cycle or big-read child and checks its result line: the call succeeded, completed
// the promise, and the bytes that came back are the pattern.  Returns the peak RSS above the
// RSS after opening, in MiB (SKIPs if the child cannot measure it).
double big_child_peak_mib(const std::vector<std::string>& args, double* base_mib = nullptr) {
  Child c(args);
  const auto line = c.line();
  c.require_clean_exit();
  const auto r = Child::words(line);
  if (r.at(0) == "skip") SKIP(line);
  REQUIRE(r.at(0) == "result");
  CAPTURE(line);
  CHECK(r.at(1) == "0");
  CHECK(r.at(2) == "1");
  CHECK(r.at(3) == "-1");  // the bytes that came back are the completed ones
  if (base_mib) *base_mib = static_cast<double>(to_i64(r.at(4))) / 1024;
  return static_cast<double>(to_i64(r.at(5)) - to_i64(r.at(4))) / 1024;
}
}  // namespace

// Issue 25: a payload received into the caller's own memory costs no library-allocated copy.
// The same 256 MiB payload, wanted in a buffer of the caller's, taken by gp_host_read_payload
// and by poll + memcpy (the only way before), each in a fresh child: the first peaks at about the
// caller's buffer, the second a whole payload above it.  Skipped under AddressSanitizer, whose
// shadow memory and quarantine RSS also counts.
TEST_CASE("reading a 256 MiB payload into the caller's buffer saves the library's copy", "[durability][large]") {
#if defined(__SANITIZE_ADDRESS__)
  SKIP("RSS under AddressSanitizer counts its shadow memory");
#endif
  constexpr std::size_t kLen = std::size_t{256} << 20;
  TempDir dir;
  double above[2] = {0, 0};
  const char* how[2] = {"into", "copy"};
  for (int i = 0; i < 2; ++i) {
    above[i] = big_child_peak_mib({"big-read", dir.file(std::string(how[i]) + ".db"), "reader", std::to_string(kLen), "252525", how[i]});
  }
  std::printf("[durability] 256 MiB into the caller's buffer: peak RSS +%.1f MiB read into it, +%.1f MiB polled and copied\n",
              above[0], above[1]);
  CHECK(above[0] < 256.0 + 32.0);          // the caller's buffer (the input was freed before)
  CHECK(above[1] - above[0] > 256.0 - 32.0);  // the library's copy, saved
}

// Issue 3: "through the C ABI the peak memory of a 256 MiB complete + await must stay under
// payload + 32 MiB" (the payload is streamed with incremental blob I/O, not copied whole).  In a
// fresh child: complete from a buffer, free it, await into the library's buffer.  Hidden and
// labelled "huge" with the 512 MiB test: under the sanitizers RSS measures their shadow memory.
TEST_CASE("a 256 MiB complete and await in one process peak under the payload plus 32 MiB of memory",
          "[.][durability][huge]") {
  constexpr std::size_t kLen = std::size_t{256} << 20;
  TempDir dir;
  double base_mib = 0;
  const double above = big_child_peak_mib({"big-cycle", dir.file("peak.db"), "peak", std::to_string(kLen), "256256"}, &base_mib);
  std::printf("[durability] 256 MiB complete + await: peak RSS %.1f MiB above the %.1f MiB after opening\n", above,
              base_mib);
  CHECK(above < 256.0 + 32.0);
}
