// Helpers of the HTTP endpoint's tests: a served host, an HTTP client (client.hpp), and a raw
// socket client for requests a client library would not send (partial, trickled, malformed).
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <memory>
#include <string_view>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "client.hpp"
#include "golem_promise.h"

namespace gp_http_test {

using json = nlohmann::json;

#define GP_REQUIRE_OK(call)                                                     \
  do {                                                                          \
    const int gp_rc_ = (call);                                                  \
    INFO(#call << " -> " << gp_rc_ << " " << gp_last_error_message());          \
    REQUIRE(gp_rc_ == GP_OK);                                                   \
  } while (0)

inline gp_server_options_t server_options() {
  gp_server_options_t opts{};
  opts.version = GP_SERVER_OPTIONS_VERSION;
  return opts;
}

inline const char* const kComponent = "0b5c6a1e-2f3d-4c5b-8a9e-123456789abc";

// A host with one worker and one pending promise, served over HTTP.
struct Served {
  gp_host* host = nullptr;
  gp_worker* worker = nullptr;
  gp_promise_id_t promise{};
  gp_server* server = nullptr;
  uint16_t port = 0;
  std::string worker_name = "worker-1";

  explicit Served(const char* token = nullptr, uint64_t max_body = 0, const char* path = ":memory:")
      : Served(with_token(token, max_body), path) {}
  // Served with these server options (token, limits, timeouts, threads).
  explicit Served(const gp_server_options_t& opts, const char* path = ":memory:") {
    GP_REQUIRE_OK(gp_host_open(&host, path, nullptr));
    gp_uuid_t component{};
    GP_REQUIRE_OK(gp_uuid_parse(&component, kComponent));
    gp_worker_id_t wid{};
    GP_REQUIRE_OK(gp_worker_id_make(&wid, &component, worker_name.c_str()));
    GP_REQUIRE_OK(gp_worker_open(&worker, host, &wid));
    GP_REQUIRE_OK(gp_worker_create_promise(&promise, worker));
    GP_REQUIRE_OK(gp_server_start(&server, host, &opts));
    GP_REQUIRE_OK(gp_server_port(&port, server));
  }
  ~Served() {
    gp_server_stop(&server);
    gp_worker_close(&worker);
    gp_host_close(&host);
  }
  Served(const Served&) = delete;
  Served& operator=(const Served&) = delete;

  static gp_server_options_t with_token(const char* token, uint64_t max_body) {
    gp_server_options_t opts = server_options();
    opts.token = token;
    opts.max_body_bytes = max_body;
    return opts;
  }

  std::string base() const { return std::string("/v1/components/") + kComponent + "/workers/" + worker_name; }
  std::string complete_path() const { return base() + "/complete"; }
  std::string promise_path(uint64_t idx) const { return base() + "/promises/" + std::to_string(idx); }
  uint64_t idx() const { return promise.oplog_idx; }

  // The promise's state through the C ABI: -1 gone, 0 pending, 1 completed (payload in *out).
  int state(std::vector<uint8_t>* out = nullptr) const {
    gp_bytes_t bytes{};
    int ready = 0;
    const int rc = gp_host_poll_promise(&bytes, &ready, host, &promise);
    if (rc == GP_ENOTFOUND) return -1;
    REQUIRE(rc == GP_OK);
    if (out) out->assign(bytes.data, bytes.data + bytes.len);
    gp_bytes_free(&bytes);
    return ready;
  }
};

inline std::unique_ptr<Client> client_for(uint16_t port) { return std::make_unique<Client>("127.0.0.1", port); }

// Every answer is JSON.
inline void check_json(const Result& r) {
  INFO(r.error());
  REQUIRE(r);
  INFO("status " << r->status << " body " << r->body);
  CHECK(r->get_header_value("Content-Type") == "application/json");
  if (!r->body.empty()) CHECK(json::accept(r->body));
}

inline Result post(uint16_t port, const std::string& path, const std::string& body, const Headers& headers = {}) {
  auto c = client_for(port);
  auto r = c->Post(path, headers, body, "application/json");
  check_json(r);
  return r;
}

inline Result get(uint16_t port, const std::string& path, const Headers& headers = {}) {
  auto c = client_for(port);
  auto r = c->Get(path, headers);
  check_json(r);
  return r;
}

inline std::string body_for(uint64_t idx, const std::string& data) {
  return "{\"oplogIdx\": " + std::to_string(idx) + ", \"data\": " + data + "}";
}

inline void require_errors_naming(const Result& r, const std::string& needle) {
  REQUIRE(r->status == 400);
  const auto j = json::parse(r->body);
  REQUIRE(j.contains("errors"));
  REQUIRE(j["errors"].is_array());
  REQUIRE(j["errors"].size() == 1);
  INFO(j.dump());
  CHECK(j["errors"][0].get<std::string>().find(needle) != std::string::npos);
}

// One TCP connection to 127.0.0.1:port driven byte by byte, for requests Client does not
// send: partial, trickled, or with headers it would rewrite.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~RawConnection() { ::close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Sends all of bytes; false once the server has closed the connection.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // What the server sends until it closes the connection or `timeout` passes, whichever is first;
  // *closed (if given) tells which.
  std::string read_until_closed(std::chrono::milliseconds timeout, bool* closed = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string out;
    Read r;
    while ((r = read_more(deadline, out)) == Read::some) {}
    if (closed) *closed = r == Read::closed;
    return out;
  }

  // One answer: what the server sends until its headers and Content-Length bytes of body have
  // arrived, it closes the connection, or `timeout` passes.
  std::string read_answer(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string out;
    for (;;) {
      const auto end = out.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::size_t length = 0;
        const auto at = out.find("Content-Length: ");
        if (at != std::string::npos && at < end) length = std::stoul(out.substr(at + 16));
        if (out.size() >= end + 4 + length) return out;
      }
      if (read_more(deadline, out) != Read::some) return out;
    }
  }

  // Appends what arrives by deadline to out: some bytes, or the connection closed, or nothing
  // before the deadline.
  enum class Read { some, closed, timed_out };
  Read read_more(std::chrono::steady_clock::time_point deadline, std::string& out) {
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return Read::timed_out;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return Read::closed;
      out.append(buf, static_cast<std::size_t>(n));
      return Read::some;
    }
  }

  // The status code of the first answer in text ("HTTP/1.1 415 ..."), or 0.
  static int status_of(const std::string& text) {
    if (text.rfind("HTTP/1.1 ", 0) != 0 || text.size() < 12) return 0;
    return std::stoi(text.substr(9, 3));
  }
  // The body of the first answer in text (everything after the blank line).
  static std::string body_of(const std::string& text) {
    const auto p = text.find("\r\n\r\n");
    return p == std::string::npos ? std::string() : text.substr(p + 4);
  }

 private:
  int fd_;
};

}  // namespace gp_http_test
