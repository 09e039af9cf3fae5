// The HTTP completion endpoint (DESIGN §4, docs/http.md), end to end: a server started through
// the C ABI on 127.0.0.1 and a real HTTP client (client.hpp, on Boost.Beast).

#include <atomic>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "golem_promise.h"
#include "support.hpp"

using namespace gp_http_test;
using json = nlohmann::json;

// ---------------------------------------------------------------- the rows of DESIGN §4

TEST_CASE("POST complete answers true when it completes the promise and false afterwards", "[http]") {
  Served s;
  auto r = post(s.port, s.complete_path(), body_for(s.idx(), "[1, 2, 3]"));
  CHECK(r->status == 200);
  CHECK(r->body == "true");
  std::vector<uint8_t> payload;
  REQUIRE(s.state(&payload) == 1);
  CHECK(payload == std::vector<uint8_t>{1, 2, 3});

  r = post(s.port, s.complete_path(), body_for(s.idx(), "[9]"));
  CHECK(r->status == 200);
  CHECK(r->body == "false");
  REQUIRE(s.state(&payload) == 1);
  CHECK(payload == std::vector<uint8_t>{1, 2, 3});  // first payload wins
}

TEST_CASE("POST complete carries every byte value, NUL bytes and an empty payload intact", "[http]") {
  Served s;
  SECTION("all 256 byte values") {
    std::string data = "[";
    std::vector<uint8_t> expected;
    for (int i = 0; i < 256; ++i) {
      data += (i ? "," : "") + std::to_string(i);
      expected.push_back(static_cast<uint8_t>(i));
    }
    data += "]";
    auto r = post(s.port, s.complete_path(), body_for(s.idx(), data));
    REQUIRE(r->body == "true");
    std::vector<uint8_t> payload;
    REQUIRE(s.state(&payload) == 1);
    CHECK(payload == expected);
  }
  SECTION("empty payload") {
    auto r = post(s.port, s.complete_path(), body_for(s.idx(), "[]"));
    REQUIRE(r->body == "true");
    std::vector<uint8_t> payload{7};
    REQUIRE(s.state(&payload) == 1);
    CHECK(payload.empty());
  }
  SECTION("a 1 MiB payload") {
    std::string data = "[";
    for (int i = 0; i < (1 << 20); ++i) data += (i ? ",0" : "0");
    data += "]";
    auto r = post(s.port, s.complete_path(), body_for(s.idx(), data));
    REQUIRE(r->body == "true");
    std::vector<uint8_t> payload;
    REQUIRE(s.state(&payload) == 1);
    CHECK(payload.size() == (1u << 20));
  }
}

TEST_CASE("POST complete with an invalid worker name is 400 with errors and changes nothing", "[http]") {
  Served s;
  const auto name = GENERATE(as<std::string>{}, "-starts-with-dash", "has.dot", "has%20space",
                             std::string(101, 'a'), "caf%C3%A9");
  auto r = post(s.port, std::string("/v1/components/") + kComponent + "/workers/" + name + "/complete",
                body_for(s.idx(), "[1]"));
  require_errors_naming(r, "invalid worker name");
  CHECK(s.state() == 0);
}

TEST_CASE("Control characters and NUL from the path are escaped in messages, which are never cut short", "[http]") {
  Served s;
  struct Case {
    std::string path, needle;
  };
  const auto c = GENERATE_COPY(values<Case>({
      {std::string("/v1/components/") + kComponent + "/workers/wk%001/complete",
       "invalid worker name 'wk\\x001': worker names are 1 to 100 characters"},
      {std::string("/v1/components/") + kComponent + "/workers/a%0Ab%1B[2J%7Fc/complete",
       "invalid worker name 'a\\x0ab\\x1b[2J\\x7fc': worker names are 1 to 100 characters"},
      {std::string("/v1/components/") + kComponent + "/workers/back%5Cslash/complete",
       "invalid worker name 'back\\\\slash': worker names"},
      {"/v1/components/0b5c6a1e-2f3d-4c5b-8a9e-1234567%00abc/workers/w/complete",
       "invalid component id '0b5c6a1e-2f3d-4c5b-8a9e-1234567\\x00abc': expected a UUID"},
  }));
  INFO(c.path);
  require_errors_naming(post(s.port, c.path, body_for(s.idx(), "[1]")), c.needle);
  require_errors_naming(get(s.port, c.path.substr(0, c.path.size() - 9) + "/promises/1"), c.needle);
  CHECK(s.state() == 0);
}

TEST_CASE("An encoded slash stays inside its path segment: a bad worker name, component id or index is 400", "[http]") {
  Served s;
  const std::string component = std::string("/v1/components/") + kComponent;
  require_errors_naming(post(s.port, component + "/workers/wk%2F1/complete", body_for(s.idx(), "[1]")),
                        "invalid worker name 'wk/1'");
  require_errors_naming(post(s.port, component + "/workers/wk%2f1/complete", body_for(s.idx(), "[1]")),
                        "invalid worker name 'wk/1'");
  require_errors_naming(get(s.port, component + "/workers/wk%2F1/promises/1"), "invalid worker name 'wk/1'");
  require_errors_naming(post(s.port, "/v1/components/0b5c6a1e%2F2f3d-4c5b-8a9e-123456789abc/workers/w/complete", "{}"),
                        "invalid component id '0b5c6a1e/2f3d-4c5b-8a9e-123456789abc'");
  require_errors_naming(get(s.port, s.base() + "/promises/1%2F2"), "invalid oplog index '1/2'");
  CHECK(s.state() == 0);
  // Each segment is decoded after the split: encoded letters of the fixed segments still route.
  auto r = post(s.port, std::string("/v1/%63omponents/") + kComponent + "/workers/worker%2D1/%63omplete?x=%2F",
                body_for(s.idx(), "[7]"));
  CHECK(r->status == 200);
  CHECK(r->body == "true");
}

TEST_CASE("POST complete with an invalid component id is 400 with errors", "[http]") {
  Served s;
  const auto component = GENERATE(as<std::string>{}, "not-a-uuid", "0b5c6a1e2f3d4c5b8a9e123456789abc",
                                  "{0b5c6a1e-2f3d-4c5b-8a9e-123456789abc}", "0b5c6a1e-2f3d-4c5b-8a9e-123456789abz");
  auto r = post(s.port, "/v1/components/" + component + "/workers/" + s.worker_name + "/complete",
                body_for(s.idx(), "[1]"));
  require_errors_naming(r, "invalid component id");
  CHECK(s.state() == 0);
}

TEST_CASE("Very long path segments are 400, not a crash", "[http]") {
  Served s;
  require_errors_naming(post(s.port, "/v1/components/" + std::string(8000, 'a') + "/workers/w/complete", "{}"),
                        "invalid component id");
  require_errors_naming(post(s.port, std::string("/v1/components/") + kComponent + "/workers/" +
                                         std::string(8000, 'a') + "/complete", "{}"),
                        "invalid worker name");
  require_errors_naming(get(s.port, s.base() + "/promises/" + std::string(8000, '1')), "invalid oplog index");
  CHECK(get(s.port, "/healthz")->status == 200);
}

TEST_CASE("POST complete accepts the component id in upper case", "[http]") {
  Served s;
  std::string upper = kComponent;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto r = post(s.port, "/v1/components/" + upper + "/workers/" + s.worker_name + "/complete", body_for(s.idx(), "[1]"));
  CHECK(r->status == 200);
  CHECK(r->body == "true");
}

TEST_CASE("POST complete for a worker the host does not have is 404 with error", "[http]") {
  Served s;
  SECTION("other worker name") {
    auto r = post(s.port, std::string("/v1/components/") + kComponent + "/workers/nobody/complete",
                  body_for(s.idx(), "[1]"));
    CHECK(r->status == 404);
    const auto j = json::parse(r->body);
    REQUIRE(j.contains("error"));
    CHECK(j["error"].get<std::string>().find("nobody") != std::string::npos);
  }
  SECTION("other component") {
    auto r = post(s.port, "/v1/components/11111111-2222-3333-4444-555555555555/workers/" + s.worker_name + "/complete",
                  body_for(s.idx(), "[1]"));
    CHECK(r->status == 404);
    CHECK(json::parse(r->body).contains("error"));
  }
  CHECK(s.state() == 0);
}

TEST_CASE("POST complete of an unknown or deleted promise is 500 PromiseNotFound", "[http]") {
  Served s;
  uint64_t idx = 0;
  SECTION("never created") { idx = 999; }
  SECTION("index 0") { idx = 0; }
  SECTION("the largest u64") { idx = UINT64_MAX; }
  SECTION("deleted") {
    GP_REQUIRE_OK(gp_host_delete_promise(s.host, &s.promise));
    idx = s.idx();
  }
  auto r = post(s.port, s.complete_path(), body_for(idx, "[1]"));
  CHECK(r->status == 500);
  const json expected = {{"golemError",
                          {{"type", "PromiseNotFound"},
                           {"promiseId",
                            {{"workerId", {{"componentId", kComponent}, {"workerName", s.worker_name}}},
                             {"oplogIdx", idx}}}}}};
  CHECK(json::parse(r->body) == expected);
}

TEST_CASE("A malformed completion body is 400 naming the problem, and the promise stays pending", "[http]") {
  Served s;
  const auto idx = std::to_string(s.idx());
  struct Case {
    std::string body;
    std::string needle;
  };
  const auto c = GENERATE_COPY(values<Case>({
      {"{\"oplogIdx\": " + idx + ", \"data\": [1, 2", "not valid JSON"},
      {"not json", "not valid JSON"},
      {"", "not valid JSON"},
      {"{\"oplogIdx\": " + idx + ", \"data\": [1]} trailing", "not valid JSON"},
      {"[1, 2]", "JSON object"},
      {"42", "JSON object"},
      {"{\"data\": [1]}", "'oplogIdx'"},
      {"{\"oplogIdx\": " + idx + "}", "'data'"},
      {"{}", "'oplogIdx'"},
      {"{\"oplogIdx\": \"" + idx + "\", \"data\": [1]}", "'oplogIdx'"},
      {"{\"oplogIdx\": -1, \"data\": [1]}", "'oplogIdx'"},
      {"{\"oplogIdx\": -0, \"data\": [1]}", "'oplogIdx' must be an unsigned 64-bit integer"},
      {"{\"oplogIdx\": -" + idx + ", \"data\": [1]}", "'oplogIdx' must be an unsigned 64-bit integer"},
      {"{\"oplogIdx\": 18446744073709551616, \"data\": [1]}", "'oplogIdx'"},
      {"{\"oplogIdx\": 1.5, \"data\": [1]}", "'oplogIdx'"},
      {"{\"oplogIdx\": 2e0, \"data\": [1]}", "'oplogIdx'"},
      {"{\"oplogIdx\": null, \"data\": [1]}", "'oplogIdx'"},
      {"{\"oplogIdx\": [" + idx + "], \"data\": [1]}", "'oplogIdx'"},
      {"{\"oplogIdx\": " + idx + ", \"data\": \"AQID\"}", "'data'"},
      {"{\"oplogIdx\": " + idx + ", \"data\": {\"0\": 1}}", "'data'"},
      {"{\"oplogIdx\": " + idx + ", \"data\": null}", "'data'"},
      {"{\"oplogIdx\": " + idx + ", \"data\": [1, 256]}", "'data[1]'"},
      {"{\"oplogIdx\": " + idx + ", \"data\": [-1]}", "'data[0]'"},
      {"{\"oplogIdx\": " + idx + ", \"data\": [-0]}", "'data[0]' must be an integer from 0 to 255, got a negative number"},
      {"{\"oplogIdx\": " + idx + ", \"data\": [1, -0]}", "'data[1]' must be an integer from 0 to 255, got a negative number"},
      {"{\"oplogIdx\": " + idx + ", \"data\": [-0.0]}", "'data[0]'"},
      {"{\"oplogIdx\": " + idx + ", \"data\": [1.5]}", "'data[0]'"},
      {"{\"oplogIdx\": " + idx + ", \"data\": [\"a\"]}", "'data[0]'"},
      {"{\"oplogIdx\": " + idx + ", \"data\": [[1]]}", "'data[0]'"},
      {"{\"oplogIdx\": " + idx + ", \"data\": [true]}", "'data[0]'"},
      {"{\"oplogIdx\": " + idx + ", \"oplogIdx\": " + idx + ", \"data\": [1]}", "'oplogIdx' appears more than once"},
      {"{\"oplogIdx\": " + idx + ", \"data\": [1], \"data\": [2]}", "'data' appears more than once"},
  }));
  INFO("body: " << c.body);
  auto r = post(s.port, s.complete_path(), c.body);
  require_errors_naming(r, c.needle);
  CHECK(s.state() == 0);
}

TEST_CASE("Unknown fields in the completion body are ignored", "[http]") {
  Served s;
  auto r = post(s.port, s.complete_path(),
                "{\"extra\": {\"nested\": [1, {\"data\": 5}]}, \"oplogIdx\": " + std::to_string(s.idx()) +
                    ", \"data\": [4, 5], \"more\": [300, -1]}");
  CHECK(r->status == 200);
  CHECK(r->body == "true");
}

TEST_CASE("A POST without a body is 400", "[http]") {
  Served s;
  auto c = client_for(s.port);
  auto r = c->Post(s.complete_path().c_str());
  check_json(r);
  CHECK(r->status == 400);
  CHECK(s.state() == 0);
}

TEST_CASE("A body over the configured limit is 413 and changes nothing", "[http]") {
  Served s(nullptr, 1024);
  std::string data = "[";
  for (int i = 0; i < 600; ++i) data += (i ? ",1" : "1");
  data += "]";
  const auto body = body_for(s.idx(), data);
  REQUIRE(body.size() > 1024);
  SECTION("with Content-Length") {
    auto r = post(s.port, s.complete_path(), body);
    CHECK(r->status == 413);
    CHECK(json::parse(r->body).contains("error"));
  }
  SECTION("chunked") {
    auto c = client_for(s.port);
    auto r = c->PostChunked(s.complete_path(), body, 100, "application/json");
    check_json(r);
    CHECK(r->status == 413);
  }
  CHECK(s.state() == 0);
  // The server still serves, and a body under the limit works.
  auto r = post(s.port, s.complete_path(), body_for(s.idx(), "[1]"));
  CHECK(r->body == "true");
}

TEST_CASE("The body limit counts the decoded bytes of a compressed body", "[http]") {
  Served s(nullptr, 1024);
  std::string data = "[";
  for (int i = 0; i < 3000; ++i) data += (i ? ",1" : "1");
  data += "]";
  auto c = client_for(s.port);
  c->set_compress(true);  // gzip: a few dozen bytes on the wire, 6000 decoded
  auto r = c->Post(s.complete_path().c_str(), body_for(s.idx(), data), "application/json");
  check_json(r);
  CHECK(r->status == 413);
  CHECK(s.state() == 0);
  auto ok = c->Post(s.complete_path().c_str(), body_for(s.idx(), "[5, 6]"), "application/json");
  check_json(ok);
  CHECK(ok->body == "true");
}

TEST_CASE("A multipart/form-data completion is 415", "[http]") {
  Served s;
  auto c = client_for(s.port);
  auto r = c->PostMultipart(s.complete_path(), "oplogIdx", std::to_string(s.idx()));
  check_json(r);
  CHECK(r->status == 415);
  CHECK(s.state() == 0);
}


TEST_CASE("A Content-Encoding the server does not decode is 415 and changes nothing", "[http]") {
  Served s;
  const auto coding = GENERATE(as<std::string>{}, "zstd", "foo", "compress", "gzip, br", "br;q=1", "xbrx");
  INFO("Content-Encoding: '" << coding << "'");
  // A plain JSON body: read as if it had no encoding, it would complete the promise.
  auto r = post(s.port, s.complete_path(), body_for(s.idx(), "[1]"), {{"Content-Encoding", coding}});
  CHECK(r->status == 415);
  const auto message = json::parse(r->body)["error"].get<std::string>();
  CHECK(message.find("unsupported Content-Encoding '" + coding + "'") != std::string::npos);
  CHECK(message.find("gzip, deflate, br") != std::string::npos);
  CHECK(s.state() == 0);
}

TEST_CASE("Content-Encoding given twice is 415", "[http]") {
  Served s;
  auto r = post(s.port, s.complete_path(), body_for(s.idx(), "[1]"),
                {{"Content-Encoding", "identity"}, {"Content-Encoding", "identity"}});
  CHECK(r->status == 415);
  CHECK(s.state() == 0);
}

TEST_CASE("Content-Encoding names are case-insensitive; x-gzip is gzip and identity is none", "[http]") {
  Served s;
  const auto body = body_for(s.idx(), "[9, 8]");
  struct Case {
    std::string coding, body;
  };
  const auto c = GENERATE_COPY(values<Case>({
      {"GZIP", gzip(body)},
      {" gzip ", gzip(body)},
      {"x-gzip", gzip(body)},
      {"Br", brotli(body)},
      {"deflate", zlib_deflate(body)},
      {"identity", body},
      {"IDENTITY", body},
  }));
  INFO("Content-Encoding: '" << c.coding << "'");
  auto r = post(s.port, s.complete_path(), c.body, {{"Content-Encoding", c.coding}});
  CHECK(r->status == 200);
  CHECK(r->body == "true");
  std::vector<uint8_t> payload;
  REQUIRE(s.state(&payload) == 1);
  CHECK(payload == std::vector<uint8_t>{9, 8});
}

TEST_CASE("A compressed body with a wrong checksum or cut short is 400", "[http]") {
  Served s;
  const auto body = body_for(s.idx(), "[1]");
  auto gz = gzip(body);
  auto z = zlib_deflate(body);
  struct Case {
    std::string coding, body;
  };
  auto bad_crc = gz;
  bad_crc[bad_crc.size() - 8] ^= 1;  // the CRC-32
  auto bad_adler = z;
  bad_adler.back() ^= 1;  // the Adler-32
  const auto c = GENERATE_COPY(values<Case>({
      {"gzip", bad_crc},
      {"gzip", gz.substr(0, gz.size() - 4)},
      {"gzip", gz + "trailing"},
      {"deflate", bad_adler},
      {"br", brotli(body).substr(0, 3)},
  }));
  auto r = post(s.port, s.complete_path(), c.body, {{"Content-Encoding", c.coding}});
  require_errors_naming(r, "could not read the request body");
  CHECK(s.state() == 0);
}

TEST_CASE("A body that is not valid in its Content-Encoding is 400", "[http]") {
  Served s;
  const auto coding = GENERATE(as<std::string>{}, "gzip", "br", "deflate");
  auto r = post(s.port, s.complete_path(), body_for(s.idx(), "[1]"), {{"Content-Encoding", coding}});
  require_errors_naming(r, "could not read the request body");
  CHECK(s.state() == 0);
}

TEST_CASE("A Transfer-Encoding other than chunked is 501, answered at once", "[http]") {
  Served s;
  const auto coding = GENERATE(as<std::string>{}, "gzip, chunked", "gzip", "identity");
  INFO("Transfer-Encoding: " << coding);
  RawConnection c(s.port);
  REQUIRE(c.send("POST " + s.complete_path() + " HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: " + coding +
                 "\r\n\r\n" + body_for(s.idx(), "[1]")));
  const auto t0 = std::chrono::steady_clock::now();
  const auto answer = c.read_answer(std::chrono::seconds(10));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
  INFO(answer);
  CHECK(RawConnection::status_of(answer) == 501);
  CHECK(json::parse(RawConnection::body_of(answer))["error"].get<std::string>().find("only chunked") != std::string::npos);
  CHECK(s.state() == 0);
}

TEST_CASE("A chunked body under the limit is accepted", "[http]") {
  Served s;
  const auto body = body_for(s.idx(), "[10, 20, 30]");
  auto c = client_for(s.port);
  auto r = c->PostChunked(s.complete_path(), body, 5, "application/json");
  check_json(r);
  CHECK(r->status == 200);
  CHECK(r->body == "true");
}

TEST_CASE("Unknown paths are 404 with a JSON error, and the server survives them", "[http]") {
  Served s;
  const auto path = GENERATE_COPY(as<std::string>{}, "/", "/v1", "/v1/components",
                                  std::string("/v1/components/") + kComponent + "/workers/worker-1",
                                  std::string("/v1/components/") + kComponent + "/workers/worker-1/complete/",
                                  std::string("/v1/components/") + kComponent + "/workers/worker-1/complete/x",
                                  std::string("/v1/components/") + kComponent + "/workers//complete",
                                  std::string("/v2/components/") + kComponent + "/workers/worker-1/complete",
                                  "/healthz/", "/" + std::string(8000, 'a'),
                                  "/v1/components/" + std::string(8000, 'a') + "/workers/w/completed",
                                  "/v1/components/x/workers/" + std::string(8000, 'a') + "/promises/1/x");
  SECTION("POST") {
    auto r = post(s.port, path, body_for(s.idx(), "[1]"));
    CHECK(r->status == 404);
    CHECK(json::parse(r->body).contains("error"));
  }
  SECTION("GET") {
    auto r = get(s.port, path);
    CHECK(r->status == 404);
  }
  CHECK(s.state() == 0);
  CHECK(get(s.port, "/healthz")->status == 200);
}

TEST_CASE("A wrong method on a known path is 405 with an Allow header", "[http]") {
  Served s;
  auto c = client_for(s.port);
  SECTION("GET on complete") {
    auto r = c->Get(s.complete_path().c_str());
    check_json(r);
    CHECK(r->status == 405);
    CHECK(r->get_header_value("Allow") == "POST");
  }
  SECTION("PUT on complete") {
    auto r = c->Put(s.complete_path().c_str(), body_for(s.idx(), "[1]"), "application/json");
    check_json(r);
    CHECK(r->status == 405);
    CHECK(r->get_header_value("Allow") == "POST");
  }
  SECTION("DELETE on complete") {
    auto r = c->Delete(s.complete_path().c_str());
    check_json(r);
    CHECK(r->status == 405);
  }
  SECTION("POST on a promise") {
    auto r = c->Post(s.promise_path(s.idx()).c_str(), "{}", "application/json");
    check_json(r);
    CHECK(r->status == 405);
    CHECK(r->get_header_value("Allow") == "GET, HEAD");
  }
  SECTION("PATCH on /healthz") {
    auto r = c->Patch("/healthz", "{}", "application/json");
    check_json(r);
    CHECK(r->status == 405);
    CHECK(r->get_header_value("Allow") == "GET, HEAD");
  }
  CHECK(s.state() == 0);
}

// ---------------------------------------------------------------- authentication

TEST_CASE("With a token, requests without the right bearer token are 401", "[http][auth]") {
  Served s("s3cret-token");
  const auto body = body_for(s.idx(), "[1]");
  SECTION("missing") {
    auto r = post(s.port, s.complete_path(), body);
    CHECK(r->status == 401);
    CHECK(r->get_header_value("WWW-Authenticate").rfind("Bearer", 0) == 0);
    CHECK(json::parse(r->body).contains("error"));
  }
  SECTION("wrong") {
    auto r = post(s.port, s.complete_path(), body, {{"Authorization", "Bearer s3cret-tokeX"}});
    CHECK(r->status == 401);
    CHECK(r->get_header_value("WWW-Authenticate").find("invalid_token") != std::string::npos);
  }
  SECTION("a prefix of the token") {
    auto r = post(s.port, s.complete_path(), body, {{"Authorization", "Bearer s3cret"}});
    CHECK(r->status == 401);
  }
  SECTION("token plus more") {
    auto r = post(s.port, s.complete_path(), body, {{"Authorization", "Bearer s3cret-token2"}});
    CHECK(r->status == 401);
  }
  SECTION("another scheme") {
    auto r = post(s.port, s.complete_path(), body, {{"Authorization", "Basic s3cret-token"}});
    CHECK(r->status == 401);
  }
  SECTION("the token without a scheme") {
    auto r = post(s.port, s.complete_path(), body, {{"Authorization", "s3cret-token"}});
    CHECK(r->status == 401);
  }
  SECTION("unknown path: 401 before 404") {
    auto r = get(s.port, "/nowhere");
    CHECK(r->status == 401);
  }
  SECTION("GET extension and health need it too") {
    CHECK(get(s.port, s.promise_path(s.idx()))->status == 401);
    CHECK(get(s.port, "/healthz")->status == 401);
  }
  CHECK(s.state() == 0);
}

TEST_CASE("With a token, the right bearer token is accepted", "[http][auth]") {
  Served s("s3cret-token");
  const auto scheme = GENERATE(as<std::string>{}, "Bearer ", "bearer ", "BEARER  ");
  auto r = post(s.port, s.complete_path(), body_for(s.idx(), "[1]"), {{"Authorization", scheme + "s3cret-token"}});
  CHECK(r->status == 200);
  CHECK(r->body == "true");
  CHECK(get(s.port, "/healthz", {{"Authorization", "Bearer s3cret-token"}})->status == 200);
}

// ---------------------------------------------------------------- the GET extension

TEST_CASE("GET promise answers pending, then completed with the payload", "[http][get]") {
  Served s;
  auto r = get(s.port, s.promise_path(s.idx()));
  CHECK(r->status == 200);
  CHECK(json::parse(r->body) == json{{"state", "pending"}});

  REQUIRE(post(s.port, s.complete_path(), body_for(s.idx(), "[0, 128, 255]"))->body == "true");
  r = get(s.port, s.promise_path(s.idx()));
  CHECK(r->status == 200);
  CHECK(json::parse(r->body) == json{{"state", "completed"}, {"data", {0, 128, 255}}});
}

TEST_CASE("GET promise of a gone promise is 404 with the PromiseNotFound body", "[http][get]") {
  Served s;
  GP_REQUIRE_OK(gp_host_delete_promise(s.host, &s.promise));
  for (const uint64_t idx : {s.idx(), uint64_t{12345}}) {
    auto r = get(s.port, s.promise_path(idx));
    CHECK(r->status == 404);
    const auto j = json::parse(r->body);
    CHECK(j["golemError"]["type"] == "PromiseNotFound");
    CHECK(j["golemError"]["promiseId"]["oplogIdx"] == idx);
    CHECK(j["golemError"]["promiseId"]["workerId"]["workerName"] == s.worker_name);
  }
}

TEST_CASE("GET promise with a bad index, name or worker is 400 or 404", "[http][get]") {
  Served s;
  for (const char* idx : {"abc", "-1", "-0", "18446744073709551616", "1.0", "+1", "0x10"}) {
    INFO(idx);
    require_errors_naming(get(s.port, s.base() + "/promises/" + idx), "invalid oplog index");
  }
  require_errors_naming(get(s.port, std::string("/v1/components/") + kComponent + "/workers/bad.name/promises/1"),
                        "invalid worker name");
  auto r = get(s.port, std::string("/v1/components/") + kComponent + "/workers/nobody/promises/1");
  CHECK(r->status == 404);
  CHECK(json::parse(r->body).contains("error"));
}

TEST_CASE("HEAD on a GET route answers its status without a body; /healthz is 200", "[http][get]") {
  Served s;
  auto c = client_for(s.port);
  auto r = c->Head(s.promise_path(s.idx()).c_str());
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body.empty());
  auto h = get(s.port, "/healthz");
  CHECK(h->status == 200);
  CHECK(json::parse(h->body) == json{{"status", "ok"}});
}

// ---------------------------------------------------------------- effects

TEST_CASE("An await on another thread is woken by an HTTP completion", "[http][await]") {
  Served s;
  std::atomic<int> rc{1};
  std::vector<uint8_t> got;
  std::thread waiter([&] {
    gp_bytes_t out{};
    rc = gp_host_await_promise(&out, s.host, &s.promise, 20000);
    if (rc == GP_OK) got.assign(out.data, out.data + out.len);
    gp_bytes_free(&out);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto t0 = std::chrono::steady_clock::now();
  auto r = post(s.port, s.complete_path(), body_for(s.idx(), "[104, 105]"));
  waiter.join();
  const auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(r->body == "true");
  CHECK(rc == GP_OK);
  CHECK(got == std::vector<uint8_t>{104, 105});
  CHECK(waited < std::chrono::seconds(5));
}

TEST_CASE("The worker that created the promise is woken by an HTTP completion", "[http][await]") {
  Served s;
  std::atomic<int> rc{1};
  std::thread waiter([&] {
    gp_bytes_t out{};
    rc = gp_worker_await_promise(&out, s.worker, &s.promise, 20000);
    gp_bytes_free(&out);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(post(s.port, s.complete_path(), body_for(s.idx(), "[1]"))->body == "true");
  waiter.join();
  CHECK(rc == GP_OK);
}

TEST_CASE("An HTTP completion on a file host is durable before the 200", "[http][file]") {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("gp-http-" + std::to_string(::getpid()) + "-" +
                    std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "host.db").string();
  {
    Served s(nullptr, 0, path.c_str());
    auto r = post(s.port, s.complete_path(), body_for(s.idx(), "[42]"));
    REQUIRE(r->body == "true");
    // A second, independent connection to the same file sees it at once.
    gp_host* other = nullptr;
    GP_REQUIRE_OK(gp_host_open(&other, path.c_str(), nullptr));
    gp_bytes_t out{};
    int ready = 0;
    GP_REQUIRE_OK(gp_host_poll_promise(&out, &ready, other, &s.promise));
    CHECK(ready == 1);
    CHECK((out.len == 1 && out.data[0] == 42));
    gp_bytes_free(&out);
    gp_host_close(&other);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_CASE("Concurrent HTTP completions of one promise: exactly one gets true", "[http][concurrency]") {
  Served s;
  constexpr int kClients = 8;
  std::atomic<int> trues{0}, falses{0}, others{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      auto c = client_for(s.port);
      auto r = c->Post(s.complete_path().c_str(), body_for(s.idx(), "[" + std::to_string(i) + "]"), "application/json");
      if (r && r->status == 200 && r->body == "true") {
        ++trues;
      } else if (r && r->status == 200 && r->body == "false") {
        ++falses;
      } else {
        ++others;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(trues == 1);
  CHECK(falses == kClients - 1);
  CHECK(others == 0);
}

TEST_CASE("One keep-alive connection serves many requests, errors included", "[http]") {
  Served s;
  auto c = client_for(s.port);
  c->set_keep_alive(true);
  for (int i = 0; i < 3; ++i) {
    auto bad = c->Post(s.complete_path().c_str(), "{\"oplogIdx\": 1}", "application/json");
    check_json(bad);
    CHECK(bad->status == 400);
    auto missing = c->Get("/nowhere");
    check_json(missing);
    CHECK(missing->status == 404);
  }
  auto r = c->Post(s.complete_path().c_str(), body_for(s.idx(), "[1]"), "application/json");
  check_json(r);
  CHECK(r->body == "true");
}

TEST_CASE("A Range header does not cut a JSON answer", "[http]") {
  Served s;
  auto r = post(s.port, s.complete_path(), body_for(s.idx(), "[1]"), {{"Range", "bytes=0-1"}});
  CHECK(r->status == 200);
  CHECK(r->body == "true");
  auto g = get(s.port, s.promise_path(s.idx()), {{"Range", "bytes=1-2"}});
  CHECK(g->status == 200);
  CHECK(json::parse(g->body)["state"] == "completed");
}

TEST_CASE("The server keeps its host open after gp_host_close", "[http]") {
  Served s;
  gp_host_close(&s.host);
  auto r = post(s.port, s.complete_path(), body_for(s.idx(), "[3]"));
  CHECK(r->body == "true");
  r = post(s.port, s.complete_path(), body_for(s.idx(), "[4]"));
  CHECK(r->body == "false");
}

// ---------------------------------------------------------------- the C ABI

TEST_CASE("gp_server_url and gp_server_port describe the listening socket", "[http][capi]") {
  Served s;
  CHECK(s.port != 0);
  char url[GP_SERVER_URL_SIZE];
  GP_REQUIRE_OK(gp_server_url(url, sizeof url, s.server));
  CHECK(std::string(url) == "http://127.0.0.1:" + std::to_string(s.port));
  char tiny[8];
  CHECK(gp_server_url(tiny, sizeof tiny, s.server) == GP_EINVAL);
  CHECK(gp_server_url(nullptr, 10, s.server) == GP_EINVAL);
  uint16_t port = 0;
  CHECK(gp_server_port(&port, nullptr) == GP_EINVAL);
  CHECK(gp_server_port(nullptr, s.server) == GP_EINVAL);
}

TEST_CASE("gp_server_start rejects bad arguments and options with GP_EINVAL", "[http][capi]") {
  gp_host* host = nullptr;
  GP_REQUIRE_OK(gp_host_open(&host, ":memory:", nullptr));
  gp_server* server = reinterpret_cast<gp_server*>(0x1);
  CHECK(gp_server_start(&server, nullptr, nullptr) == GP_EINVAL);
  CHECK(server == nullptr);
  CHECK(gp_server_start(nullptr, host, nullptr) == GP_EINVAL);
  gp_server_options_t opts = server_options();
  SECTION("version") { opts.version = 99; }
  SECTION("negative threads") { opts.threads = -1; }
  SECTION("too many threads") { opts.threads = 100000; }
  SECTION("token with a space") { opts.token = "two words"; }
  SECTION("empty address") { opts.address = ""; }
  CHECK(gp_server_start(&server, host, &opts) == GP_EINVAL);
  CHECK(server == nullptr);
  CHECK(std::strlen(gp_last_error_message()) > 0);
  gp_host_close(&host);
}

TEST_CASE("gp_server_start gives GP_ELISTEN when the port is taken or the address is bad", "[http][capi]") {
  Served s;
  gp_server* second = nullptr;
  gp_server_options_t opts = server_options();
  SECTION("port in use") { opts.port = s.port; }
  SECTION("not an address") { opts.address = "no-such-host.invalid"; }
  SECTION("address not on this machine") { opts.address = "192.0.2.1"; }
  CHECK(gp_server_start(&second, s.host, &opts) == GP_ELISTEN);
  CHECK(second == nullptr);
  CHECK(std::string(gp_last_error_message()).find("cannot listen on") != std::string::npos);
  // The first server is unaffected.
  CHECK(get(s.port, "/healthz")->status == 200);
}

TEST_CASE("gp_server_start with defaults listens on 127.0.0.1 and a fixed port can be reused after stop", "[http][capi]") {
  gp_host* host = nullptr;
  GP_REQUIRE_OK(gp_host_open(&host, ":memory:", nullptr));
  gp_server* server = nullptr;
  GP_REQUIRE_OK(gp_server_start(&server, host, nullptr));
  uint16_t port = 0;
  GP_REQUIRE_OK(gp_server_port(&port, server));
  CHECK(get(port, "/healthz")->status == 200);
  gp_server_stop(&server);
  CHECK(server == nullptr);

  gp_server_options_t opts = server_options();
  opts.port = port;
  opts.threads = 1;
  GP_REQUIRE_OK(gp_server_start(&server, host, &opts));
  CHECK(get(port, "/healthz")->status == 200);
  gp_server_stop(&server);
  gp_server_stop(&server);  // NULL handle: no-op
  gp_server_stop(nullptr);
  gp_host_close(&host);
}

TEST_CASE("Stopping a server with an open idle connection returns promptly", "[http][capi]") {
  gp_host* host = nullptr;
  GP_REQUIRE_OK(gp_host_open(&host, ":memory:", nullptr));
  gp_server* server = nullptr;
  GP_REQUIRE_OK(gp_server_start(&server, host, nullptr));
  uint16_t port = 0;
  GP_REQUIRE_OK(gp_server_port(&port, server));
  auto c = client_for(port);
  c->set_keep_alive(true);
  REQUIRE(c->Get("/healthz")->status == 200);
  const auto t0 = std::chrono::steady_clock::now();
  gp_server_stop(&server);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(4));
  gp_host_close(&host);
}
