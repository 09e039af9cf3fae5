// gp_promise_*: promise handles (get-promise) and the batch check used by event loops.
#include "support.hpp"

#include <thread>
#include <vector>

using namespace gpt;

namespace {

// A handle owned by the test; closes itself.
struct Handle {
  gp_promise* p = nullptr;
  Handle(gp_host* h, const gp_promise_id_t& id) {
    int rc = gp_host_get_promise(&p, h, &id);
    INFO(gp_last_error_message());
    REQUIRE(rc == GP_OK);
    REQUIRE(p != nullptr);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { gp_promise_close(&p); }
  operator gp_promise*() const { return p; }
  int ready() const {
    int r = -1;
    REQUIRE(gp_promise_ready(&r, p) == GP_OK);
    return r;
  }
};

}  // namespace

TEST_CASE("a promise handle is not ready while pending and get gives none", "[promise_handle]") {
  Host h;
  Worker w(h, "alice");
  const auto id = w.create();
  Handle p(h, id);
  CHECK(p.ready() == 0);
  Bytes out;
  int got = -1;
  REQUIRE(gp_promise_get(out.out(), &got, p) == GP_OK);
  CHECK(got == 0);
  CHECK(gp_promise_block(p, 0) == GP_ETIMEOUT);
  gp_promise_id_t back{};
  REQUIRE(gp_promise_get_id(&back, p) == GP_OK);
  CHECK(same_id(back, id));
}

TEST_CASE("a completed promise's handle is ready and get gives the payload, recording nothing", "[promise_handle]") {
  Host h;
  Worker w(h, "alice");
  const auto id = w.create();
  Handle p(h, id);
  int done = 0;
  REQUIRE(gp_host_complete_promise(&done, h, &id, u8("yes"), 3) == GP_OK);
  CHECK(p.ready() == 1);
  CHECK(gp_promise_block(p, -1) == GP_OK);
  Bytes out;
  int got = 0;
  REQUIRE(gp_promise_get(out.out(), &got, p) == GP_OK);
  CHECK(got == 1);
  CHECK(out.str() == "yes");
  int32_t state = 0;
  REQUIRE(gp_promise_state(&state, p) == GP_OK);
  CHECK(state == GP_PROMISE_COMPLETED);
  CHECK(oplog_length(h, w.id) == 2);  // create + create-promise: handles record nothing
}

TEST_CASE("a deleted promise's handle is ready and get gives GP_ENOTFOUND", "[promise_handle]") {
  Host h;
  Worker w(h, "alice");
  const auto id = w.create();
  Handle p(h, id);
  REQUIRE(gp_host_delete_promise(h, &id) == GP_OK);
  CHECK(p.ready() == 1);
  CHECK(gp_promise_block(p, 1000) == GP_OK);
  Bytes out;
  int got = 0;
  CHECK(gp_promise_get(out.out(), &got, p) == GP_ENOTFOUND);
  int32_t state = 0;
  REQUIRE(gp_promise_state(&state, p) == GP_OK);
  CHECK(state == GP_PROMISE_GONE);
}

TEST_CASE("block wakes when another thread completes the promise", "[promise_handle]") {
  Host h;
  Worker w(h, "alice");
  const auto id = w.create();
  Handle p(h, id);
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int done = 0;
    gp_host_complete_promise(&done, h, &id, u8("x"), 1);
  });
  const auto t0 = Clock::now();
  CHECK(gp_promise_block(p, 10000) == GP_OK);
  CHECK(ms_since(t0) < 5000);
  t.join();
}

TEST_CASE("a handle outlives gp_host_close", "[promise_handle]") {
  Host h;
  gp_promise_id_t id{};
  {
    Worker w(h, "alice");
    id = w.create();
  }
  Handle p(h, id);
  h.close();
  CHECK(p.ready() == 0);
}

TEST_CASE("poll_many reports each handle's state and the completed payloads", "[promise_handle]") {
  Host h;
  Worker w(h, "alice");
  const auto a = w.create();
  const auto b = w.create();
  const auto c = w.create();
  int done = 0;
  REQUIRE(gp_host_complete_promise(&done, h, &b, u8("bee"), 3) == GP_OK);
  REQUIRE(gp_host_delete_promise(h, &c) == GP_OK);
  Handle pa(h, a), pb(h, b), pc(h, c);
  gp_promise* handles[3] = {pa, pb, pc};
  int32_t states[3] = {};
  gp_bytes_t payloads[3] = {};
  REQUIRE(gp_promise_poll_many(states, payloads, handles, 3) == GP_OK);
  CHECK(states[0] == GP_PROMISE_PENDING);
  CHECK(states[1] == GP_PROMISE_COMPLETED);
  CHECK(states[2] == GP_PROMISE_GONE);
  CHECK(payloads[0].data == nullptr);
  CHECK(std::string(reinterpret_cast<const char*>(payloads[1].data), payloads[1].len) == "bee");
  CHECK(payloads[2].data == nullptr);
  for (auto& pl : payloads) gp_bytes_free(&pl);

  REQUIRE(gp_promise_poll_many(states, nullptr, handles, 3) == GP_OK);
  CHECK(states[1] == GP_PROMISE_COMPLETED);
  CHECK(gp_promise_poll_many(nullptr, nullptr, nullptr, 0) == GP_OK);
  gp_promise* with_null[2] = {pa, nullptr};
  CHECK(gp_promise_poll_many(states, nullptr, with_null, 2) == GP_EINVAL);
  CHECK(states[0] == GP_PROMISE_PENDING);
}

TEST_CASE("promise handle functions reject NULL and close accepts it", "[promise_handle]") {
  Host h;
  Worker w(h, "alice");
  const auto id = w.create();
  gp_promise* p = nullptr;
  CHECK(gp_host_get_promise(nullptr, h, &id) == GP_EINVAL);
  CHECK(gp_host_get_promise(&p, nullptr, &id) == GP_EINVAL);
  CHECK(gp_host_get_promise(&p, h, nullptr) == GP_EINVAL);
  int r = 0;
  CHECK(gp_promise_ready(&r, nullptr) == GP_EINVAL);
  CHECK(gp_promise_block(nullptr, 0) == GP_EINVAL);
  gp_promise_close(nullptr);
  gp_promise_close(&p);
  CHECK(p == nullptr);
}
