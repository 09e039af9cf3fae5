// How the HTTP server holds its clients' connections, under cpp-httplib's request parsing:
//
// - a request must arrive whole (request line, headers, body) within request_timeout of its first
//   byte, however the client spaces its bytes, and its answer must be taken within the same time;
// - a connection waits at most idle_timeout for the first byte of its next request;
// - request line and headers together are at most kMaxHeaderBytes;
// - threads are started as connections need them, up to a maximum;
// - stop wakes every connection at once: none waits for its client after that.
//
// httplib's own connection loop bounds each read (5 s) but not a request, so a client sending a
// byte every few seconds held a thread, and with it Server::stop, for as long as it liked.  Here
// httplib still parses every request (Server::process_request); this class owns the socket: the
// loop between requests and a Stream whose reads and writes carry the deadlines and watch the
// stop signal.  Linux only (eventfd), as the rest of the core.
#pragma once
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gp {

struct ConnectionLimits {
  std::chrono::milliseconds idle_timeout{2000};
  std::chrono::milliseconds request_timeout{10000};
  std::size_t max_requests = 1000;  // per connection, then it is closed after the answer
  std::size_t threads = 64;         // most connections served at once; more wait their turn
};

// Request line and headers together; more is answered 431 (or the connection is closed, for a
// request line alone this long).
constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

// Why reading the current request stopped short, for the handler that answers it.
enum class ReadFailure { none, timed_out, stopping, headers_too_large };

class ConnectionServer final : public httplib::Server {
 public:
  explicit ConnectionServer(const ConnectionLimits& limits);
  ~ConnectionServer() override;
  ConnectionServer(const ConnectionServer&) = delete;
  ConnectionServer& operator=(const ConnectionServer&) = delete;

  // Wakes every connection and closes the listening socket: a request being read is cut short,
  // an answer the client does not take is abandoned, an answer already computed is still sent
  // if the client takes it, and no connection waits for another request.  listen_after_bind()
  // returns once every thread is joined.  Idempotent; call it from outside the server's threads.
  void stop_now();
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

  // For handlers, about the request the calling thread is answering (no-ops elsewhere):
  static void headers_read();           // the headers are in; the body does not count against kMaxHeaderBytes
  static bool routed();                 // headers_read() was called for this request: it reached routing
  static void close_after_answer();     // close the connection once this answer is written
  static ReadFailure read_failure();    // why a read of this request failed, if one did

  const ConnectionLimits& limits() const { return limits_; }

 private:
  class Connection;
  bool process_and_close_socket(socket_t sock) override;
  static thread_local Connection* current_;  // the connection this server thread serves

  const ConnectionLimits limits_;
  int wake_fd_ = -1;  // eventfd, readable from stop_now() on: a level that every poll sees
  std::atomic<bool> stopping_{false};
};

// httplib's TaskQueue with threads started on demand, up to a maximum, and kept until shutdown:
// a server with a high limit costs no threads until its connections do.
class OnDemandThreadPool final : public httplib::TaskQueue {
 public:
  explicit OnDemandThreadPool(std::size_t max_threads) : max_threads_(max_threads) {}
  ~OnDemandThreadPool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override;
  void shutdown() override;  // runs the jobs still queued, then joins every thread

 private:
  void run();

  const std::size_t max_threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0;
  bool shutdown_ = false;
};

}  // namespace gp
