// The promise state machine of DESIGN §2: every call in every state, at worker and host level.
#include "support.hpp"

#include <catch2/generators/catch_generators.hpp>

#include <cstring>
#include <string>
#include <sys/mman.h>
#include <thread>

using namespace gpt;

namespace {

enum class Level { host, worker };

// The four promise calls at one level.  A worker-level caller is the worker that created the
// promises under test, so await is allowed.
struct Caller {
  Level level;
  gp_host* h;
  gp_worker* w;

  const char* name() const { return level == Level::host ? "host" : "worker"; }

  int complete(int* out, const gp_promise_id_t& p, std::string_view data) const {
    return level == Level::host ? gp_host_complete_promise(out, h, &p, u8(data), data.size())
                                : gp_worker_complete_promise(out, w, &p, u8(data), data.size());
  }
  int poll(Bytes& b, int* ready, const gp_promise_id_t& p) const {
    return level == Level::host ? gp_host_poll_promise(b.out(), ready, h, &p)
                                : gp_worker_poll_promise(b.out(), ready, w, &p);
  }
  int await(Bytes& b, const gp_promise_id_t& p, std::int64_t timeout_ms) const {
    return level == Level::host ? gp_host_await_promise(b.out(), h, &p, timeout_ms)
                                : gp_worker_await_promise(b.out(), w, &p, timeout_ms);
  }
  int del(const gp_promise_id_t& p) const {
    return level == Level::host ? gp_host_delete_promise(h, &p) : gp_worker_delete_promise(w, &p);
  }
};

Level any_level() { return GENERATE(Level::host, Level::worker); }

// The "gone" states: never created, deleted, or an oplog index that is not a promise.
enum class Gone { never_created, deleted, not_a_promise };
Gone any_gone() { return GENERATE(Gone::never_created, Gone::deleted, Gone::not_a_promise); }

std::string poll_payload(gp_host* h, const gp_promise_id_t& p) {
  Bytes b;
  int ready = -1;
  REQUIRE(gp_host_poll_promise(b.out(), &ready, h, &p) == GP_OK);
  REQUIRE(ready == 1);
  return b.str();
}

bool is_pending(gp_host* h, const gp_promise_id_t& p) {
  Bytes b;
  int ready = -1;
  REQUIRE(gp_host_poll_promise(b.out(), &ready, h, &p) == GP_OK);
  return ready == 0;
}

bool is_gone(gp_host* h, const gp_promise_id_t& p) {
  Bytes b;
  int ready = -1;
  return gp_host_poll_promise(b.out(), &ready, h, &p) == GP_ENOTFOUND;
}

struct Fixture {
  Host h;
  Worker w{h, "owner"};

  gp_promise_id_t gone(Gone how) {
    gp_promise_id_t p = w.create();
    if (how == Gone::never_created) p.oplog_idx += 1000;
    if (how == Gone::deleted) REQUIRE(gp_host_delete_promise(h, &p) == GP_OK);
    if (how == Gone::not_a_promise) p.oplog_idx = 1;
    return p;
  }
  gp_promise_id_t completed(std::string_view data) {
    gp_promise_id_t p = w.create();
    int done = -1;
    REQUIRE(gp_host_complete_promise(&done, h, &p, u8(data), data.size()) == GP_OK);
    REQUIRE(done == 1);
    return p;
  }
};

}  // namespace

// ---------------------------------------------------------------- complete

TEST_CASE("complete on a pending promise completes it and returns true", "[state]") {
  Fixture f;
  Caller c{any_level(), f.h, f.w};
  CAPTURE(c.name());
  gp_promise_id_t p = f.w.create();
  int done = -1;
  REQUIRE(c.complete(&done, p, "approved") == GP_OK);
  CHECK(done == 1);
  CHECK(poll_payload(f.h, p) == "approved");
}

TEST_CASE("complete on a completed promise returns false and keeps the first payload", "[state]") {
  Fixture f;
  Caller c{any_level(), f.h, f.w};
  CAPTURE(c.name());
  gp_promise_id_t p = f.completed("first");
  for (std::string_view other : {"second", "", "first", "a much longer payload than the first"}) {
    int done = -1;
    REQUIRE(c.complete(&done, p, other) == GP_OK);
    CHECK(done == 0);
    CHECK(poll_payload(f.h, p) == "first");
  }
}

TEST_CASE("complete on a gone promise gives GP_ENOTFOUND", "[state]") {
  Fixture f;
  Caller c{any_level(), f.h, f.w};
  Gone how = any_gone();
  CAPTURE(c.name(), static_cast<int>(how));
  gp_promise_id_t p = f.gone(how);
  int done = -1;
  CHECK(c.complete(&done, p, "late") == GP_ENOTFOUND);
  CHECK(std::strlen(gp_last_error_message()) > 0);
  CHECK(is_gone(f.h, p));
}

TEST_CASE("complete of a promise of an unknown worker gives GP_ENOTFOUND", "[state]") {
  Fixture f;
  Caller c{any_level(), f.h, f.w};
  CAPTURE(c.name());
  gp_promise_id_t p{};
  p.worker_id = worker_id("nobody-here");
  p.oplog_idx = 2;
  int done = -1;
  CHECK(c.complete(&done, p, "x") == GP_ENOTFOUND);
}

// ---------------------------------------------------------------- await

TEST_CASE("await on a pending promise blocks until it is completed", "[state]") {
  Fixture f;
  Caller c{any_level(), f.h, f.w};
  CAPTURE(c.name());
  gp_promise_id_t p = f.w.create();
  std::thread completer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    int done = -1;
    gp_host_complete_promise(&done, f.h, &p, u8("later"), 5);
  });
  auto t0 = Clock::now();
  Bytes b;
  int rc = c.await(b, p, 10000);
  auto waited = ms_since(t0);
  completer.join();
  REQUIRE(rc == GP_OK);
  CHECK(b.str() == "later");
  CHECK(waited >= 100);
  CHECK(waited < 5000);
}

TEST_CASE("await on a pending promise that gets deleted gives GP_ENOTFOUND", "[state]") {
  Fixture f;
  Caller c{any_level(), f.h, f.w};
  CAPTURE(c.name());
  gp_promise_id_t p = f.w.create();
  std::thread deleter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    gp_host_delete_promise(f.h, &p);
  });
  auto t0 = Clock::now();
  Bytes b;
  int rc = c.await(b, p, 10000);
  auto waited = ms_since(t0);
  deleter.join();
  CHECK(rc == GP_ENOTFOUND);
  CHECK(waited < 5000);
}

TEST_CASE("await on a completed promise returns its payload at once", "[state]") {
  Fixture f;
  Caller c{any_level(), f.h, f.w};
  CAPTURE(c.name());
  gp_promise_id_t p = f.completed("ready");
  for (std::int64_t timeout : {0, 1, 10000, -1}) {
    CAPTURE(timeout);
    auto t0 = Clock::now();
    Bytes b;
    REQUIRE(c.await(b, p, timeout) == GP_OK);
    CHECK(b.str() == "ready");
    CHECK(ms_since(t0) < 2000);
  }
  CHECK(poll_payload(f.h, p) == "ready");  // awaiting does not consume the payload
}

TEST_CASE("await on a gone promise gives GP_ENOTFOUND", "[state]") {
  Fixture f;
  Caller c{any_level(), f.h, f.w};
  Gone how = any_gone();
  CAPTURE(c.name(), static_cast<int>(how));
  gp_promise_id_t p = f.gone(how);
  for (std::int64_t timeout : {0, 5000, -1}) {
    CAPTURE(timeout);
    auto t0 = Clock::now();
    Bytes b;
    CHECK(c.await(b, p, timeout) == GP_ENOTFOUND);
    CHECK(ms_since(t0) < 2000);  // no waiting for something that cannot happen
  }
}

// ---------------------------------------------------------------- poll

TEST_CASE("poll on a pending promise returns none", "[state]") {
  Fixture f;
  Caller c{any_level(), f.h, f.w};
  CAPTURE(c.name());
  gp_promise_id_t p = f.w.create();
  int ready = -1;
  // The out struct is filled in (set to {NULL, 0}) even when it held garbage.
  gp_bytes_t raw = {reinterpret_cast<std::uint8_t*>(0x1), 99};
  REQUIRE((c.level == Level::host ? gp_host_poll_promise(&raw, &ready, f.h, &p)
                                  : gp_worker_poll_promise(&raw, &ready, f.w, &p)) == GP_OK);
  CHECK(ready == 0);
  CHECK(raw.data == nullptr);
  CHECK(raw.len == 0);
  CHECK(is_pending(f.h, p));
}

TEST_CASE("poll on a completed promise returns its payload", "[state]") {
  Fixture f;
  Caller c{any_level(), f.h, f.w};
  CAPTURE(c.name());
  gp_promise_id_t p = f.completed("done!");
  for (int i = 0; i < 3; ++i) {  // repeatable, nothing consumed
    Bytes b;
    int ready = -1;
    REQUIRE(c.poll(b, &ready, p) == GP_OK);
    CHECK(ready == 1);
    CHECK(b.str() == "done!");
  }
}

TEST_CASE("poll on a gone promise gives GP_ENOTFOUND", "[state]") {
  Fixture f;
  Caller c{any_level(), f.h, f.w};
  Gone how = any_gone();
  CAPTURE(c.name(), static_cast<int>(how));
  gp_promise_id_t p = f.gone(how);
  Bytes b;
  int ready = -1;
  CHECK(c.poll(b, &ready, p) == GP_ENOTFOUND);
}

// ---------------------------------------------------------------- delete

TEST_CASE("delete on a pending promise removes it", "[state]") {
  Fixture f;
  Caller c{any_level(), f.h, f.w};
  CAPTURE(c.name());
  gp_promise_id_t p = f.w.create();
  REQUIRE(c.del(p) == GP_OK);
  CHECK(is_gone(f.h, p));
  int done = -1;
  CHECK(gp_host_complete_promise(&done, f.h, &p, u8("x"), 1) == GP_ENOTFOUND);
}

TEST_CASE("delete on a completed promise removes it", "[state]") {
  Fixture f;
  Caller c{any_level(), f.h, f.w};
  CAPTURE(c.name());
  gp_promise_id_t p = f.completed("payload");
  REQUIRE(c.del(p) == GP_OK);
  CHECK(is_gone(f.h, p));
  Bytes b;
  CHECK(gp_host_await_promise(b.out(), f.h, &p, 0) == GP_ENOTFOUND);
}

TEST_CASE("delete on a gone promise is a no-op that succeeds", "[state]") {
  Fixture f;
  Caller c{any_level(), f.h, f.w};
  Gone how = any_gone();
  CAPTURE(c.name(), static_cast<int>(how));
  gp_promise_id_t p = f.gone(how);
  CHECK(c.del(p) == GP_OK);
  CHECK(c.del(p) == GP_OK);
  CHECK(is_gone(f.h, p));
}

TEST_CASE("delete of one promise leaves the others alone", "[state]") {
  Fixture f;
  gp_promise_id_t a = f.w.create();
  gp_promise_id_t b = f.completed("b");
  gp_promise_id_t c = f.w.create();
  REQUIRE(gp_host_delete_promise(f.h, &a) == GP_OK);
  CHECK(poll_payload(f.h, b) == "b");
  CHECK(is_pending(f.h, c));
}

// ---------------------------------------------------------------- payloads

TEST_CASE("payloads are arbitrary bytes: empty and with NUL bytes", "[state][payload]") {
  Fixture f;
  Caller c{any_level(), f.h, f.w};
  CAPTURE(c.name());
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  const std::string payload = GENERATE_COPY(as<std::string>{}, std::string(), std::string(1, '\0'),
                                            std::string("a\0b\0\0c", 6), std::string(4096, '\0'),
                                            all_bytes, all_bytes + all_bytes);
  CAPTURE(payload.size());
  gp_promise_id_t p = f.w.create();
  int done = -1;
  REQUIRE(c.complete(&done, p, payload) == GP_OK);
  REQUIRE(done == 1);

  Bytes polled;
  int ready = -1;
  REQUIRE(c.poll(polled, &ready, p) == GP_OK);
  CHECK(ready == 1);
  CHECK(polled.b.len == payload.size());
  CHECK(polled.str() == payload);

  Bytes awaited;
  REQUIRE(c.await(awaited, p, 0) == GP_OK);
  CHECK(awaited.b.len == payload.size());
  CHECK(awaited.str() == payload);
}

TEST_CASE("an empty payload is a completion, not pending", "[state][payload]") {
  Fixture f;
  gp_promise_id_t p = f.w.create();
  int done = -1;
  REQUIRE(gp_host_complete_promise(&done, f.h, &p, nullptr, 0) == GP_OK);
  REQUIRE(done == 1);
  Bytes b;
  int ready = -1;
  REQUIRE(gp_host_poll_promise(b.out(), &ready, f.h, &p) == GP_OK);
  CHECK(ready == 1);
  CHECK(b.b.len == 0);
  int again = -1;
  REQUIRE(gp_host_complete_promise(&again, f.h, &p, u8("later"), 5) == GP_OK);
  CHECK(again == 0);  // the empty payload won
  CHECK(poll_payload(f.h, p).empty());
}

TEST_CASE("the payload is copied when completing", "[state][payload]") {
  Fixture f;
  gp_promise_id_t p = f.w.create();
  std::string buffer = "original";
  int done = -1;
  REQUIRE(gp_host_complete_promise(&done, f.h, &p, u8(buffer), buffer.size()) == GP_OK);
  std::fill(buffer.begin(), buffer.end(), 'X');
  CHECK(poll_payload(f.h, p) == "original");
}

TEST_CASE("each read returns its own copy of the payload", "[state][payload]") {
  Fixture f;
  gp_promise_id_t p = f.completed("shared");
  Bytes first, second;
  int ready = 0;
  REQUIRE(gp_host_poll_promise(first.out(), &ready, f.h, &p) == GP_OK);
  REQUIRE(gp_host_poll_promise(second.out(), &ready, f.h, &p) == GP_OK);
  REQUIRE(first.b.data != second.b.data);
  first.b.data[0] = 'X';
  CHECK(second.str() == "shared");
  CHECK(poll_payload(f.h, p) == "shared");
}

TEST_CASE("a multi-megabyte payload round-trips", "[state][payload]") {
  Fixture f;
  std::string big(8u << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131u) ^ (i >> 9));
  gp_promise_id_t p = f.w.create();
  int done = -1;
  REQUIRE(gp_worker_complete_promise(&done, f.w, &p, u8(big), big.size()) == GP_OK);
  REQUIRE(done == 1);
  Bytes b;
  REQUIRE(gp_worker_await_promise(b.out(), f.w, &p, 0) == GP_OK);
  REQUIRE(b.b.len == big.size());
  CHECK(std::memcmp(b.b.data, big.data(), big.size()) == 0);
}

TEST_CASE("a payload over GP_MAX_PAYLOAD gives GP_ETOOBIG and leaves the promise pending",
          "[state][payload]") {
  Fixture f;
  const std::size_t len = GP_MAX_PAYLOAD + 1;
  // A readable, all-zero mapping: a valid buffer of that size that costs no memory.
  void* mem = mmap(nullptr, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  REQUIRE(mem != MAP_FAILED);
  Caller c{any_level(), f.h, f.w};
  CAPTURE(c.name());
  gp_promise_id_t p = f.w.create();
  int done = -1;
  int rc = c.level == Level::host
               ? gp_host_complete_promise(&done, f.h, &p, static_cast<const std::uint8_t*>(mem), len)
               : gp_worker_complete_promise(&done, f.w, &p, static_cast<const std::uint8_t*>(mem), len);
  munmap(mem, len);
  CHECK(rc == GP_ETOOBIG);
  CHECK(std::strlen(gp_last_error_message()) > 0);
  CHECK(is_pending(f.h, p));
}

// ---------------------------------------------------------------- ownership and ids

TEST_CASE("a worker may not await another worker's promise but the host may", "[state]") {
  Fixture f;
  Worker other(f.h, "other");
  gp_promise_id_t pending = f.w.create();
  gp_promise_id_t done_p = f.completed("for the owner");

  Bytes b;
  CHECK(gp_worker_await_promise(b.out(), other, &pending, 0) == GP_ENOTOWNER);
  CHECK(std::strlen(gp_last_error_message()) > 0);
  CHECK(gp_worker_await_promise(b.out(), other, &done_p, 0) == GP_ENOTOWNER);
  CHECK(gp_worker_await_promise(b.out(), other, &done_p, 1000) == GP_ENOTOWNER);

  REQUIRE(gp_host_await_promise(b.out(), f.h, &done_p, 0) == GP_OK);
  CHECK(b.str() == "for the owner");
  REQUIRE(gp_worker_await_promise(b.out(), f.w, &done_p, 0) == GP_OK);
  CHECK(b.str() == "for the owner");
}

TEST_CASE("any worker may complete and poll another worker's promise", "[state]") {
  Fixture f;
  Worker other(f.h, "other");
  gp_promise_id_t p = f.w.create();
  int done = -1;
  REQUIRE(gp_worker_complete_promise(&done, other, &p, u8("from other"), 10) == GP_OK);
  CHECK(done == 1);
  Bytes b;
  int ready = -1;
  REQUIRE(gp_worker_poll_promise(b.out(), &ready, other, &p) == GP_OK);
  CHECK(ready == 1);
  CHECK(b.str() == "from other");
  REQUIRE(gp_worker_await_promise(b.out(), f.w, &p, 0) == GP_OK);
  CHECK(b.str() == "from other");
}

TEST_CASE("a created promise carries the creating worker's id", "[state]") {
  Fixture f;
  gp_promise_id_t p = f.w.create();
  CHECK(p.worker_id.component_id.high_bits == f.w.id.component_id.high_bits);
  CHECK(p.worker_id.component_id.low_bits == f.w.id.component_id.low_bits);
  CHECK(std::string(p.worker_id.worker_name) == "owner");
  CHECK(p.oplog_idx >= 2);  // entry 1 is the worker's creation
  gp_worker_id_t got{};
  REQUIRE(gp_worker_get_id(&got, f.w) == GP_OK);
  CHECK(std::string(got.worker_name) == "owner");
  CHECK(got.component_id.high_bits == f.w.id.component_id.high_bits);
  CHECK(got.component_id.low_bits == f.w.id.component_id.low_bits);
}

TEST_CASE("promise ids are never reused after delete", "[state]") {
  Fixture f;
  std::vector<std::uint64_t> seen;
  for (int i = 0; i < 20; ++i) {
    gp_promise_id_t p = f.w.create();
    for (auto idx : seen) CHECK(idx != p.oplog_idx);
    if (!seen.empty()) CHECK(p.oplog_idx > seen.back());
    seen.push_back(p.oplog_idx);
    REQUIRE(gp_worker_delete_promise(f.w, &p) == GP_OK);
    CHECK(is_gone(f.h, p));
  }
}

TEST_CASE("the same worker name in two components is two workers", "[state]") {
  Fixture f;
  Worker twin(f.h, "owner", "00000000-0000-0000-0000-000000000001");
  gp_promise_id_t mine = f.w.create();
  gp_promise_id_t theirs = twin.create();
  CHECK(mine.oplog_idx == theirs.oplog_idx);  // both workers' second entry
  int done = -1;
  REQUIRE(gp_host_complete_promise(&done, f.h, &mine, u8("mine"), 4) == GP_OK);
  CHECK(is_pending(f.h, theirs));
  Bytes b;
  CHECK(gp_worker_await_promise(b.out(), twin, &mine, 0) == GP_ENOTOWNER);
}

TEST_CASE("two handles on one worker share its oplog and promises", "[state]") {
  Fixture f;
  Worker again(f.h, "owner");
  gp_promise_id_t a = f.w.create();
  // One oplog: the second handle must take up the first one's entries before it appends
  // (test_worker_conflict.cpp), here by a restart that replays them.
  REQUIRE(gp_worker_restart(again) == GP_OK);
  CHECK(again.create().oplog_idx == a.oplog_idx);  // replayed
  gp_promise_id_t b = again.create();
  CHECK(b.oplog_idx == a.oplog_idx + 1);
  Bytes out;
  int done = -1;
  REQUIRE(gp_host_complete_promise(&done, f.h, &a, u8("a"), 1) == GP_OK);
  REQUIRE(gp_worker_await_promise(out.out(), again, &a, 0) == GP_OK);  // same worker: owner
  CHECK(out.str() == "a");
}

TEST_CASE("workers stay usable after their host handle is closed", "[state]") {
  gp_host* h = nullptr;
  REQUIRE(gp_host_open(&h, ":memory:", nullptr) == GP_OK);
  gp_worker_id_t id = worker_id("survivor");
  gp_worker* w = nullptr;
  REQUIRE(gp_worker_open(&w, h, &id) == GP_OK);
  gp_host_close(&h);
  REQUIRE(h == nullptr);

  gp_promise_id_t p{};
  REQUIRE(gp_worker_create_promise(&p, w) == GP_OK);
  int done = -1;
  REQUIRE(gp_worker_complete_promise(&done, w, &p, u8("ok"), 2) == GP_OK);
  CHECK(done == 1);
  gp_bytes_t b{nullptr, 0};
  REQUIRE(gp_worker_await_promise(&b, w, &p, 0) == GP_OK);
  CHECK(std::string(reinterpret_cast<char*>(b.data), b.len) == "ok");
  gp_bytes_free(&b);
  gp_worker_close(&w);
}

TEST_CASE("opening a worker with an invalid name gives GP_EINVAL", "[state]") {
  Host h;
  gp_worker_id_t id = worker_id("fine");
  std::strcpy(id.worker_name, "-not-fine");
  gp_worker* w = nullptr;
  CHECK(gp_worker_open(&w, h, &id) == GP_EINVAL);
  CHECK(w == nullptr);
  std::memset(id.worker_name, 'a', sizeof id.worker_name);  // no terminator
  CHECK(gp_worker_open(&w, h, &id) == GP_EINVAL);
  CHECK(w == nullptr);
  std::memset(id.worker_name, 0, sizeof id.worker_name);  // empty
  CHECK(gp_worker_open(&w, h, &id) == GP_EINVAL);
  CHECK(w == nullptr);
}

TEST_CASE("promise calls with a malformed promise id give GP_EINVAL", "[state]") {
  Fixture f;
  gp_promise_id_t p = f.w.create();
  std::memset(p.worker_id.worker_name, 'z', sizeof p.worker_id.worker_name);  // no terminator
  int done = -1;
  Bytes b;
  int ready = -1;
  CHECK(gp_host_complete_promise(&done, f.h, &p, u8("x"), 1) == GP_EINVAL);
  CHECK(gp_host_poll_promise(b.out(), &ready, f.h, &p) == GP_EINVAL);
  CHECK(gp_host_await_promise(b.out(), f.h, &p, 0) == GP_EINVAL);
  CHECK(gp_host_delete_promise(f.h, &p) == GP_EINVAL);
  CHECK(gp_worker_complete_promise(&done, f.w, &p, u8("x"), 1) == GP_EINVAL);
}

TEST_CASE("a promise id with a huge oplog index never reaches another worker's promise", "[state]") {
  Host h;
  Worker a(h, "a");
  Worker b(h, "b");
  Worker c(h, "c");
  Worker d(h, "d");
  gp_promise_id_t pa = a.create();
  gp_promise_id_t pb = b.create();
  gp_promise_id_t pc = c.create();
  gp_promise_id_t pd = d.create();
  for (std::uint64_t high : {std::uint64_t{1} << 40, std::uint64_t{1} << 41, std::uint64_t{3} << 40,
                             std::uint64_t{1} << 42, std::uint64_t{1} << 63,
                             ~std::uint64_t{0} << 40}) {
    for (std::uint64_t low : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{pa.oplog_idx}}) {
      gp_promise_id_t forged = pa;
      forged.oplog_idx = high | low;
      CAPTURE(forged.oplog_idx);
      int done = -1;
      Bytes out;
      int ready = -1;
      CHECK(gp_host_poll_promise(out.out(), &ready, h, &forged) == GP_ENOTFOUND);
      CHECK(gp_host_complete_promise(&done, h, &forged, u8("forged"), 6) == GP_ENOTFOUND);
      CHECK(gp_worker_complete_promise(&done, a, &forged, u8("forged"), 6) == GP_ENOTFOUND);
      CHECK(gp_host_delete_promise(h, &forged) == GP_OK);
      CHECK(gp_worker_delete_promise(a, &forged) == GP_OK);
    }
  }
  gp_promise_id_t huge = pa;
  huge.oplog_idx = UINT64_MAX;
  CHECK(gp_host_delete_promise(h, &huge) == GP_OK);
  for (auto* p : {&pa, &pb, &pc, &pd}) {
    CAPTURE(format(*p));
    CHECK(is_pending(h, *p));
  }
}
