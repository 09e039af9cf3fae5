// What a C embedder relies on beyond each call's result (docs/c-api.md, "Conventions"):
// options initializers, messages that name the one bad field, one text per id, out parameters
// left empty by a failure, and the last error's borrow rule.
#include <cstring>
#include <string>

#include "support.hpp"

using namespace gpt;

namespace {
bool all_zero(const void* p, std::size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) {
    if (b[i] != 0) return false;
  }
  return true;
}
std::string last_message() { return gp_last_error_message(); }
}  // namespace

TEST_CASE("options initializers set the version and the defaults", "[embedder][options]") {
  const gp_host_options_t by_macro = GP_HOST_OPTIONS_INIT;
  gp_host_options_t by_function;
  std::memset(&by_function, 0x5a, sizeof by_function);
  REQUIRE(gp_host_options_init(&by_function, GP_HOST_OPTIONS_VERSION) == GP_OK);
  CHECK(std::memcmp(&by_macro, &by_function, sizeof by_macro) == 0);
  CHECK(by_function.version == GP_HOST_OPTIONS_VERSION);
  CHECK(by_function.synchronous == 0);
  CHECK(by_function.busy_timeout_ms == 0);
  CHECK(by_function.fallback_poll_us == 0);

  const gp_server_options_t server_macro = GP_SERVER_OPTIONS_INIT;
  gp_server_options_t server_function;
  std::memset(&server_function, 0x5a, sizeof server_function);
  REQUIRE(gp_server_options_init(&server_function, GP_SERVER_OPTIONS_VERSION) == GP_OK);
  CHECK(server_function.version == GP_SERVER_OPTIONS_VERSION);
  CHECK(server_function.address == nullptr);
  CHECK(server_function.token == nullptr);
  CHECK(server_function.port == 0);
  CHECK(server_function.max_body_bytes == 0);
  CHECK(server_function.threads == 0);
  CHECK(server_function.request_timeout_ms == 0);
  CHECK(server_function.idle_timeout_ms == 0);
  CHECK(server_macro.version == GP_SERVER_OPTIONS_VERSION);
  CHECK(server_macro.address == nullptr);

  // Both open a host and start a server as the defaults would.
  gp_host* h = nullptr;
  REQUIRE(gp_host_open(&h, ":memory:", &by_function) == GP_OK);
  gp_server* s = nullptr;
  REQUIRE(gp_server_start(&s, h, &server_function) == GP_OK);
  gp_server_stop(&s);
  gp_host_close(&h);
}

TEST_CASE("a version-1 server options init writes only the version-1 fields", "[embedder][options]") {
  // A caller built against version 1 passes the smaller struct: what follows it is not its own.
  gp_server_options_t opts;
  std::memset(&opts, 0x5a, sizeof opts);
  REQUIRE(gp_server_options_init(&opts, 1) == GP_OK);
  CHECK(opts.version == 1);
  CHECK(opts.threads == 0);
  CHECK(opts.address == nullptr);
  std::int32_t untouched;
  std::memset(&untouched, 0x5a, sizeof untouched);
  CHECK(opts.request_timeout_ms == untouched);
  CHECK(opts.idle_timeout_ms == untouched);
}

TEST_CASE("options init refuses NULL and unknown versions and leaves the struct alone", "[embedder][options]") {
  gp_host_options_t h;
  std::memset(&h, 0x5a, sizeof h);
  const gp_host_options_t before = h;
  CHECK(gp_host_options_init(nullptr, GP_HOST_OPTIONS_VERSION) == GP_EINVAL);
  CHECK(gp_host_options_init(&h, 0) == GP_EINVAL);
  CHECK(gp_host_options_init(&h, GP_HOST_OPTIONS_VERSION + 1) == GP_EINVAL);
  CHECK(last_message().find("version") != std::string::npos);
  CHECK(std::memcmp(&h, &before, sizeof h) == 0);
  gp_server_options_t s;
  CHECK(gp_server_options_init(nullptr, GP_SERVER_OPTIONS_VERSION) == GP_EINVAL);
  CHECK(gp_server_options_init(&s, GP_SERVER_OPTIONS_VERSION + 1) == GP_EINVAL);
}

TEST_CASE("a bad host option is named alone, with its own rule", "[embedder][options]") {
  gp_host_options_t o = GP_HOST_OPTIONS_INIT;
  gp_host* h = nullptr;
  SECTION("busy timeout") {
    o.busy_timeout_ms = -5;
    CHECK(gp_host_open(&h, ":memory:", &o) == GP_EINVAL);
    CHECK(last_message().find("busy_timeout_ms must be >= 0 (0 = the default, 5000), got -5") != std::string::npos);
    CHECK(last_message().find("fallback_poll_us") == std::string::npos);
  }
  SECTION("fallback poll") {
    o.fallback_poll_us = -1;
    CHECK(gp_host_open(&h, ":memory:", &o) == GP_EINVAL);
    CHECK(last_message().find("fallback_poll_us must be >= 0 (0 = the default, 50000), got -1") != std::string::npos);
    CHECK(last_message().find("busy_timeout_ms") == std::string::npos);
  }
  CHECK(h == nullptr);
}

TEST_CASE("a UUID of the right length names its first bad character", "[embedder][ids]") {
  gp_uuid_t u;
  CHECK(gp_uuid_parse(&u, "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7dx") == GP_EINVAL);
  CHECK(last_message().find("character 36 ('x') should be a hex digit") != std::string::npos);
  CHECK(last_message().find("expected 36 characters") == std::string::npos);
  CHECK(gp_uuid_parse(&u, "a1a2a3a4xb1b2-c1c2-d1d2-d3d4d5d6d7d8") == GP_EINVAL);
  CHECK(last_message().find("character 9 ('x') should be '-'") != std::string::npos);
  CHECK(gp_uuid_parse(&u, "a1a2a3a4") == GP_EINVAL);
  CHECK(last_message().find("expected 36 characters (8-4-4-4-12 hex digits), got 8") != std::string::npos);
}

TEST_CASE("an oplog index has one text: leading zeros are refused", "[embedder][ids]") {
  const std::string worker = std::string(kComponent) + "/w";
  gp_promise_id_t p;
  for (const char* bad : {"/007", "/00", "/01"}) {
    INFO(bad);
    CHECK(gp_promise_id_parse(&p, (worker + bad).c_str()) == GP_EINVAL);
    CHECK(last_message().find("leading zero") != std::string::npos);
  }
  CHECK(last_message().find("its text is '1'") != std::string::npos);
  // Every canonical text parses and formats back to itself.
  for (const char* good : {"/0", "/7", "/18446744073709551615"}) {
    INFO(good);
    REQUIRE(gp_promise_id_parse(&p, (worker + good).c_str()) == GP_OK);
    CHECK(format(p) == worker + good);
  }
  // Upper-case hex is accepted (RFC 4122) and formatted lower case.
  REQUIRE(gp_promise_id_parse(&p, "A1A2A3A4-B1B2-C1C2-D1D2-D3D4D5D6D7D8/w/7") == GP_OK);
  CHECK(format(p) == worker + "/7");
}

TEST_CASE("a failing call leaves its out parameters empty", "[embedder][out]") {
  Host h;
  Worker w(h, "outs");
  const auto pending = w.create();
  gp_promise_id_t gone = pending;
  gone.oplog_idx = 999;

  SECTION("id parsers") {
    gp_uuid_t u;
    std::memset(&u, 0x5a, sizeof u);
    CHECK(gp_uuid_parse(&u, "nope") == GP_EINVAL);
    CHECK(all_zero(&u, sizeof u));
    gp_worker_id_t wid;
    std::memset(&wid, 0x5a, sizeof wid);
    CHECK(gp_worker_id_parse(&wid, "nope") == GP_EINVAL);
    CHECK(all_zero(&wid, sizeof wid));
    std::memset(&wid, 0x5a, sizeof wid);
    const auto c = component_uuid();
    CHECK(gp_worker_id_make(&wid, &c, "bad name!") == GP_EINVAL);
    CHECK(all_zero(&wid, sizeof wid));
    gp_promise_id_t p;
    std::memset(&p, 0x5a, sizeof p);
    CHECK(gp_promise_id_parse(&p, "nope") == GP_EINVAL);
    CHECK(all_zero(&p, sizeof p));
  }
  SECTION("text formatters") {
    char text[8];
    std::memset(text, 'x', sizeof text);
    CHECK(gp_promise_id_format(text, sizeof text, &pending) == GP_EINVAL);  // too small
    CHECK(text[0] == '\0');
    std::memset(text, 'x', sizeof text);
    CHECK(gp_uuid_format(text, sizeof text, nullptr) == GP_EINVAL);
    CHECK(text[0] == '\0');
  }
  SECTION("await, poll and open") {
    gp_bytes_t b{reinterpret_cast<std::uint8_t*>(&b), 77};  // stale values a failure must clear
    CHECK(gp_worker_await_promise(&b, w, &pending, 0) == GP_ETIMEOUT);
    CHECK((b.data == nullptr && b.len == 0));
    b = gp_bytes_t{reinterpret_cast<std::uint8_t*>(&b), 77};
    CHECK(gp_host_await_promise(&b, h, &gone, 0) == GP_ENOTFOUND);
    CHECK((b.data == nullptr && b.len == 0));
    int ready = 7;
    b = gp_bytes_t{reinterpret_cast<std::uint8_t*>(&b), 77};
    CHECK(gp_host_poll_promise(&b, &ready, h, &gone) == GP_ENOTFOUND);
    CHECK((b.data == nullptr && b.len == 0 && ready == 0));
    gp_host* other = reinterpret_cast<gp_host*>(&ready);
    CHECK(gp_host_open(&other, "/nonexistent-dir/x.db", nullptr) == GP_EIO);
    CHECK(other == nullptr);
    gp_worker* worker = reinterpret_cast<gp_worker*>(&ready);
    gp_worker_id_t bad_id{};
    CHECK(gp_worker_open(&worker, h, &bad_id) == GP_EINVAL);
    CHECK(worker == nullptr);
  }
  SECTION("oplog reads") {
    gp_oplog_entry_t e;
    std::memset(&e, 0x5a, sizeof e);
    CHECK(gp_host_oplog_read(&e, h, &w.id, 999) == GP_ENOENTRY);
    CHECK(all_zero(&e, sizeof e));
    gp_bytes_t f{reinterpret_cast<std::uint8_t*>(&e), 3};
    gp_bytes_t d{reinterpret_cast<std::uint8_t*>(&e), 3};
    CHECK(gp_host_oplog_read_call(&f, &d, h, &w.id, 999) == GP_ENOENTRY);
    CHECK((f.data == nullptr && f.len == 0 && d.data == nullptr && d.len == 0));
    std::uint64_t n = 9;
    gp_worker_id_t unknown = worker_id("nobody");
    CHECK(gp_host_oplog_length(&n, h, &unknown) == GP_EWORKERNOTFOUND);
    CHECK(n == 0);
  }
}

TEST_CASE("the last error message survives gp_errstr and successful calls", "[embedder][errors]") {
  gp_uuid_t u;
  REQUIRE(gp_uuid_parse(&u, "nope") == GP_EINVAL);
  const char* message = gp_last_error_message();
  const std::string copy = message;
  // The documented line: gp_errstr(rc) and gp_last_error_message() in one call's arguments.
  CHECK(std::string(gp_errstr(GP_EINVAL)) == "GP_EINVAL: invalid argument");
  CHECK(gp_uuid_parse(&u, kComponent) == GP_OK);
  CHECK(gp_last_error_code() == GP_EINVAL);
  CHECK(std::string(gp_last_error_message()) == copy);
  CHECK(std::string(message) == copy);  // the same storage, unchanged
}

TEST_CASE("gp_host_read_payload reads into the caller's buffer, snprintf-style", "[embedder][payload]") {
  Host h;
  Worker w(h, "reader");
  const auto p = w.create();
  std::size_t len = 99;
  int ready = 9;
  std::uint8_t buf[8];
  std::memset(buf, '#', sizeof buf);

  // Pending: not ready, nothing written.
  REQUIRE(gp_host_read_payload(&len, &ready, h, &p, buf, sizeof buf) == GP_OK);
  CHECK((ready == 0 && len == 0 && buf[0] == '#'));

  int completed = 0;
  REQUIRE(gp_host_complete_promise(&completed, h, &p, u8("payload!"), 8) == GP_OK);
  // A size query, then a buffer one byte short (nothing copied), then one that fits.
  REQUIRE(gp_host_read_payload(&len, &ready, h, &p, nullptr, 0) == GP_OK);
  CHECK((ready == 1 && len == 8));
  REQUIRE(gp_host_read_payload(&len, &ready, h, &p, buf, 7) == GP_OK);
  CHECK((ready == 1 && len == 8 && buf[0] == '#'));
  REQUIRE(gp_host_read_payload(&len, &ready, h, &p, buf, sizeof buf) == GP_OK);
  CHECK((ready == 1 && len == 8));
  CHECK(std::memcmp(buf, "payload!", 8) == 0);
  // Not recorded: the worker's oplog holds its creation and the create only.
  CHECK(oplog_length(h, w.id) == 2);

  // An empty payload is ready with length 0; a deleted promise is GP_ENOTFOUND, outs emptied.
  const auto empty = w.create();
  REQUIRE(gp_host_complete_promise(&completed, h, &empty, nullptr, 0) == GP_OK);
  REQUIRE(gp_host_read_payload(&len, &ready, h, &empty, nullptr, 0) == GP_OK);
  CHECK((ready == 1 && len == 0));
  REQUIRE(gp_host_delete_promise(h, &p) == GP_OK);
  CHECK(gp_host_read_payload(&len, &ready, h, &p, buf, sizeof buf) == GP_ENOTFOUND);
  CHECK((ready == 0 && len == 0));
}

TEST_CASE("gp_host_read_payload reads a large payload of a file host whole", "[embedder][payload]") {
  TempDir dir;
  Host h(dir.file("large.db"));
  Worker w(h, "large");
  const auto p = w.create();
  std::string data(20u << 20, '\0');  // 20 MiB: several pieces of blob I/O
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 131) >> 3);
  int completed = 0;
  REQUIRE(gp_host_complete_promise(&completed, h, &p, u8(data), data.size()) == GP_OK);
  std::string mine(data.size(), '\0');
  std::size_t len = 0;
  int ready = 0;
  REQUIRE(gp_host_read_payload(&len, &ready, h, &p, reinterpret_cast<std::uint8_t*>(mine.data()), mine.size()) == GP_OK);
  CHECK((ready == 1 && len == data.size()));
  CHECK(mine == data);
}
