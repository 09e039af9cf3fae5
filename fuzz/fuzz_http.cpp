// Fuzz target: HTTP request handling.  The input's bytes are sent on one connection to a real
// server (loopback) over an in-memory host whose worker has four pending promises (oplog indices
// 2 to 5); then the client closes its sending side and reads every answer.
// Invariants: every answer is a well-formed HTTP/1.1 response with a JSON body; no refused
// request changes the store: each completion stored was answered 200 "true" (when the connection
// ended cleanly, exactly as many as there are such answers), and nothing else completed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "golem_promise.h"

namespace {

const char* const kComponent = "f022f022-0000-4000-8000-00000000f022";

[[noreturn]] void broken(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_http: invariant broken: %s\n%s\n", what, detail.c_str());
  std::abort();
}

struct Served {
  gp_host* host = nullptr;
  gp_worker* worker = nullptr;
  gp_server* server = nullptr;
  std::uint16_t port = 0;
  gp_promise_id_t promises[4]{};

  Served() {
    if (gp_host_open(&host, ":memory:", nullptr) != GP_OK) broken("host opens", gp_last_error_message());
    gp_uuid_t component{};
    gp_uuid_parse(&component, kComponent);
    gp_worker_id_t wid{};
    gp_worker_id_make(&wid, &component, "w");
    gp_worker_open(&worker, host, &wid);
    for (auto& p : promises) gp_worker_create_promise(&p, worker);
    gp_server_options_t opts{};
    opts.version = GP_SERVER_OPTIONS_VERSION;
    opts.max_body_bytes = 4096;
    opts.request_timeout_ms = 500;
    opts.idle_timeout_ms = 500;
    if (gp_server_start(&server, host, &opts) != GP_OK) broken("server starts", gp_last_error_message());
    gp_server_port(&port, server);
  }
  ~Served() {
    gp_server_stop(&server);
    gp_worker_close(&worker);
    gp_host_close(&host);
  }
  int completed() const {
    int n = 0;
    for (const auto& p : promises) {
      gp_bytes_t out{};
      int ready = 0;
      if (gp_host_poll_promise(&out, &ready, host, &p) == GP_OK && ready) ++n;
      gp_bytes_free(&out);
    }
    return n;
  }
};

// Sends data, closes the sending side, reads until the server closes (or 3 s).  *clean is false
// when the connection was reset (answers may then be missing).
std::string exchange(std::uint16_t port, const std::uint8_t* data, std::size_t size, bool* clean) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) broken("connects", std::strerror(errno));
  *clean = true;
  std::size_t sent = 0;
  while (sent < size) {
    const auto n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      *clean = false;  // the server closed before taking it all
      break;
    }
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) broken("the server closes the connection in time", out);
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[4096];
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0) *clean = false;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Served s;
  bool clean = true;
  const std::string answers = exchange(s.port, data, size, &clean);

  // Parse the answers: status line, headers, Content-Length bytes of JSON body.
  int trues = 0;
  std::size_t at = 0;
  while (at < answers.size()) {
    const auto head_end = answers.find("\r\n\r\n", at);
    if (head_end == std::string::npos) {
      if (clean) broken("answers are whole", answers.substr(at));
      break;
    }
    const std::string head = answers.substr(at, head_end - at);
    if (head.rfind("HTTP/1.1 ", 0) != 0 || head.size() < 12) broken("an answer starts with a status line", head);
    const int status = std::atoi(head.c_str() + 9);
    at = head_end + 4;
    if (status == 100) continue;
    const auto cl = head.find("\r\nContent-Length: ");
    if (cl == std::string::npos) broken("every answer has a Content-Length", head);
    const auto length = std::strtoull(head.c_str() + cl + 18, nullptr, 10);
    if (head.find("\r\nContent-Type: application/json") == std::string::npos) broken("every answer is JSON", head);
    // A HEAD answer has a Content-Length but no body: the next status line follows at once
    // (a JSON body never starts with one).
    if (length > 0 && (at == answers.size() || answers.compare(at, 9, "HTTP/1.1 ") == 0)) continue;
    if (at + length > answers.size()) {
      if (clean) broken("answers are whole", answers.substr(at));
      break;
    }
    const std::string body = answers.substr(at, length);
    if (!body.empty() && !nlohmann::json::accept(body)) broken("a body is JSON", body);
    at += length;
    if (status == 200 && body == "true") ++trues;
  }
  const int completed = s.completed();
  if (completed < trues) broken("every 200 true is a stored completion", answers);
  if (clean && completed != trues) broken("no refused request changes the store", answers);
  return 0;
}
