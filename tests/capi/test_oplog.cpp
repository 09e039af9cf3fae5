// The worker oplog as seen through gp_host_oplog_*: one entry per worker-level call, in order,
// recording inputs and results; host-level calls write nothing (DESIGN §3).
#include "support.hpp"

#include <chrono>
#include <cstring>
#include <string>

using namespace gpt;

namespace {

std::int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

void check_promise(const gp_oplog_entry_t& e, const gp_promise_id_t& p) {
  CHECK(same_id(e.promise_id, p));
}

void check_payload(const gp_oplog_entry_t& e, std::string_view payload) {
  CHECK(e.has_payload == 1);
  CHECK(e.payload_len == payload.size());
  CHECK(e.payload_hash == fnv1a64(payload));
}

}  // namespace

TEST_CASE("fnv1a64 reference values", "[oplog]") {
  // Guards the test's own hash against the published FNV-1a 64 vectors.
  CHECK(fnv1a64("") == 0xcbf29ce484222325ULL);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(fnv1a64("foobar") == 0x85944171f73967e8ULL);
}

TEST_CASE("a new worker's oplog holds its creation entry at index 1", "[oplog]") {
  Host h;
  auto before = now_us();
  Worker w(h, "fresh");
  auto after = now_us();
  CHECK(oplog_length(h, w.id) == 1);
  gp_oplog_entry_t e = oplog_entry(h, w.id, 1);
  CHECK(e.oplog_idx == 1);
  CHECK(e.kind == GP_OPLOG_CREATE);
  CHECK(e.status == GP_OK);
  CHECK(e.has_payload == 0);
  CHECK(e.timestamp_us >= before - 1000000);
  CHECK(e.timestamp_us <= after + 1000000);
}

TEST_CASE("reopening an existing worker does not append to its oplog", "[oplog]") {
  Host h;
  { Worker w(h, "again"); }
  { Worker w(h, "again"); }
  Worker w(h, "again");
  CHECK(oplog_length(h, w.id) == 1);
}

TEST_CASE("oplog records every worker call in order with its result", "[oplog]") {
  Host h;
  Worker w(h, "recorder");
  gp_promise_id_t p{};

  // 2: create-promise; the promise's id is this entry's index
  REQUIRE(gp_worker_create_promise(&p, w) == GP_OK);
  CHECK(p.oplog_idx == 2);
  // 3: poll while pending
  {
    Bytes b;
    int ready = -1;
    REQUIRE(gp_worker_poll_promise(b.out(), &ready, w, &p) == GP_OK);
    REQUIRE(ready == 0);
  }
  // 4: complete, winning
  int done = -1;
  REQUIRE(gp_worker_complete_promise(&done, w, &p, u8("hello"), 5) == GP_OK);
  REQUIRE(done == 1);
  // 5: complete again, losing, with a different payload
  REQUIRE(gp_worker_complete_promise(&done, w, &p, u8("other!"), 6) == GP_OK);
  REQUIRE(done == 0);
  // 6: poll while completed
  {
    Bytes b;
    int ready = -1;
    REQUIRE(gp_worker_poll_promise(b.out(), &ready, w, &p) == GP_OK);
    REQUIRE(ready == 1);
  }
  // 7: await, finished
  {
    Bytes b;
    REQUIRE(gp_worker_await_promise(b.out(), w, &p, 1000) == GP_OK);
  }
  // 8: get-oplog-index returns its own entry's index
  std::uint64_t idx = 0;
  REQUIRE(gp_worker_get_oplog_index(&idx, w) == GP_OK);
  CHECK(idx == 8);
  // 9: delete
  REQUIRE(gp_worker_delete_promise(w, &p) == GP_OK);
  // 10: poll of the deleted promise: an error, recorded too
  {
    Bytes b;
    int ready = -1;
    REQUIRE(gp_worker_poll_promise(b.out(), &ready, w, &p) == GP_ENOTFOUND);
  }
  // 11: complete of the deleted promise: an error
  REQUIRE(gp_worker_complete_promise(&done, w, &p, u8("x"), 1) == GP_ENOTFOUND);
  // 12: await of the deleted promise: finished with an error
  {
    Bytes b;
    REQUIRE(gp_worker_await_promise(b.out(), w, &p, 0) == GP_ENOTFOUND);
  }
  // 13: delete of the deleted promise: a successful no-op
  REQUIRE(gp_worker_delete_promise(w, &p) == GP_OK);

  REQUIRE(oplog_length(h, w.id) == 13);

  const std::int64_t now = now_us();
  std::int64_t last_ts = 0;
  for (std::uint64_t i = 1; i <= 13; ++i) {
    gp_oplog_entry_t e = oplog_entry(h, w.id, i);
    CAPTURE(i);
    CHECK(e.oplog_idx == i);
    CHECK(e.timestamp_us >= last_ts);
    CHECK(e.timestamp_us <= now + 1000000);
    last_ts = e.timestamp_us;
  }

  auto e = oplog_entry(h, w.id, 1);
  CHECK(e.kind == GP_OPLOG_CREATE);

  e = oplog_entry(h, w.id, 2);
  CHECK(e.kind == GP_OPLOG_CREATE_PROMISE);
  CHECK(e.status == GP_OK);
  CHECK(e.oplog_idx == p.oplog_idx);
  check_promise(e, p);
  CHECK(e.has_payload == 0);

  e = oplog_entry(h, w.id, 3);
  CHECK(e.kind == GP_OPLOG_POLL_PROMISE);
  CHECK(e.status == GP_OK);
  CHECK(e.result_flag == 0);
  CHECK(e.has_payload == 0);
  check_promise(e, p);

  e = oplog_entry(h, w.id, 4);
  CHECK(e.kind == GP_OPLOG_COMPLETE_PROMISE);
  CHECK(e.status == GP_OK);
  CHECK(e.result_flag == 1);
  check_payload(e, "hello");
  check_promise(e, p);

  e = oplog_entry(h, w.id, 5);
  CHECK(e.kind == GP_OPLOG_COMPLETE_PROMISE);
  CHECK(e.status == GP_OK);
  CHECK(e.result_flag == 0);
  check_payload(e, "other!");  // the input it was given, though it did not win
  check_promise(e, p);

  e = oplog_entry(h, w.id, 6);
  CHECK(e.kind == GP_OPLOG_POLL_PROMISE);
  CHECK(e.status == GP_OK);
  CHECK(e.result_flag == 1);
  check_payload(e, "hello");

  e = oplog_entry(h, w.id, 7);
  CHECK(e.kind == GP_OPLOG_AWAIT_PROMISE);
  CHECK(e.status == GP_OK);
  check_payload(e, "hello");
  check_promise(e, p);

  e = oplog_entry(h, w.id, 8);
  CHECK(e.kind == GP_OPLOG_GET_OPLOG_INDEX);
  CHECK(e.status == GP_OK);
  CHECK(e.has_payload == 0);
  CHECK(e.promise_id.oplog_idx == 0);  // no promise: zero
  CHECK(e.promise_id.worker_id.worker_name[0] == '\0');

  e = oplog_entry(h, w.id, 9);
  CHECK(e.kind == GP_OPLOG_DELETE_PROMISE);
  CHECK(e.status == GP_OK);
  CHECK(e.has_payload == 0);
  check_promise(e, p);

  e = oplog_entry(h, w.id, 10);
  CHECK(e.kind == GP_OPLOG_POLL_PROMISE);
  CHECK(e.status == GP_ENOTFOUND);
  CHECK(e.has_payload == 0);
  check_promise(e, p);

  e = oplog_entry(h, w.id, 11);
  CHECK(e.kind == GP_OPLOG_COMPLETE_PROMISE);
  CHECK(e.status == GP_ENOTFOUND);
  CHECK(e.result_flag == 0);
  check_promise(e, p);

  e = oplog_entry(h, w.id, 12);
  CHECK(e.kind == GP_OPLOG_AWAIT_PROMISE);
  CHECK(e.status == GP_ENOTFOUND);
  CHECK(e.has_payload == 0);
  check_promise(e, p);

  e = oplog_entry(h, w.id, 13);
  CHECK(e.kind == GP_OPLOG_DELETE_PROMISE);
  CHECK(e.status == GP_OK);
  check_promise(e, p);
}

TEST_CASE("an empty payload is recorded with length 0 and the empty hash", "[oplog]") {
  Host h;
  Worker w(h, "empty");
  gp_promise_id_t p = w.create();
  int done = -1;
  REQUIRE(gp_worker_complete_promise(&done, w, &p, nullptr, 0) == GP_OK);
  auto e = oplog_entry(h, w.id, oplog_length(h, w.id));
  CHECK(e.kind == GP_OPLOG_COMPLETE_PROMISE);
  check_payload(e, "");
}

TEST_CASE("payload hashes cover NUL bytes", "[oplog]") {
  Host h;
  Worker w(h, "nul");
  gp_promise_id_t p = w.create();
  const std::string payload("\0a\0b\0", 5);
  int done = -1;
  REQUIRE(gp_worker_complete_promise(&done, w, &p, u8(payload), payload.size()) == GP_OK);
  auto e = oplog_entry(h, w.id, oplog_length(h, w.id));
  check_payload(e, payload);
  CHECK(e.payload_hash != fnv1a64(""));
}

TEST_CASE("get_oplog_index returns the index of the entry it appends", "[oplog]") {
  Host h;
  Worker w(h, "indexer");
  std::uint64_t idx = 0;
  REQUIRE(gp_worker_get_oplog_index(&idx, w) == GP_OK);
  CHECK(idx == 2);
  REQUIRE(gp_worker_get_oplog_index(&idx, w) == GP_OK);
  CHECK(idx == 3);
  gp_promise_id_t p = w.create();
  CHECK(p.oplog_idx == 4);
  REQUIRE(gp_worker_get_oplog_index(&idx, w) == GP_OK);
  CHECK(idx == 5);
  CHECK(oplog_length(h, w.id) == 5);
  CHECK(oplog_entry(h, w.id, 5).kind == GP_OPLOG_GET_OPLOG_INDEX);
}

TEST_CASE("host-level calls add no oplog entries", "[oplog]") {
  Host h;
  Worker w(h, "quiet");
  gp_promise_id_t p = w.create();
  gp_promise_id_t q = w.create();
  const auto len = oplog_length(h, w.id);
  REQUIRE(len == 3);

  int done = -1;
  Bytes b;
  int ready = -1;
  REQUIRE(gp_host_poll_promise(b.out(), &ready, h, &p) == GP_OK);
  REQUIRE(gp_host_await_promise(b.out(), h, &p, 0) == GP_ETIMEOUT);
  REQUIRE(gp_host_complete_promise(&done, h, &p, u8("x"), 1) == GP_OK);
  REQUIRE(gp_host_complete_promise(&done, h, &p, u8("y"), 1) == GP_OK);
  REQUIRE(gp_host_poll_promise(b.out(), &ready, h, &p) == GP_OK);
  REQUIRE(gp_host_await_promise(b.out(), h, &p, 0) == GP_OK);
  REQUIRE(gp_host_delete_promise(h, &p) == GP_OK);
  REQUIRE(gp_host_delete_promise(h, &p) == GP_OK);
  REQUIRE(gp_host_complete_promise(&done, h, &p, u8("x"), 1) == GP_ENOTFOUND);
  REQUIRE(gp_host_delete_promise(h, &q) == GP_OK);
  CHECK(oplog_length(h, w.id) == len);
}

TEST_CASE("an await that times out is not recorded", "[oplog]") {
  Host h;
  Worker w(h, "patient");
  gp_promise_id_t p = w.create();
  const auto len = oplog_length(h, w.id);
  Bytes b;
  REQUIRE(gp_worker_await_promise(b.out(), w, &p, 0) == GP_ETIMEOUT);
  REQUIRE(gp_worker_await_promise(b.out(), w, &p, 20) == GP_ETIMEOUT);
  CHECK(oplog_length(h, w.id) == len);
}

TEST_CASE("a worker's calls go to its own oplog only", "[oplog]") {
  Host h;
  Worker a(h, "a");
  Worker b(h, "b");
  gp_promise_id_t p = a.create();
  int done = -1;
  REQUIRE(gp_worker_complete_promise(&done, b, &p, u8("from b"), 6) == GP_OK);
  CHECK(oplog_length(h, a.id) == 2);
  CHECK(oplog_length(h, b.id) == 2);
  auto e = oplog_entry(h, b.id, 2);
  CHECK(e.kind == GP_OPLOG_COMPLETE_PROMISE);
  check_promise(e, p);  // names a's promise
  check_payload(e, "from b");
}

TEST_CASE("reading outside the oplog gives GP_ENOENTRY", "[oplog]") {
  Host h;
  Worker w(h, "short");
  w.create();
  gp_oplog_entry_t e{};
  CHECK(gp_host_oplog_read(&e, h, &w.id, 0) == GP_ENOENTRY);
  CHECK(gp_host_oplog_read(&e, h, &w.id, 3) == GP_ENOENTRY);
  CHECK(gp_host_oplog_read(&e, h, &w.id, UINT64_MAX) == GP_ENOENTRY);
}

TEST_CASE("oplog of an unknown worker gives GP_EWORKERNOTFOUND", "[oplog]") {
  Host h;
  Worker w(h, "known");
  gp_worker_id_t ghost = worker_id("ghost");
  std::uint64_t n = 77;
  CHECK(gp_host_oplog_length(&n, h, &ghost) == GP_EWORKERNOTFOUND);
  CHECK(std::strlen(gp_last_error_message()) > 0);
  gp_oplog_entry_t e{};
  int rc = gp_host_oplog_read(&e, h, &ghost, 1);
  CHECK((rc == GP_EWORKERNOTFOUND || rc == GP_ENOTFOUND));
}
