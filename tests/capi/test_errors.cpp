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
  for (int code : {1, -13, -50, -98, -100, 12345, INT32_MIN, INT32_MAX}) {
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

TEST_CASE("NULL pointer arguments give GP_EINVAL with a message", "[errors]") {
  Host host;
  Worker worker(host, "nulls");
  gp_promise_id_t pid = worker.create();
  gp_worker_id_t wid = worker.id;
  gp_uuid_t uuid = component_uuid();
  char buf[GP_PROMISE_ID_TEXT_SIZE];
  const std::string pid_text = format(pid);
  const std::string wid_text = std::string(kComponent) + "/nulls";
  const std::uint8_t data[3] = {1, 2, 3};
  int flag = 0;
  gp_bytes_t bytes{nullptr, 0};
  std::uint64_t n = 0;
  gp_oplog_entry_t entry{};
  gp_worker_id_t wid_out{};
  gp_promise_id_t pid_out{};
  gp_uuid_t uuid_out{};
  gp_host* host_out = nullptr;
  gp_worker* worker_out = nullptr;
  gp_host* h = host.h;
  gp_worker* w = worker.w;

  const std::vector<std::pair<const char*, std::function<int()>>> calls = {
      {"gp_uuid_parse out", [&] { return gp_uuid_parse(nullptr, kComponent); }},
      {"gp_uuid_parse text", [&] { return gp_uuid_parse(&uuid_out, nullptr); }},
      {"gp_uuid_format out", [&] { return gp_uuid_format(nullptr, sizeof buf, &uuid); }},
      {"gp_uuid_format uuid", [&] { return gp_uuid_format(buf, sizeof buf, nullptr); }},
      {"gp_worker_name_validate name", [&] { return gp_worker_name_validate(nullptr); }},
      {"gp_worker_id_make out", [&] { return gp_worker_id_make(nullptr, &uuid, "w"); }},
      {"gp_worker_id_make component_id", [&] { return gp_worker_id_make(&wid_out, nullptr, "w"); }},
      {"gp_worker_id_make worker_name", [&] { return gp_worker_id_make(&wid_out, &uuid, nullptr); }},
      {"gp_worker_id_parse out", [&] { return gp_worker_id_parse(nullptr, wid_text.c_str()); }},
      {"gp_worker_id_parse text", [&] { return gp_worker_id_parse(&wid_out, nullptr); }},
      {"gp_worker_id_format out", [&] { return gp_worker_id_format(nullptr, sizeof buf, &wid); }},
      {"gp_worker_id_format worker_id", [&] { return gp_worker_id_format(buf, sizeof buf, nullptr); }},
      {"gp_promise_id_parse out", [&] { return gp_promise_id_parse(nullptr, pid_text.c_str()); }},
      {"gp_promise_id_parse text", [&] { return gp_promise_id_parse(&pid_out, nullptr); }},
      {"gp_promise_id_format out", [&] { return gp_promise_id_format(nullptr, sizeof buf, &pid); }},
      {"gp_promise_id_format promise_id", [&] { return gp_promise_id_format(buf, sizeof buf, nullptr); }},
      {"gp_host_open out", [&] { return gp_host_open(nullptr, ":memory:", nullptr); }},
      {"gp_host_open path", [&] { return gp_host_open(&host_out, nullptr, nullptr); }},
      {"gp_host_complete_promise out", [&] { return gp_host_complete_promise(nullptr, h, &pid, data, 3); }},
      {"gp_host_complete_promise host", [&] { return gp_host_complete_promise(&flag, nullptr, &pid, data, 3); }},
      {"gp_host_complete_promise promise_id", [&] { return gp_host_complete_promise(&flag, h, nullptr, data, 3); }},
      {"gp_host_complete_promise data with len", [&] { return gp_host_complete_promise(&flag, h, &pid, nullptr, 3); }},
      {"gp_host_poll_promise out", [&] { return gp_host_poll_promise(nullptr, &flag, h, &pid); }},
      {"gp_host_poll_promise out_ready", [&] { return gp_host_poll_promise(&bytes, nullptr, h, &pid); }},
      {"gp_host_poll_promise host", [&] { return gp_host_poll_promise(&bytes, &flag, nullptr, &pid); }},
      {"gp_host_poll_promise promise_id", [&] { return gp_host_poll_promise(&bytes, &flag, h, nullptr); }},
      {"gp_host_await_promise out", [&] { return gp_host_await_promise(nullptr, h, &pid, 0); }},
      {"gp_host_await_promise host", [&] { return gp_host_await_promise(&bytes, nullptr, &pid, 0); }},
      {"gp_host_await_promise promise_id", [&] { return gp_host_await_promise(&bytes, h, nullptr, 0); }},
      {"gp_host_delete_promise host", [&] { return gp_host_delete_promise(nullptr, &pid); }},
      {"gp_host_delete_promise promise_id", [&] { return gp_host_delete_promise(h, nullptr); }},
      {"gp_worker_open out", [&] { return gp_worker_open(nullptr, h, &wid); }},
      {"gp_worker_open host", [&] { return gp_worker_open(&worker_out, nullptr, &wid); }},
      {"gp_worker_open worker_id", [&] { return gp_worker_open(&worker_out, h, nullptr); }},
      {"gp_worker_get_id out", [&] { return gp_worker_get_id(nullptr, w); }},
      {"gp_worker_get_id worker", [&] { return gp_worker_get_id(&wid_out, nullptr); }},
      {"gp_worker_create_promise out", [&] { return gp_worker_create_promise(nullptr, w); }},
      {"gp_worker_create_promise worker", [&] { return gp_worker_create_promise(&pid_out, nullptr); }},
      {"gp_worker_complete_promise out", [&] { return gp_worker_complete_promise(nullptr, w, &pid, data, 3); }},
      {"gp_worker_complete_promise worker", [&] { return gp_worker_complete_promise(&flag, nullptr, &pid, data, 3); }},
      {"gp_worker_complete_promise promise_id", [&] { return gp_worker_complete_promise(&flag, w, nullptr, data, 3); }},
      {"gp_worker_complete_promise data with len", [&] { return gp_worker_complete_promise(&flag, w, &pid, nullptr, 3); }},
      {"gp_worker_poll_promise out", [&] { return gp_worker_poll_promise(nullptr, &flag, w, &pid); }},
      {"gp_worker_poll_promise out_ready", [&] { return gp_worker_poll_promise(&bytes, nullptr, w, &pid); }},
      {"gp_worker_poll_promise worker", [&] { return gp_worker_poll_promise(&bytes, &flag, nullptr, &pid); }},
      {"gp_worker_poll_promise promise_id", [&] { return gp_worker_poll_promise(&bytes, &flag, w, nullptr); }},
      {"gp_worker_await_promise out", [&] { return gp_worker_await_promise(nullptr, w, &pid, 0); }},
      {"gp_worker_await_promise worker", [&] { return gp_worker_await_promise(&bytes, nullptr, &pid, 0); }},
      {"gp_worker_await_promise promise_id", [&] { return gp_worker_await_promise(&bytes, w, nullptr, 0); }},
      {"gp_worker_delete_promise worker", [&] { return gp_worker_delete_promise(nullptr, &pid); }},
      {"gp_worker_delete_promise promise_id", [&] { return gp_worker_delete_promise(w, nullptr); }},
      {"gp_worker_get_oplog_index out", [&] { return gp_worker_get_oplog_index(nullptr, w); }},
      {"gp_worker_get_oplog_index worker", [&] { return gp_worker_get_oplog_index(&n, nullptr); }},
      {"gp_host_oplog_length out", [&] { return gp_host_oplog_length(nullptr, h, &wid); }},
      {"gp_host_oplog_length host", [&] { return gp_host_oplog_length(&n, nullptr, &wid); }},
      {"gp_host_oplog_length worker_id", [&] { return gp_host_oplog_length(&n, h, nullptr); }},
      {"gp_host_oplog_read out", [&] { return gp_host_oplog_read(nullptr, h, &wid, 1); }},
      {"gp_host_oplog_read host", [&] { return gp_host_oplog_read(&entry, nullptr, &wid, 1); }},
      {"gp_host_oplog_read worker_id", [&] { return gp_host_oplog_read(&entry, h, nullptr, 1); }},
  };

  for (auto& [name, call] : calls) {
    // Clear the last error with a known, different failure first, so a stale message from
    // an earlier call cannot make this one look right.
    gp_uuid_t scratch{};
    REQUIRE(gp_promise_id_parse(&pid_out, "x") == GP_EINVAL);
    REQUIRE(gp_uuid_parse(&scratch, kComponent) == GP_OK);
    const std::string before = gp_last_error_message();
    CAPTURE(name);
    int rc = call();
    CHECK(rc == GP_EINVAL);
    CHECK(gp_last_error_code() == GP_EINVAL);
    const char* msg = gp_last_error_message();
    REQUIRE(msg != nullptr);
    CHECK(std::strlen(msg) > 0);
    CHECK(std::string(msg) != before);
  }
  CHECK(host_out == nullptr);
  CHECK(worker_out == nullptr);
  gp_host_close(&host_out);
  gp_worker_close(&worker_out);
}

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
  for (int k = GP_OPLOG_CREATE; k <= GP_OPLOG_GET_OPLOG_INDEX; ++k) {
    CAPTURE(k);
    const char* name = gp_oplog_kind_name(k);
    REQUIRE(name != nullptr);
    CHECK(std::string(name) != "unknown");
    names.insert(name);
  }
  CHECK(names.size() == 7);
  for (int k : {0, 8, -1, 1000}) {
    CAPTURE(k);
    REQUIRE(gp_oplog_kind_name(k) != nullptr);
    CHECK(std::string(gp_oplog_kind_name(k)) == "unknown");
  }
}
