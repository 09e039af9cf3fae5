// Slow, silent and oversized clients (docs/http.md, "Slow clients and stopping"): each request
// must arrive within the request timeout however its bytes are spaced, idle connections are
// closed after the idle timeout, and stopping the server waits for no client.
#include <atomic>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "golem_promise.h"
#include "support.hpp"

using namespace gp_http_test;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// A server over a host with one pending promise, with the given timeouts and threads (0 = default).
struct LimitedServer : Served {
  LimitedServer(int32_t request_timeout_ms, int32_t idle_timeout_ms, int32_t threads = 0)
      : Served(limits(request_timeout_ms, idle_timeout_ms, threads)) {}
  static gp_server_options_t limits(int32_t request_timeout_ms, int32_t idle_timeout_ms, int32_t threads) {
    gp_server_options_t opts = server_options();
    opts.request_timeout_ms = request_timeout_ms;
    opts.idle_timeout_ms = idle_timeout_ms;
    opts.threads = threads;
    return opts;
  }

  std::string complete_body() const { return body_for(promise.oplog_idx, "[1]"); }
  std::string post_head(std::size_t length) const {
    return "POST " + complete_path() + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + std::to_string(length) +
           "\r\n\r\n";
  }
};

// A new client's GET /healthz is answered 200 within `seconds`.
void health_answered_within(uint16_t port, double seconds) {
  const auto t0 = Clock::now();
  auto c = client_for(port);
  auto r = c->Get("/healthz");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(seconds_since(t0) < seconds);
}

// A client that sends `first`, then one more header line every `every` until stopped, the server
// closes the connection, or `for_at_most` has passed.
class Trickler {
 public:
  Trickler(uint16_t port, std::string first, milliseconds every, milliseconds for_at_most = milliseconds(30000))
      : conn_(port), thread_([this, first, every, for_at_most] {
          const auto until = Clock::now() + for_at_most;
          if (!conn_.send(first)) return;
          for (int i = 0; !stop_ && Clock::now() < until; ++i) {
            std::this_thread::sleep_for(every);
            if (!conn_.send("X-Slow-" + std::to_string(i) + ": 1\r\n")) break;
          }
        }) {}
  ~Trickler() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  RawConnection& connection() { return conn_; }

 private:
  RawConnection conn_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

TEST_CASE("A request trickled a header line at a time is answered 408 at the request timeout and closed", "[http][limits]") {
  LimitedServer s(1000, 5000);
  const auto t0 = Clock::now();
  Trickler slow(s.port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n", milliseconds(100));
  bool closed = false;
  const auto answer = slow.connection().read_until_closed(milliseconds(8000), &closed);
  const double took = seconds_since(t0);
  INFO(answer);
  CHECK(closed);
  CHECK(took >= 0.9);
  CHECK(took < 4.0);  // 1 s, not reset by each line
  CHECK(RawConnection::status_of(answer) == 408);
  CHECK(json::parse(RawConnection::body_of(answer))["error"].get<std::string>().find("within 1000 ms") != std::string::npos);
}

TEST_CASE("A request body trickled a byte at a time is answered 408 at the request timeout", "[http][limits]") {
  LimitedServer s(1000, 5000);
  RawConnection c(s.port);
  const auto body = s.complete_body();
  REQUIRE(c.send(s.post_head(body.size())));
  const auto t0 = Clock::now();
  std::string answer;
  for (std::size_t i = 0; i + 1 < body.size() && answer.empty(); ++i) {
    if (!c.send(body.substr(i, 1))) break;
    answer = c.read_answer(milliseconds(150));
  }
  if (answer.empty()) answer = c.read_answer(milliseconds(5000));
  INFO(answer);
  CHECK(seconds_since(t0) < 4.0);
  CHECK(RawConnection::status_of(answer) == 408);
  int ready = -1;
  gp_bytes_t bytes{};
  GP_REQUIRE_OK(gp_host_poll_promise(&bytes, &ready, s.host, &s.promise));
  CHECK(ready == 0);  // nothing completed
}

TEST_CASE("A request that stops halfway is answered 408 at the request timeout", "[http][limits]") {
  LimitedServer s(800, 5000);
  const auto part = GENERATE(std::string("GET /heal"), std::string("GET /healthz HTTP/1.1\r\nHost: x"),
                             std::string("POST /v1/components/") + kComponent +
                                 "/workers/worker-1/complete HTTP/1.1\r\nContent-Length: 30\r\n\r\n{\"oplogIdx\"");
  INFO(part);
  RawConnection c(s.port);
  REQUIRE(c.send(part));
  const auto t0 = Clock::now();
  bool closed = false;
  const auto answer = c.read_until_closed(milliseconds(8000), &closed);
  CHECK(closed);
  CHECK(seconds_since(t0) < 4.0);
  // Without its request line the request cannot be answered: the connection is just closed.
  CHECK(RawConnection::status_of(answer) == (part == "GET /heal" ? 0 : 408));
}

TEST_CASE("Silent and idle keep-alive connections are closed after the idle timeout", "[http][limits]") {
  LimitedServer s(5000, 300);
  RawConnection silent(s.port);
  RawConnection used(s.port);
  REQUIRE(used.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  const auto t0 = Clock::now();
  CHECK(RawConnection::status_of(used.read_answer(milliseconds(5000))) == 200);
  bool closed = false;
  used.read_until_closed(milliseconds(5000), &closed);
  CHECK(closed);
  silent.read_until_closed(milliseconds(5000), &closed);
  CHECK(closed);
  CHECK(seconds_since(t0) < 3.0);
}

TEST_CASE("Quiet and trickling connections do not hold up a new request past the request timeout", "[http][limits]") {
  SECTION("more such connections than the default of 8 threads had") {
    // Defaults: 10 s request timeout, 64 threads.  Nine stalled or trickling clients take nine
    // threads; the next request is answered at once.
    LimitedServer s(0, 0);
    std::vector<std::unique_ptr<RawConnection>> quiet;
    std::vector<std::unique_ptr<Trickler>> slow;
    for (int i = 0; i < 5; ++i) {
      quiet.push_back(std::make_unique<RawConnection>(s.port));
      REQUIRE(quiet.back()->send("POST " + s.complete_path() + " HTTP/1.1\r\nContent-Len"));
      slow.push_back(std::make_unique<Trickler>(s.port, "GET /healthz HTTP/1.1\r\n", milliseconds(500)));
    }
    std::this_thread::sleep_for(milliseconds(200));
    health_answered_within(s.port, 1.5);
    for (auto& t : slow) t->stop();
  }
  SECTION("every thread taken: the new request waits at most about one request timeout") {
    LimitedServer s(1000, 5000, 2);
    Trickler a(s.port, "GET /healthz HTTP/1.1\r\n", milliseconds(100));
    RawConnection b(s.port);
    REQUIRE(b.send("GET /heal"));
    std::this_thread::sleep_for(milliseconds(200));
    health_answered_within(s.port, 3.5);
  }
}

TEST_CASE("Request line and headers over 64 KiB are 431 and the connection is closed", "[http][limits]") {
  LimitedServer s(5000, 5000);
  RawConnection c(s.port);
  c.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  for (int i = 0; i < 80; ++i) c.send("X-Filler-" + std::to_string(i) + ": " + std::string(1000, 'a') + "\r\n");
  c.send("\r\n");
  bool closed = false;
  const auto answer = c.read_until_closed(milliseconds(5000), &closed);
  INFO(answer.substr(0, 300));
  CHECK(RawConnection::status_of(answer) == 431);
  CHECK(closed);
  // Under the limit is fine (header lines of up to 8 KiB each).
  RawConnection ok(s.port);
  std::string headers;
  for (int i = 0; i < 7; ++i) headers += "X-Big-" + std::to_string(i) + ": " + std::string(8000, 'b') + "\r\n";
  ok.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "\r\n");
  CHECK(RawConnection::status_of(ok.read_answer(milliseconds(5000))) == 200);
}

TEST_CASE("An answer given without reading the body closes the connection", "[http][limits]") {
  LimitedServer s(5000, 5000);
  RawConnection c(s.port);
  const auto body = s.complete_body();
  // A path with no such worker: 404 before the body is read.
  REQUIRE(c.send("POST /v1/components/" + std::string(kComponent) + "/workers/nobody/nothing HTTP/1.1\r\n"
                 "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body));
  const auto t0 = Clock::now();
  const auto answer = c.read_answer(milliseconds(5000));
  CHECK(RawConnection::status_of(answer) == 404);
  CHECK(answer.find("Connection: close") != std::string::npos);
  bool closed = false;
  c.read_until_closed(milliseconds(5000), &closed);
  CHECK(closed);
  CHECK(seconds_since(t0) < 2.0);
}

TEST_CASE("Stopping the server waits for no client", "[http][limits][capi]") {
  // Defaults (10 s request timeout, 2 s idle timeout): stop must not wait for any of them.
  LimitedServer s(0, 0);
  Trickler trickling(s.port, "GET /healthz HTTP/1.1\r\n", milliseconds(100), milliseconds(20000));
  RawConnection half_post(s.port);
  const auto body = s.complete_body();
  REQUIRE(half_post.send(s.post_head(body.size()) + body.substr(0, 5)));
  RawConnection silent(s.port);
  auto kept = client_for(s.port);
  kept->set_keep_alive(true);
  REQUIRE(kept->Get("/healthz")->status == 200);  // and now idle
  std::this_thread::sleep_for(milliseconds(300));

  const auto t0 = Clock::now();
  gp_server_stop(&s.server);
  const double took = seconds_since(t0);
  CHECK(took < 0.75);
  CHECK(s.server == nullptr);

  // The half-sent POST was cut short: 503 (or just closed), and nothing completed.
  bool closed = false;
  const auto answer = half_post.read_until_closed(milliseconds(2000), &closed);
  CHECK(closed);
  if (!answer.empty()) CHECK(RawConnection::status_of(answer) == 503);
  int ready = -1;
  gp_bytes_t bytes{};
  GP_REQUIRE_OK(gp_host_poll_promise(&bytes, &ready, s.host, &s.promise));
  CHECK(ready == 0);
  silent.read_until_closed(milliseconds(2000), &closed);
  CHECK(closed);
  trickling.connection().read_until_closed(milliseconds(2000), &closed);
  CHECK(closed);
}

TEST_CASE("gp_server_start checks the timeouts; a version-1 options struct leaves them at their defaults", "[http][limits][capi]") {
  gp_host* host = nullptr;
  GP_REQUIRE_OK(gp_host_open(&host, ":memory:", nullptr));
  gp_server* server = nullptr;
  gp_server_options_t opts = server_options();
  SECTION("negative request timeout") { opts.request_timeout_ms = -1; }
  SECTION("negative idle timeout") { opts.idle_timeout_ms = -1; }
  SECTION("request timeout over an hour") { opts.request_timeout_ms = 3600001; }
  SECTION("idle timeout over an hour") { opts.idle_timeout_ms = 3600001; }
  CHECK(gp_server_start(&server, host, &opts) == GP_EINVAL);
  CHECK(server == nullptr);
  CHECK(std::string(gp_last_error_message()).find("timeout_ms") != std::string::npos);

  opts.version = 1;  // the fields after `threads` are not read
  GP_REQUIRE_OK(gp_server_start(&server, host, &opts));
  gp_server_stop(&server);
  gp_host_close(&host);
}
