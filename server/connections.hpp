// How the HTTP server holds its clients' connections: Boost.Beast parses HTTP/1.1 over Boost.Asio,
// on a small fixed set of I/O threads (one per core by default), with no thread per connection.
//
// - a request must arrive whole (request line, headers, body) within request_timeout of its first
//   byte, however the client spaces its bytes, and its answer must be taken within the same time;
// - a connection waits at most idle_timeout for the first byte of its next request;
// - request line and headers together are at most kMaxHeaderBytes; a request line or a header
//   line is at most kMaxLineBytes;
// - one framing rule: a request refused before its body was read is answered with
//   "Connection: close" and the connection is closed (after reading and discarding what the
//   client still sends for a moment, so that it sees the answer): a body is never a request;
// - requests whose handling may wait for the store (a FULL file host's fsync, another process's
//   lock) run on a separate pool, so they never stall the I/O threads or other connections;
// - stop wakes every connection at once: none waits for its client after that.
//
// This file knows HTTP and sockets, not promises: what to answer is the RequestHandler's.
#pragma once
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace gp {

using RequestHeader = boost::beast::http::request_header<>;

struct ConnectionLimits {
  std::chrono::milliseconds idle_timeout{2000};
  std::chrono::milliseconds request_timeout{10000};
  std::size_t max_requests = 1000;  // per connection, then it is closed after the answer
  std::size_t io_threads = 1;       // threads running the sockets (fixed)
  std::size_t blocking_threads = 64;  // most requests waiting for the store at once (started on demand)
};

// Request line and headers together; more is answered 431 (414 when the request line alone is
// this long).
constexpr std::size_t kMaxHeaderBytes = 64 * 1024;
// One request line (414 above it) or one header line (400 above it).
constexpr std::size_t kMaxLineBytes = 8 * 1024;

// An answer: always JSON.
struct Answer {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Allow, WWW-Authenticate, Retry-After
  bool close = false;  // "Connection: close", then close the connection
};

// Why a request could not be read, for the handler to word the answer.
enum class ReadFailure {
  timed_out,              // not whole within request_timeout of its first byte (408)
  stopping,               // the server stopped while it was being read (503)
  headers_too_large,      // request line and headers over kMaxHeaderBytes (431)
  request_line_too_long,  // (414)
  malformed,              // not HTTP: request line, header syntax (400)
  bad_content_length,     // a Content-Length the parser refuses (400); detail = the raw values
  body_too_large,         // over the body limit (413)
  body_unreadable,        // malformed chunked encoding, or the client closed mid-body (400)
};

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;

  // The request's header is in.  An answer refuses the request before its body is read (the
  // connection then closes if it has a body); nullopt accepts it: its body, if read_body, is read
  // up to body_limit bytes and handle() computes the answer.
  struct Verdict {
    std::optional<Answer> answer;
    bool read_body = false;
    std::uint64_t body_limit = 0;
  };
  virtual Verdict on_header(const RequestHeader& req) = 0;

  // Computes the answer of an accepted request.  Runs on the blocking pool when handle_blocks().
  virtual Answer handle(const RequestHeader& req, std::string& body) noexcept = 0;
  virtual bool handle_blocks() const = 0;

  // For a request that handle() would block on: takes it and calls done(answer) once, later,
  // from any thread (true); or leaves it to handle() on the blocking pool (false).  req and body
  // stay valid until done is called.
  virtual bool handle_async(const RequestHeader& req, std::string& body, std::function<void(Answer)> done) {
    (void)req, (void)body, (void)done;
    return false;
  }

  // The answer to a request that could not be read; the connection is closed after it.
  // detail: for bad_content_length, the header's raw values joined by '\n'.
  virtual Answer on_read_failure(ReadFailure failure, const std::string& detail) = 0;
};

// Threads started on demand, up to a maximum, and kept until shutdown: a server with a high limit
// costs no threads until requests wait for the store at once.
class OnDemandThreadPool final {
 public:
  explicit OnDemandThreadPool(std::size_t max_threads) : max_threads_(max_threads) {}
  ~OnDemandThreadPool() { shutdown(); }
  OnDemandThreadPool(const OnDemandThreadPool&) = delete;
  OnDemandThreadPool& operator=(const OnDemandThreadPool&) = delete;

  void enqueue(std::function<void()> fn);
  void shutdown();  // runs the jobs still queued, then joins every thread

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

class ConnectionServer {
 public:
  ConnectionServer(RequestHandler& handler, const ConnectionLimits& limits);
  ~ConnectionServer();  // stop()
  ConnectionServer(const ConnectionServer&) = delete;
  ConnectionServer& operator=(const ConnectionServer&) = delete;

  // Binds and listens (SO_REUSEADDR only: a port in use is an error) and starts the I/O
  // threads.  Returns the bound port.  Throws Error(io) when the address cannot be bound.
  std::uint16_t start(const std::string& address, std::uint16_t port);

  // Closes the listening socket and every connection: a request being read is cut short
  // (answered 503 if the client takes it at once), an answer already computed is still sent if
  // the client takes it at once, a request waiting for the store finishes first.  Returns once
  // every thread is joined.  Idempotent; must not be called from a server thread.
  void stop();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace gp
