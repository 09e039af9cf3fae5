// Status codes, error texts, version agreement, and NULL arguments for every entry point.
#include "support.hpp"

#include <catch2/matchers/catch_matchers_string.hpp>

#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace gpt;
using Catch::Matchers::ContainsSubstring;
using Catch::Matchers::StartsWith;

TEST_CASE("version macro equals the library's run-time version", "[errors]") {
  CHECK(GP_VERSION_NUMBER == gp_version_number());
  REQUIRE(gp_version() != nullptr);
  CHECK(std::string(gp_version()) == GP_VERSION_STRING);
  CHECK(GP_VERSION_NUMBER ==
        GP_VERSION_MAJOR * 10000 + GP_VERSION_MINOR * 100 + GP_VERSION_PATCH);
}

TEST_CASE("status codes keep their pinned values", "[errors]") {
  // Bindings map these numbers to exception types; changing one breaks them silently.
  STATIC_REQUIRE(GP_OK == 0);
  STATIC_REQUIRE(GP_EINVAL == -1);
  STATIC_REQUIRE(GP_ENOTFOUND == -2);
  STATIC_REQUIRE(GP_ETIMEOUT == -3);
  STATIC_REQUIRE(GP_ECORRUPT == -4);
  STATIC_REQUIRE(GP_EIO == -5);
  STATIC_REQUIRE(GP_ENOMEM == -6);
  STATIC_REQUIRE(GP_EBUSY == -7);
  STATIC_REQUIRE(GP_ENOTOWNER == -8);
  STATIC_REQUIRE(GP_ETOOBIG == -9);
  STATIC_REQUIRE(GP_ESCHEMA == -10);
  STATIC_REQUIRE(GP_ENONDETERMINISM == -11);
  STATIC_REQUIRE(GP_EWORKERNOTFOUND == -12);
  STATIC_REQUIRE(GP_ECONFLICT == -13);
  STATIC_REQUIRE(GP_ELISTEN == -14);
  STATIC_REQUIRE(GP_ENOENTRY == -15);
  STATIC_REQUIRE(GP_EINTERNAL == -99);
}

TEST_CASE("gp_errstr names every status code", "[errors]") {
  const std::vector<std::pair<int, const char*>> codes = {
      {GP_OK, "GP_OK"},
      {GP_EINVAL, "GP_EINVAL"},
      {GP_ENOTFOUND, "GP_ENOTFOUND"},
      {GP_ETIMEOUT, "GP_ETIMEOUT"},
      {GP_ECORRUPT, "GP_ECORRUPT"},
      {GP_EIO, "GP_EIO"},
      {GP_ENOMEM, "GP_ENOMEM"},
      {GP_EBUSY, "GP_EBUSY"},
      {GP_ENOTOWNER, "GP_ENOTOWNER"},
      {GP_ETOOBIG, "GP_ETOOBIG"},
      {GP_ESCHEMA, "GP_ESCHEMA"},
      {GP_ENONDETERMINISM, "GP_ENONDETERMINISM"},
      {GP_EWORKERNOTFOUND, "GP_EWORKERNOTFOUND"},
      {GP_ECONFLICT, "GP_ECONFLICT"},
      {GP_ELISTEN, "GP_ELISTEN"},
      {GP_ENOENTRY, "GP_ENOENTRY"},
      {GP_EINTERNAL, "GP_EINTERNAL"},
  };
  std::set<std::string> seen;
  for (auto& [code, name] : codes) {
    CAPTURE(code, name);
    const char* text = gp_errstr(code);
    REQUIRE(text != nullptr);
    // "GP_ENOTFOUND: promise not found" -- the name, then a description.
    CHECK_THAT(std::string(text), StartsWith(std::string(name) + ":"));
    CHECK(std::strlen(text) > std::strlen(name) + 2);
    seen.insert(text);
  }
  CHECK(seen.size() == codes.size());
}

TEST_CASE("gp_errstr of an unknown code says so", "[errors]") {
  for (int code : {1, -16, -50, -98, -100, 12345, INT32_MIN, INT32_MAX}) {
    CAPTURE(code);
    const char* text = gp_errstr(code);
    REQUIRE(text != nullptr);
    CHECK(std::string(text) == "unknown status code");
  }
}

TEST_CASE("last error is empty on a thread where nothing failed", "[errors]") {
  std::string msg = "unset";
  int code = 12345;
  std::thread t([&] {
    msg = gp_last_error_message();
    code = gp_last_error_code();
  });
  t.join();
  CHECK(msg.empty());
  CHECK(code == GP_OK);
}

TEST_CASE("last error is per thread", "[errors]") {
  gp_uuid_t u{};
  REQUIRE(gp_uuid_parse(&u, "garbage") == GP_EINVAL);
  const std::string mine = gp_last_error_message();
  REQUIRE_FALSE(mine.empty());
  std::string other_msg = "unset";
  int other_code = 1;
  std::thread t([&] {
    other_msg = gp_last_error_message();
    other_code = gp_last_error_code();
  });
  t.join();
  CHECK(other_msg.empty());
  CHECK(other_code == GP_OK);
  CHECK(gp_last_error_code() == GP_EINVAL);
  CHECK(std::string(gp_last_error_message()) == mine);
}

TEST_CASE("last error records the most recent failure", "[errors]") {
  Host h;
  Worker w(h, "w");
  gp_promise_id_t missing = w.create();
  missing.oplog_idx = 999;
  int done = -1;
  REQUIRE(gp_host_complete_promise(&done, h, &missing, u8("x"), 1) == GP_ENOTFOUND);
  CHECK(gp_last_error_code() == GP_ENOTFOUND);
  CHECK(std::strlen(gp_last_error_message()) > 0);
  gp_uuid_t u{};
  REQUIRE(gp_uuid_parse(&u, "") == GP_EINVAL);
  CHECK(gp_last_error_code() == GP_EINVAL);
}

TEST_CASE("not-found errors name the promise", "[errors]") {
  Host h;
  Worker w(h, "named-worker");
  gp_promise_id_t missing = w.create();
  missing.oplog_idx = 4242;
  gp_bytes_t b{nullptr, 0};
  int ready = -1;
  REQUIRE(gp_host_poll_promise(&b, &ready, h, &missing) == GP_ENOTFOUND);
  std::string msg = gp_last_error_message();
  CAPTURE(msg);
  CHECK_THAT(msg, ContainsSubstring("4242"));
  CHECK_THAT(msg, ContainsSubstring("named-worker"));
}

// NULL and malformed arguments of every entry point: test_arguments.cpp.

TEST_CASE("NULL data with zero length is an empty payload, not an error", "[errors]") {
  Host h;
  Worker w(h, "empty");
  gp_promise_id_t a = w.create();
  gp_promise_id_t b = w.create();
  int done = -1;
  CHECK(gp_host_complete_promise(&done, h, &a, nullptr, 0) == GP_OK);
  CHECK(done == 1);
  CHECK(gp_worker_complete_promise(&done, w, &b, nullptr, 0) == GP_OK);
  CHECK(done == 1);
}

TEST_CASE("free and close functions accept NULL", "[errors]") {
  gp_bytes_free(nullptr);
  gp_bytes_t empty{nullptr, 0};
  gp_bytes_free(&empty);
  CHECK(empty.data == nullptr);
  CHECK(empty.len == 0);
  gp_string_free(nullptr);
  gp_host_close(nullptr);
  gp_host* no_host = nullptr;
  gp_host_close(&no_host);
  CHECK(no_host == nullptr);
  gp_worker_close(nullptr);
  gp_worker* no_worker = nullptr;
  gp_worker_close(&no_worker);
  CHECK(no_worker == nullptr);
}

TEST_CASE("close functions null the caller's handle", "[errors]") {
  gp_host* h = nullptr;
  REQUIRE(gp_host_open(&h, ":memory:", nullptr) == GP_OK);
  gp_worker_id_t id = worker_id("closer");
  gp_worker* w = nullptr;
  REQUIRE(gp_worker_open(&w, h, &id) == GP_OK);
  gp_worker_close(&w);
  CHECK(w == nullptr);
  gp_host_close(&h);
  CHECK(h == nullptr);
}

TEST_CASE("gp_bytes_free releases a payload and resets the struct", "[errors]") {
  Host h;
  Worker w(h, "bytes");
  gp_promise_id_t p = w.create();
  int done = 0;
  REQUIRE(gp_host_complete_promise(&done, h, &p, u8("payload"), 7) == GP_OK);
  gp_bytes_t b{nullptr, 0};
  int ready = 0;
  REQUIRE(gp_host_poll_promise(&b, &ready, h, &p) == GP_OK);
  REQUIRE(ready == 1);
  REQUIRE(b.len == 7);
  REQUIRE(b.data != nullptr);
  gp_bytes_free(&b);
  CHECK(b.data == nullptr);
  CHECK(b.len == 0);
  gp_bytes_free(&b);  // twice is harmless
}

TEST_CASE("host options with a wrong version are rejected", "[errors]") {
  gp_host_options_t opts{};
  opts.version = 9999;
  gp_host* h = nullptr;
  int rc = gp_host_open(&h, ":memory:", &opts);
  CHECK(rc == GP_EINVAL);
  CHECK(h == nullptr);
  CHECK(std::strlen(gp_last_error_message()) > 0);
  gp_host_close(&h);
}

TEST_CASE("host options with only the version set take defaults", "[errors]") {
  gp_host_options_t opts{};
  opts.version = GP_HOST_OPTIONS_VERSION;
  gp_host* h = nullptr;
  REQUIRE(gp_host_open(&h, ":memory:", &opts) == GP_OK);
  CHECK(h != nullptr);
  gp_host_close(&h);
}

TEST_CASE("oplog kind names", "[errors]") {
  CHECK(std::string(gp_oplog_kind_name(GP_OPLOG_CREATE_PROMISE)) == "create-promise");
  std::set<std::string> names;
  for (int k = GP_OPLOG_CREATE; k <= GP_OPLOG_EXPORTED_FUNCTION_COMPLETED; ++k) {
    CAPTURE(k);
    const char* name = gp_oplog_kind_name(k);
    REQUIRE(name != nullptr);
    CHECK(std::string(name) != "unknown");
    names.insert(name);
  }
  CHECK(names.size() == 10);
  for (int k : {0, 11, -1, 1000}) {
    CAPTURE(k);
    REQUIRE(gp_oplog_kind_name(k) != nullptr);
    CHECK(std::string(gp_oplog_kind_name(k)) == "unknown");
  }
}
