// A component runner's records (gp_worker_replay_call / gp_worker_record_call): invocations of
// exports and host calls whose answers vary are recorded in the worker's oplog, and replayed in
// order by function name (and, for exports, by their bytes), as Golem's executor replays its
// ImportedFunctionInvoked / ExportedFunctionInvoked / ExportedFunctionCompleted entries.
#include "support.hpp"

#include <catch2/matchers/catch_matchers_string.hpp>

#include <string>

using namespace gpt;
using Catch::Matchers::ContainsSubstring;

namespace {

struct Replayed {
  int rc = GP_OK;
  int replayed = -1;
  std::uint64_t idx = 0;
  std::string data;
};

Replayed replay(gp_worker* w, int32_t kind, const char* function, std::string_view data) {
  Replayed r;
  Bytes out;
  r.rc = gp_worker_replay_call(out.out(), &r.replayed, &r.idx, w, kind, function, u8(data), data.size());
  r.data = out.str();
  return r;
}

std::uint64_t record(gp_worker* w, int32_t kind, const char* function, std::string_view data) {
  std::uint64_t idx = 0;
  REQUIRE(gp_worker_record_call(&idx, w, kind, function, u8(data), data.size()) == GP_OK);
  return idx;
}

// One invocation as a runner records it: the export called, a clock reading, the promise it
// created, the result.
void record_invocation(gp_worker* w, Worker& worker) {
  REQUIRE(replay(w, GP_OPLOG_EXPORTED_FUNCTION_INVOKED, "golem:it/api.{run}", "[\"order-7\"]").replayed == 0);
  record(w, GP_OPLOG_EXPORTED_FUNCTION_INVOKED, "golem:it/api.{run}", "[\"order-7\"]");
  REQUIRE(replay(w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, "wall_clock::now", "").replayed == 0);
  record(w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, "wall_clock::now", std::string("\x01\x02\x00\x03", 4));
  worker.create();
  record(w, GP_OPLOG_EXPORTED_FUNCTION_COMPLETED, "golem:it/api.{run}", "{\"ok\":1}");
}

}  // namespace

TEST_CASE("recorded calls are replayed in order with their recorded bytes, then the worker is live",
          "[replay][recorded]") {
  TempDir dir;
  const std::string path = dir.file("recorded.db");
  {
    Host h(path);
    Worker w(h, "runner");
    record_invocation(w, w);
    CHECK(oplog_length(h, w.id) == 5);
  }
  Host h(path);
  Worker w(h, "runner");
  auto r = replay(w, GP_OPLOG_EXPORTED_FUNCTION_INVOKED, "golem:it/api.{run}", "[\"order-7\"]");
  REQUIRE(r.rc == GP_OK);
  CHECK(r.replayed == 1);
  CHECK(r.idx == 2);
  CHECK(r.data == "[\"order-7\"]");
  // An imported function's answer comes from the oplog, whatever the caller passes.
  r = replay(w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, "wall_clock::now", "ignored");
  REQUIRE(r.rc == GP_OK);
  CHECK(r.replayed == 1);
  CHECK(r.data == std::string("\x01\x02\x00\x03", 4));
  w.create();  // the recorded create-promise, answered from the oplog
  r = replay(w, GP_OPLOG_EXPORTED_FUNCTION_COMPLETED, "golem:it/api.{run}", "{\"ok\":1}");
  REQUIRE(r.rc == GP_OK);
  CHECK(r.replayed == 1);
  CHECK(r.idx == 5);
  CHECK(oplog_length(h, w.id) == 5);  // replay writes nothing

  // Live again: nothing recorded to answer it, so the caller runs it and records it.
  r = replay(w, GP_OPLOG_EXPORTED_FUNCTION_INVOKED, "golem:it/api.{run}", "[\"order-8\"]");
  REQUIRE(r.rc == GP_OK);
  CHECK(r.replayed == 0);
  CHECK(r.idx == 0);
  CHECK(r.data.empty());
  CHECK(record(w, GP_OPLOG_EXPORTED_FUNCTION_INVOKED, "golem:it/api.{run}", "[\"order-8\"]") == 6);

  // The oplog shows the records with their function and bytes.
  gp_oplog_entry_t e{};
  REQUIRE(gp_host_oplog_read(&e, h, &w.id, 3) == GP_OK);
  CHECK(e.kind == GP_OPLOG_IMPORTED_FUNCTION_INVOKED);
  CHECK(std::string(gp_oplog_kind_name(e.kind)) == "imported-function-invoked");
  CHECK(e.has_payload == 1);
  CHECK(e.payload_len == 4);
  CHECK(e.payload_hash == fnv1a64(std::string("\x01\x02\x00\x03", 4)));
  Bytes function, data;
  REQUIRE(gp_host_oplog_read_call(function.out(), data.out(), h, &w.id, 6) == GP_OK);
  CHECK(function.str() == "golem:it/api.{run}");
  CHECK(data.str() == "[\"order-8\"]");
  CHECK(std::string(gp_oplog_kind_name(GP_OPLOG_EXPORTED_FUNCTION_COMPLETED)) == "exported-function-completed");
  // Not a recorded call: GP_EINVAL, outputs cleared.
  CHECK(gp_host_oplog_read_call(function.out(), data.out(), h, &w.id, 4) == GP_EINVAL);
  CHECK_THAT(gp_last_error_message(), ContainsSubstring("create-promise"));
}

TEST_CASE("a recorded call that differs on replay is GP_ENONDETERMINISM naming both calls", "[replay][recorded]") {
  Host h;
  Worker w(h, "diverging-runner");
  record_invocation(w, w);
  const auto length = oplog_length(h, w.id);
  REQUIRE(gp_worker_restart(w) == GP_OK);

  SECTION("another export") {
    auto r = replay(w, GP_OPLOG_EXPORTED_FUNCTION_INVOKED, "golem:it/api.{other}", "[\"order-7\"]");
    CHECK(r.rc == GP_ENONDETERMINISM);
    const std::string msg = gp_last_error_message();
    CHECK_THAT(msg, ContainsSubstring("at oplog index 2"));
    CHECK_THAT(msg, ContainsSubstring("recorded exported-function-invoked(golem:it/api.{run}"));
    CHECK_THAT(msg, ContainsSubstring("attempted exported-function-invoked(golem:it/api.{other}"));
  }
  SECTION("the same export with other arguments") {
    auto r = replay(w, GP_OPLOG_EXPORTED_FUNCTION_INVOKED, "golem:it/api.{run}", "[\"order-9\"]");
    CHECK(r.rc == GP_ENONDETERMINISM);
    CHECK_THAT(gp_last_error_message(), ContainsSubstring("fnv1a64"));  // same length: named by hash
  }
  SECTION("another host call where a clock was read") {
    REQUIRE(replay(w, GP_OPLOG_EXPORTED_FUNCTION_INVOKED, "golem:it/api.{run}", "[\"order-7\"]").replayed == 1);
    auto r = replay(w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, "golem random::get_random_bytes", "");
    CHECK(r.rc == GP_ENONDETERMINISM);
    const std::string msg = gp_last_error_message();
    CHECK_THAT(msg, ContainsSubstring("recorded imported-function-invoked(wall_clock::now"));
    CHECK_THAT(msg, ContainsSubstring("attempted imported-function-invoked(golem random::get_random_bytes"));
  }
  SECTION("a promise call where a record was made") {
    REQUIRE(replay(w, GP_OPLOG_EXPORTED_FUNCTION_INVOKED, "golem:it/api.{run}", "[\"order-7\"]").replayed == 1);
    gp_promise_id_t p{};
    CHECK(gp_worker_create_promise(&p, w) == GP_ENONDETERMINISM);
    CHECK_THAT(gp_last_error_message(), ContainsSubstring("recorded imported-function-invoked(wall_clock::now"));
  }
  SECTION("a different result") {
    REQUIRE(replay(w, GP_OPLOG_EXPORTED_FUNCTION_INVOKED, "golem:it/api.{run}", "[\"order-7\"]").replayed == 1);
    REQUIRE(replay(w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, "wall_clock::now", "").replayed == 1);
    w.create();
    auto r = replay(w, GP_OPLOG_EXPORTED_FUNCTION_COMPLETED, "golem:it/api.{run}", "{\"ok\":2}");
    CHECK(r.rc == GP_ENONDETERMINISM);
  }
  CHECK(oplog_length(h, w.id) == length);  // nothing written
}

TEST_CASE("recording checks its arguments and is refused while replaying", "[replay][recorded][errors]") {
  Host h;
  Worker w(h, "careful-runner");
  std::uint64_t idx = 7;
  CHECK(gp_worker_record_call(&idx, w, GP_OPLOG_CREATE_PROMISE, "f", nullptr, 0) == GP_EINVAL);
  CHECK(idx == 0);
  CHECK(gp_worker_record_call(&idx, w, 42, "f", nullptr, 0) == GP_EINVAL);
  CHECK(gp_worker_record_call(&idx, w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, "", nullptr, 0) == GP_EINVAL);
  CHECK(gp_worker_record_call(&idx, w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, nullptr, nullptr, 0) == GP_EINVAL);
  CHECK(gp_worker_record_call(&idx, w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, "f", nullptr, 3) == GP_EINVAL);
  CHECK(gp_worker_record_call(nullptr, w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, "f", nullptr, 0) == GP_EINVAL);
  CHECK(gp_worker_record_call(&idx, nullptr, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, "f", nullptr, 0) == GP_EINVAL);
  const std::string long_name(5000, 'n');
  CHECK(gp_worker_record_call(&idx, w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, long_name.c_str(), nullptr, 0) == GP_EINVAL);
  int replayed = -1;
  Bytes out;
  CHECK(gp_worker_replay_call(out.out(), &replayed, &idx, w, GP_OPLOG_AWAIT_PROMISE, "f", nullptr, 0) == GP_EINVAL);
  CHECK(gp_worker_replay_call(nullptr, &replayed, &idx, w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, "f", nullptr, 0) == GP_EINVAL);
  CHECK(oplog_length(h, w.id) == 1);  // only the creation

  // An empty record is fine; a non-ASCII name is kept as it is.
  CHECK(record(w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, "golem_environment::get_environment", "") == 2);
  CHECK(record(w, GP_OPLOG_EXPORTED_FUNCTION_INVOKED, "api.{grüße}", "[]") == 3);
  REQUIRE(gp_worker_restart(w) == GP_OK);
  CHECK(gp_worker_record_call(&idx, w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, "f", nullptr, 0) == GP_EINVAL);
  CHECK_THAT(gp_last_error_message(), ContainsSubstring("replaying"));
  auto r = replay(w, GP_OPLOG_IMPORTED_FUNCTION_INVOKED, "golem_environment::get_environment", "");
  CHECK(r.replayed == 1);
  CHECK(r.data.empty());
  r = replay(w, GP_OPLOG_EXPORTED_FUNCTION_INVOKED, "api.{grüße}", "[]");
  CHECK(r.replayed == 1);
  CHECK(oplog_length(h, w.id) == 3);
}
