// Threads: racing completers, awaits woken by other threads, timeouts, a shared host handle.
// Catch2 assertions are not thread-safe, so worker threads only record what they saw and the
// test thread asserts afterwards.
#include "support.hpp"

#include <catch2/generators/catch_generators.hpp>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace gpt;

TEST_CASE("exactly one of 16 racing completers wins and its payload is stored", "[threads]") {
  Host h;
  Worker owner(h, "contested");
  Worker other(h, "bystander");
  constexpr int kThreads = 16;
  for (int round = 0; round < 10; ++round) {
    CAPTURE(round);
    gp_promise_id_t p = owner.create();
    StartLine start(kThreads);
    std::vector<int> rc(kThreads, 1), out(kThreads, -1);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        const std::string payload = "payload from thread " + std::to_string(i);
        start.arrive_and_wait();
        // Mix the three ways of completing: host, the owner worker, another worker.
        switch (i % 3) {
          case 0:
            rc[i] = gp_host_complete_promise(&out[i], h, &p, u8(payload), payload.size());
            break;
          case 1:
            rc[i] = gp_worker_complete_promise(&out[i], owner, &p, u8(payload), payload.size());
            break;
          default:
            rc[i] = gp_worker_complete_promise(&out[i], other, &p, u8(payload), payload.size());
        }
      });
    }
    for (auto& t : threads) t.join();
    int winners = 0, winner = -1;
    for (int i = 0; i < kThreads; ++i) {
      CAPTURE(i);
      CHECK(rc[i] == GP_OK);
      CHECK((out[i] == 0 || out[i] == 1));
      if (out[i] == 1) {
        ++winners;
        winner = i;
      }
    }
    REQUIRE(winners == 1);
    Bytes b;
    REQUIRE(gp_worker_await_promise(b.out(), owner, &p, 0) == GP_OK);
    CHECK(b.str() == "payload from thread " + std::to_string(winner));
  }
}

TEST_CASE("an await is woken by a completion from another thread", "[threads]") {
  Host h;
  Worker w(h, "waiter");
  gp_promise_id_t p = w.create();
  std::atomic<bool> awaiting{false};
  int rc = 1;
  std::string got;
  long long waited = -1;
  std::thread waiter([&] {
    Bytes b;
    awaiting = true;
    auto t0 = Clock::now();
    rc = gp_worker_await_promise(b.out(), w, &p, 20000);
    waited = ms_since(t0);
    got = b.str();
  });
  while (!awaiting) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int done = -1;
  auto t_complete = Clock::now();
  REQUIRE(gp_host_complete_promise(&done, h, &p, u8("wake up"), 7) == GP_OK);
  REQUIRE(done == 1);
  waiter.join();
  CHECK(rc == GP_OK);
  CHECK(got == "wake up");
  CHECK(waited >= 150);
  // Woken directly, not by the 20 s timeout, and well within the fallback poll interval.
  CHECK(ms_since(t_complete) < 2000);
}

TEST_CASE("several awaits of one promise are all woken by one completion", "[threads]") {
  Host h;
  Worker w(h, "crowd");
  gp_promise_id_t p = w.create();
  constexpr int kWaiters = 6;
  std::vector<int> rc(kWaiters, 1);
  std::vector<std::string> got(kWaiters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&, i] {
      Bytes b;
      rc[i] = i % 2 ? gp_worker_await_promise(b.out(), w, &p, 20000)
                    : gp_host_await_promise(b.out(), h, &p, 20000);
      got[i] = b.str();
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int done = -1;
  auto t0 = Clock::now();
  REQUIRE(gp_host_complete_promise(&done, h, &p, u8("all"), 3) == GP_OK);
  for (auto& t : threads) t.join();
  CHECK(ms_since(t0) < 5000);
  for (int i = 0; i < kWaiters; ++i) {
    CAPTURE(i);
    CHECK(rc[i] == GP_OK);
    CHECK(got[i] == "all");
  }
}

TEST_CASE("an await is woken by a delete from another thread with GP_ENOTFOUND", "[threads]") {
  Host h;
  Worker w(h, "deleted-under-me");
  gp_promise_id_t p = w.create();
  std::atomic<bool> awaiting{false};
  int worker_rc = 1, host_rc = 1;
  std::thread worker_waiter([&] {
    Bytes b;
    awaiting = true;
    worker_rc = gp_worker_await_promise(b.out(), w, &p, 20000);
  });
  std::thread host_waiter([&] {
    Bytes b;
    host_rc = gp_host_await_promise(b.out(), h, &p, -1);  // forever: only the delete ends it
  });
  while (!awaiting) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto t0 = Clock::now();
  REQUIRE(gp_worker_delete_promise(w, &p) == GP_OK);
  worker_waiter.join();
  host_waiter.join();
  CHECK(worker_rc == GP_ENOTFOUND);
  CHECK(host_rc == GP_ENOTFOUND);
  CHECK(ms_since(t0) < 2000);
}

TEST_CASE("an await times out with GP_ETIMEOUT and the promise stays pending", "[threads]") {
  Host h;
  Worker w(h, "timer");
  gp_promise_id_t p = w.create();
  for (bool worker_level : {false, true}) {
    CAPTURE(worker_level);
    Bytes b;
    auto t0 = Clock::now();
    int rc = worker_level ? gp_worker_await_promise(b.out(), w, &p, 300)
                          : gp_host_await_promise(b.out(), h, &p, 300);
    auto waited = ms_since(t0);
    CHECK(rc == GP_ETIMEOUT);
    CHECK(waited >= 280);
    CHECK(waited < 3000);
    CHECK(b.b.data == nullptr);
    CHECK(b.b.len == 0);
    int ready = -1;
    REQUIRE(gp_host_poll_promise(b.out(), &ready, h, &p) == GP_OK);
    CHECK(ready == 0);
  }
  // Still completable after the timeouts.
  int done = -1;
  REQUIRE(gp_host_complete_promise(&done, h, &p, u8("late"), 4) == GP_OK);
  CHECK(done == 1);
}

TEST_CASE("an await with timeout 0 checks once without waiting", "[threads]") {
  Host h;
  Worker w(h, "impatient");
  gp_promise_id_t p = w.create();
  Bytes b;
  auto t0 = Clock::now();
  CHECK(gp_worker_await_promise(b.out(), w, &p, 0) == GP_ETIMEOUT);
  CHECK(gp_host_await_promise(b.out(), h, &p, 0) == GP_ETIMEOUT);
  CHECK(ms_since(t0) < 500);
  int done = -1;
  REQUIRE(gp_host_complete_promise(&done, h, &p, u8("now"), 3) == GP_OK);
  REQUIRE(gp_worker_await_promise(b.out(), w, &p, 0) == GP_OK);
  CHECK(b.str() == "now");
}

TEST_CASE("an await with a negative timeout waits until completion", "[threads]") {
  Host h;
  Worker w(h, "forever");
  gp_promise_id_t p = w.create();
  std::thread completer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    int done = -1;
    gp_host_complete_promise(&done, h, &p, u8("eventually"), 10);
  });
  Bytes b;
  auto t0 = Clock::now();
  int rc = gp_worker_await_promise(b.out(), w, &p, -1);
  auto waited = ms_since(t0);
  completer.join();
  REQUIRE(rc == GP_OK);
  CHECK(b.str() == "eventually");
  CHECK(waited >= 250);
}

TEST_CASE("an await with a timeout too long for the clock waits until a completion from another thread",
          "[threads]") {
  // INT64_MAX ms, and 1e13 ms (~317 years), are past what steady_clock can add to now: they
  // must wait as if forever, not wrap around into an immediate GP_ETIMEOUT.
  const auto timeout = GENERATE(std::numeric_limits<std::int64_t>::max(), std::int64_t{10000000000000});
  const auto kind = GENERATE(as<std::string>{}, "worker await", "host await", "promise block");
  const bool file = GENERATE(false, true);
  CAPTURE(timeout, kind, file);
  TempDir dir;
  Host h(file ? dir.file("huge-timeout.db") : ":memory:");
  Worker w(h, "patient");
  gp_promise_id_t p = w.create();
  gp_promise* handle = nullptr;
  REQUIRE(gp_host_get_promise(&handle, h, &p) == GP_OK);
  std::atomic<bool> returned{false};
  int rc = 1;
  std::string got;
  std::thread waiter([&] {
    Bytes b;
    if (kind == "worker await") {
      rc = gp_worker_await_promise(b.out(), w, &p, timeout);
    } else if (kind == "host await") {
      rc = gp_host_await_promise(b.out(), h, &p, timeout);
    } else {
      rc = gp_promise_block(handle, timeout);
    }
    got = b.str();
    returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const bool returned_early = returned.load();
  int done = -1;
  REQUIRE(gp_host_complete_promise(&done, h, &p, u8("at last"), 7) == GP_OK);
  auto t0 = Clock::now();
  waiter.join();
  gp_promise_close(&handle);
  CHECK_FALSE(returned_early);
  CHECK(done == 1);
  CHECK(rc == GP_OK);
  if (kind != "promise block") CHECK(got == "at last");
  CHECK(ms_since(t0) < 2000);
}

TEST_CASE("many threads share one host handle for create complete and await", "[threads]") {
  Host h;
  constexpr int kAwaiters = 4;
  constexpr int kCompleters = 4;
  constexpr int kPerAwaiter = 40;

  // Awaiters create promises and hand them to completers through a queue, then await them.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<gp_promise_id_t> queue;
  int finished_awaiters = 0;
  std::atomic<int> failures{0};
  std::vector<std::string> failure_notes;
  auto note = [&](std::string s) {
    std::lock_guard<std::mutex> lock(mu);
    failure_notes.push_back(std::move(s));
    ++failures;
  };
  std::vector<std::set<std::uint64_t>> created(kAwaiters);

  std::vector<std::thread> threads;
  for (int a = 0; a < kAwaiters; ++a) {
    threads.emplace_back([&, a] {
      gp_worker_id_t id{};
      gp_uuid_t u{};
      gp_uuid_parse(&u, kComponent);
      const std::string name = "awaiter-" + std::to_string(a);
      gp_worker_id_make(&id, &u, name.c_str());
      gp_worker* w = nullptr;
      if (gp_worker_open(&w, h, &id) != GP_OK) {
        note("open " + name + ": " + gp_last_error_message());
      } else {
        for (int i = 0; i < kPerAwaiter; ++i) {
          gp_promise_id_t p{};
          if (gp_worker_create_promise(&p, w) != GP_OK) {
            note("create: " + std::string(gp_last_error_message()));
            continue;
          }
          if (!created[a].insert(p.oplog_idx).second) note("duplicate oplog_idx");
          {
            std::lock_guard<std::mutex> lock(mu);
            queue.push_back(p);
          }
          cv.notify_one();
          gp_bytes_t b{nullptr, 0};
          int rc = gp_worker_await_promise(&b, w, &p, 20000);
          char text[GP_PROMISE_ID_TEXT_SIZE];
          gp_promise_id_format(text, sizeof text, &p);
          if (rc != GP_OK) {
            note(std::string("await ") + text + ": " + gp_errstr(rc) + " " + gp_last_error_message());
          } else if (std::string(reinterpret_cast<char*>(b.data), b.len) != text) {
            note(std::string("await ") + text + " got the wrong payload");
          }
          gp_bytes_free(&b);
        }
      }
      gp_worker_close(&w);
      {
        std::lock_guard<std::mutex> lock(mu);
        ++finished_awaiters;
      }
      cv.notify_all();
    });
  }
  for (int c = 0; c < kCompleters; ++c) {
    threads.emplace_back([&] {
      for (;;) {
        gp_promise_id_t p{};
        {
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [&] { return !queue.empty() || finished_awaiters == kAwaiters; });
          if (queue.empty()) return;
          p = queue.front();
          queue.pop_front();
        }
        char text[GP_PROMISE_ID_TEXT_SIZE];
        gp_promise_id_format(text, sizeof text, &p);
        int done = -1;
        int rc = gp_host_complete_promise(&done, h, &p, reinterpret_cast<const std::uint8_t*>(text),
                                          std::strlen(text));
        if (rc != GP_OK || done != 1) note(std::string("complete ") + text + ": " + gp_errstr(rc));
      }
    });
  }
  for (auto& t : threads) t.join();
  INFO((failure_notes.empty() ? std::string() : failure_notes.front()));
  CHECK(failures == 0);
  for (int a = 0; a < kAwaiters; ++a) CHECK(created[a].size() == kPerAwaiter);
}

TEST_CASE("threads sharing one worker handle get distinct promise ids", "[threads]") {
  Host h;
  Worker w(h, "shared");
  constexpr int kThreads = 8, kEach = 25;
  std::vector<std::vector<std::uint64_t>> ids(kThreads);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        gp_promise_id_t p{};
        if (gp_worker_create_promise(&p, w) != GP_OK) {
          ++errors;
          continue;
        }
        ids[t].push_back(p.oplog_idx);
        int done = -1;
        if (gp_worker_complete_promise(&done, w, &p, u8("x"), 1) != GP_OK || done != 1) ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(errors == 0);
  std::set<std::uint64_t> all;
  for (auto& v : ids)
    for (auto idx : v) all.insert(idx);
  CHECK(all.size() == kThreads * kEach);
  // 1 creation entry + a create and a complete per promise, with no gaps or duplicates.
  CHECK(oplog_length(h, w.id) == 1 + 2 * kThreads * kEach);
}
