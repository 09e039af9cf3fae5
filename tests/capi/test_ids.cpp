// Identifiers: UUID, WorkerId and PromiseId parsing and formatting (DESIGN §1).
#include "support.hpp"

#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cstring>
#include <string>

using namespace gpt;
using Catch::Matchers::ContainsSubstring;

namespace {

std::string uuid_text(const gp_uuid_t& u) {
  char buf[GP_UUID_TEXT_SIZE];
  REQUIRE(gp_uuid_format(buf, sizeof buf, &u) == GP_OK);
  return buf;
}

std::string worker_text(const gp_worker_id_t& w) {
  char buf[GP_WORKER_ID_TEXT_SIZE];
  REQUIRE(gp_worker_id_format(buf, sizeof buf, &w) == GP_OK);
  return buf;
}

void require_einval_with_message(int rc) {
  CHECK(rc == GP_EINVAL);
  CHECK(gp_last_error_code() == GP_EINVAL);
  CHECK(std::strlen(gp_last_error_message()) > 0);
}

}  // namespace

TEST_CASE("uuid high_bits are the most significant 64 bits, big-endian", "[ids]") {
  gp_uuid_t u{};
  REQUIRE(gp_uuid_parse(&u, "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8") == GP_OK);
  CHECK(u.high_bits == 0xa1a2a3a4b1b2c1c2ULL);
  CHECK(u.low_bits == 0xd1d2d3d4d5d6d7d8ULL);
}

TEST_CASE("uuid format writes the big-endian text of high_bits then low_bits", "[ids]") {
  gp_uuid_t u{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  CHECK(uuid_text(u) == "01234567-89ab-cdef-fedc-ba9876543210");
  gp_uuid_t zero{0, 0};
  CHECK(uuid_text(zero) == "00000000-0000-0000-0000-000000000000");
  gp_uuid_t ones{~0ULL, ~0ULL};
  CHECK(uuid_text(ones) == "ffffffff-ffff-ffff-ffff-ffffffffffff");
}

TEST_CASE("uuid parse and format round-trip", "[ids]") {
  auto text = GENERATE(as<std::string>{}, "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8",
                       "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
                       "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
  gp_uuid_t u{};
  REQUIRE(gp_uuid_parse(&u, text.c_str()) == GP_OK);
  CHECK(uuid_text(u) == text);
}

TEST_CASE("uuid parse accepts upper case and format prints lower case", "[ids]") {
  gp_uuid_t upper{}, lower{};
  REQUIRE(gp_uuid_parse(&upper, "A1A2A3A4-B1B2-C1C2-D1D2-D3D4D5D6D7D8") == GP_OK);
  REQUIRE(gp_uuid_parse(&lower, "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8") == GP_OK);
  CHECK(upper.high_bits == lower.high_bits);
  CHECK(upper.low_bits == lower.low_bits);
  CHECK(uuid_text(upper) == "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8");
  gp_uuid_t mixed{};
  REQUIRE(gp_uuid_parse(&mixed, "A1a2A3a4-b1B2-C1c2-d1D2-D3d4D5d6D7d8") == GP_OK);
  CHECK(uuid_text(mixed) == "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8");
}

TEST_CASE("uuid parse rejects malformed text with GP_EINVAL", "[ids]") {
  auto text = GENERATE(as<std::string>{},
                       "",                                       // empty
                       "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d",    // 35 chars
                       "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8a",  // 37 chars
                       "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7g8",   // bad hex
                       "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7 8",   // space
                       "a1a2a3a4b-1b2-c1c2-d1d2-d3d4d5d6d7d8",   // hyphen misplaced
                       "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8/",  // trailing junk
                       "not-a-uuid");
  CAPTURE(text);
  gp_uuid_t u{0x1234, 0x5678};
  require_einval_with_message(gp_uuid_parse(&u, text.c_str()));
}

TEST_CASE("uuid format needs GP_UUID_TEXT_SIZE bytes", "[ids]") {
  gp_uuid_t u = component_uuid();
  char buf[GP_UUID_TEXT_SIZE];
  require_einval_with_message(gp_uuid_format(buf, GP_UUID_TEXT_SIZE - 1, &u));
  require_einval_with_message(gp_uuid_format(buf, 0, &u));
  CHECK(gp_uuid_format(buf, GP_UUID_TEXT_SIZE, &u) == GP_OK);
  CHECK(std::string(buf) == kComponent);
}

TEST_CASE("worker name rule: 1 to 100 of A-Z a-z 0-9 _ - not starting with -", "[ids]") {
  SECTION("accepted names") {
    auto name = GENERATE(as<std::string>{}, "a", "Z", "0", "_", "worker-1", "Worker_2-x", "_-",
                         "0-leading-digit", std::string(100, 'x'));
    CAPTURE(name);
    CHECK(gp_worker_name_validate(name.c_str()) == GP_OK);
  }
  SECTION("rejected names") {
    auto name = GENERATE(as<std::string>{}, "", "-leading-dash", std::string(101, 'x'), "has space",
                         "dot.name", "slash/name", "colon:name", "tab\tname", "caf\xc3\xa9",
                         "emoji\xf0\x9f\x98\x80", "star*", "plus+");
    CAPTURE(name);
    require_einval_with_message(gp_worker_name_validate(name.c_str()));
  }
}

TEST_CASE("worker name errors state the naming rule", "[ids]") {
  REQUIRE(gp_worker_name_validate("-bad") == GP_EINVAL);
  std::string msg = gp_last_error_message();
  CAPTURE(msg);
  CHECK_THAT(msg, ContainsSubstring("100"));
  CHECK_THAT(msg, ContainsSubstring("a-z", Catch::CaseSensitive::No));
  CHECK_THAT(msg, ContainsSubstring("-"));

  gp_worker_id_t id{};
  gp_uuid_t u = component_uuid();
  REQUIRE(gp_worker_id_make(&id, &u, "bad name") == GP_EINVAL);
  std::string msg2 = gp_last_error_message();
  CAPTURE(msg2);
  CHECK_THAT(msg2, ContainsSubstring("100"));
  CHECK_THAT(msg2, ContainsSubstring("a-z", Catch::CaseSensitive::No));
}

TEST_CASE("worker id make copies the component and name", "[ids]") {
  gp_uuid_t u = component_uuid();
  gp_worker_id_t id{};
  REQUIRE(gp_worker_id_make(&id, &u, "approver-7") == GP_OK);
  CHECK(id.component_id.high_bits == u.high_bits);
  CHECK(id.component_id.low_bits == u.low_bits);
  CHECK(std::string(id.worker_name) == "approver-7");
  std::string longest(100, 'n');
  REQUIRE(gp_worker_id_make(&id, &u, longest.c_str()) == GP_OK);
  CHECK(std::string(id.worker_name) == longest);
}

TEST_CASE("worker id make rejects names outside the rule", "[ids]") {
  gp_uuid_t u = component_uuid();
  auto name = GENERATE(as<std::string>{}, "", "-x", std::string(101, 'a'), "a b", "a/b");
  CAPTURE(name);
  gp_worker_id_t id{};
  require_einval_with_message(gp_worker_id_make(&id, &u, name.c_str()));
}

TEST_CASE("worker id parse and format round-trip", "[ids]") {
  auto text = GENERATE(as<std::string>{}, std::string(kComponent) + "/w",
                       std::string(kComponent) + "/approval_flow-2",
                       std::string("00000000-0000-0000-0000-000000000000/") + std::string(100, 'z'));
  gp_worker_id_t id{};
  REQUIRE(gp_worker_id_parse(&id, text.c_str()) == GP_OK);
  CHECK(worker_text(id) == text);
}

TEST_CASE("worker id parse prints upper-case uuids in lower case", "[ids]") {
  gp_worker_id_t id{};
  REQUIRE(gp_worker_id_parse(&id, "A1A2A3A4-B1B2-C1C2-D1D2-D3D4D5D6D7D8/Name") == GP_OK);
  CHECK(id.component_id.high_bits == 0xa1a2a3a4b1b2c1c2ULL);
  CHECK(worker_text(id) == "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8/Name");
}

TEST_CASE("worker id parse rejects malformed text", "[ids]") {
  const std::string c = kComponent;
  auto text = GENERATE_COPY(as<std::string>{}, std::string(""), c, c + "/", "/name", "nothex/name",
                            c.substr(1) + "/name", c + "/" + std::string(101, 'a'), c + "/-name",
                            c + "/bad name", c + "/a/b");
  CAPTURE(text);
  gp_worker_id_t id{};
  require_einval_with_message(gp_worker_id_parse(&id, text.c_str()));
}

TEST_CASE("worker id format reports a too-small buffer", "[ids]") {
  gp_worker_id_t id = worker_id("abc");
  const std::string expected = std::string(kComponent) + "/abc";
  std::vector<char> buf(expected.size() + 1);
  require_einval_with_message(gp_worker_id_format(buf.data(), expected.size(), &id));
  REQUIRE(gp_worker_id_format(buf.data(), buf.size(), &id) == GP_OK);
  CHECK(std::string(buf.data()) == expected);
}

TEST_CASE("worker id format rejects a worker name without its NUL", "[ids]") {
  gp_worker_id_t id = worker_id("abc");
  std::memset(id.worker_name, 'a', sizeof id.worker_name);  // 101 chars, no terminator
  char buf[GP_WORKER_ID_TEXT_SIZE + 8];
  require_einval_with_message(gp_worker_id_format(buf, sizeof buf, &id));
}

TEST_CASE("promise id parse and format round-trip", "[ids]") {
  const std::string c = kComponent;
  auto text = GENERATE_COPY(as<std::string>{}, c + "/w/1", c + "/worker-1/42",
                            c + "/w/18446744073709551615", c + "/" + std::string(100, 'q') + "/7");
  gp_promise_id_t id{};
  REQUIRE(gp_promise_id_parse(&id, text.c_str()) == GP_OK);
  CHECK(format(id) == text);
}

TEST_CASE("promise id parse fills every field", "[ids]") {
  gp_promise_id_t id{};
  REQUIRE(gp_promise_id_parse(&id, "A1A2A3A4-B1B2-C1C2-D1D2-D3D4D5D6D7D8/approver/12345") == GP_OK);
  CHECK(id.worker_id.component_id.high_bits == 0xa1a2a3a4b1b2c1c2ULL);
  CHECK(id.worker_id.component_id.low_bits == 0xd1d2d3d4d5d6d7d8ULL);
  CHECK(std::string(id.worker_id.worker_name) == "approver");
  CHECK(id.oplog_idx == 12345u);
  CHECK(format(id) == "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8/approver/12345");
}

TEST_CASE("promise id parse of the largest u64 index", "[ids]") {
  gp_promise_id_t id{};
  std::string text = std::string(kComponent) + "/w/18446744073709551615";
  REQUIRE(gp_promise_id_parse(&id, text.c_str()) == GP_OK);
  CHECK(id.oplog_idx == UINT64_MAX);
}

TEST_CASE("promise id parse rejects malformed text", "[ids]") {
  const std::string c = kComponent;
  auto text = GENERATE_COPY(as<std::string>{},
                            std::string(""),
                            c,                                  // no worker, no index
                            c + "/w",                           // no index
                            c + "/w/",                          // empty index
                            c + "//5",                          // empty name
                            c + "/5",                           // no worker name
                            c + "/w/abc",                       // non-numeric index
                            c + "/w/12x",                       // trailing junk
                            c + "/w/-1",                        // negative
                            c + "/w/ 5",                        // leading space
                            c + "/w/18446744073709551616",      // u64 max + 1
                            c + "/w/99999999999999999999999",   // far beyond u64
                            c + "/-w/5",                        // bad worker name
                            c + "/" + std::string(101, 'a') + "/5",
                            "zzzzzzzz-b1b2-c1c2-d1d2-d3d4d5d6d7d8/w/5",
                            "/w/5");
  CAPTURE(text);
  gp_promise_id_t id{};
  require_einval_with_message(gp_promise_id_parse(&id, text.c_str()));
}

TEST_CASE("promise id format reports a too-small buffer", "[ids]") {
  gp_promise_id_t id{};
  id.worker_id = worker_id("abc");
  id.oplog_idx = 1234;
  const std::string expected = std::string(kComponent) + "/abc/1234";
  std::vector<char> buf(expected.size() + 1);
  require_einval_with_message(gp_promise_id_format(buf.data(), expected.size(), &id));
  require_einval_with_message(gp_promise_id_format(buf.data(), 1, &id));
  REQUIRE(gp_promise_id_format(buf.data(), buf.size(), &id) == GP_OK);
  CHECK(std::string(buf.data()) == expected);
}

TEST_CASE("promise id buffers of the documented size fit the longest id", "[ids]") {
  gp_promise_id_t id{};
  gp_uuid_t u = component_uuid("ffffffff-ffff-ffff-ffff-ffffffffffff");
  std::string longest(GP_WORKER_NAME_MAX, 'L');
  REQUIRE(gp_worker_id_make(&id.worker_id, &u, longest.c_str()) == GP_OK);
  id.oplog_idx = UINT64_MAX;
  char buf[GP_PROMISE_ID_TEXT_SIZE];
  REQUIRE(gp_promise_id_format(buf, sizeof buf, &id) == GP_OK);
  CHECK(std::strlen(buf) == 36 + 1 + 100 + 1 + 20);
  char wbuf[GP_WORKER_ID_TEXT_SIZE];
  REQUIRE(gp_worker_id_format(wbuf, sizeof wbuf, &id.worker_id) == GP_OK);
  CHECK(std::strlen(wbuf) == 36 + 1 + 100);
}
