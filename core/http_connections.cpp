#include "http_connections.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <system_error>

#include "error.hpp"

namespace gp {

namespace {

using Clock = std::chrono::steady_clock;

// After the server decides to close a connection whose client may still be sending (an answer
// given before the body was read), it stops writing and reads on for this long, so that the
// kernel does not reset the connection, and the client lose the answer, over unread bytes.
constexpr auto kLinger = std::chrono::milliseconds(500);
constexpr std::size_t kMaxLingerBytes = 1 << 20;

void ip_and_port(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  const int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                      : ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (rc != 0) return;
  char host[NI_MAXHOST];
  if (::getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0) {
    return;
  }
  ip = host;
  if (addr.ss_family == AF_INET) port = ntohs(reinterpret_cast<const sockaddr_in&>(addr).sin_port);
  if (addr.ss_family == AF_INET6) port = ntohs(reinterpret_cast<const sockaddr_in6&>(addr).sin6_port);
}

}  // namespace

// One client connection as httplib's Stream: buffered reads against the current request's
// deadline, writes against their own, both given up at once when the server stops.
class ConnectionServer::Connection final : public httplib::Stream {
 public:
  Connection(int fd, ConnectionServer& server) : fd_(fd), server_(server) {}

  // Waits up to idle_timeout for the first byte of the next request; false on timeout, stop,
  // or the client closing the connection.
  bool await_request() {
    if (pos_ < len_) return true;
    deadline_ = Clock::now() + server_.limits_.idle_timeout;
    return fill() > 0;
  }

  void begin_request() {
    deadline_ = Clock::now() + server_.limits_.request_timeout;
    failure_ = ReadFailure::none;
    headers_done_ = false;
    header_bytes_ = 0;
  }

  void headers_read() { headers_done_ = true; }
  bool routed() const { return headers_done_; }
  void close_after_answer() { close_ = true; }
  bool closing() const { return close_ || failure_ != ReadFailure::none; }
  ReadFailure failure() const { return failure_; }

  // Closes the connection: a client that may still be sending is read until it closes its side
  // (at most kLinger, kMaxLingerBytes, or until the server stops).
  void close(bool linger) {
    if (linger && !server_.stopping()) {
      ::shutdown(fd_, SHUT_WR);
      const auto until = Clock::now() + kLinger;
      std::size_t drained = 0;
      char sink[4096];
      while (drained < kMaxLingerBytes && wait(POLLIN, until)) {
        const auto n = ::recv(fd_, sink, sizeof sink, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;
        if (n > 0) drained += static_cast<std::size_t>(n);
      }
    }
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
  }

  // ---------------------------------------------------------------- httplib::Stream

  bool is_readable() const override { return pos_ < len_ || wait(POLLIN, deadline_); }
  bool is_writable() const override { return wait(POLLOUT, Clock::now() + server_.limits_.request_timeout); }

  ssize_t read(char* ptr, size_t size) override {
    if (size == 0) return 0;
    if (!headers_done_) {
      if (header_bytes_ >= kMaxHeaderBytes) {
        failure_ = ReadFailure::headers_too_large;
        return -1;
      }
      size = std::min(size, kMaxHeaderBytes - header_bytes_);
    }
    if (pos_ == len_) {
      const auto n = fill();
      if (n <= 0) return n;
    }
    const auto n = std::min(size, len_ - pos_);
    std::memcpy(ptr, buf_ + pos_, n);
    pos_ += n;
    if (!headers_done_) header_bytes_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    const auto deadline = Clock::now() + server_.limits_.request_timeout;
    std::size_t done = 0;
    while (done < size) {
      const auto n = ::send(fd_, ptr + done, size - done, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        done += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!wait(POLLOUT, deadline)) return -1;
      } else {
        return -1;
      }
    }
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { ip_and_port(fd_, true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { ip_and_port(fd_, false, ip, port); }
  socket_t socket() const override { return fd_; }

 private:
  // Receives into the buffer: > 0 bytes, 0 at the end of the stream, -1 on an error, at the
  // request's deadline or when the server stops (failure() says which).
  ssize_t fill() {
    for (;;) {
      const auto n = ::recv(fd_, buf_, sizeof buf_, MSG_DONTWAIT);
      if (n >= 0) {
        pos_ = 0;
        len_ = static_cast<std::size_t>(n);
        return n;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
      if (!wait(POLLIN, deadline_)) return -1;
    }
  }

  // Waits until the socket is ready for `events` (or has an error to report); false at the
  // deadline (failure timed_out) or when the server stops (failure stopping).
  bool wait(short events, Clock::time_point deadline) const {
    pollfd fds[2] = {{fd_, events, 0}, {server_.wake_fd_, POLLIN, 0}};
    for (;;) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        failure_ = ReadFailure::timed_out;
        return false;
      }
      const int rc = ::poll(fds, 2, static_cast<int>(std::min<long long>(left, INT_MAX)));
      if (rc < 0 && errno != EINTR) return false;
      if (fds[1].revents) {
        failure_ = ReadFailure::stopping;
        return false;
      }
      if (fds[0].revents) return true;
    }
  }

  const int fd_;
  ConnectionServer& server_;
  char buf_[16 * 1024];
  std::size_t pos_ = 0, len_ = 0;
  Clock::time_point deadline_ = Clock::now();
  mutable ReadFailure failure_ = ReadFailure::none;
  bool headers_done_ = false;
  std::size_t header_bytes_ = 0;
  bool close_ = false;
};

thread_local ConnectionServer::Connection* ConnectionServer::current_ = nullptr;

ConnectionServer::ConnectionServer(const ConnectionLimits& limits) : limits_(limits) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw Error(Errc::io, std::string("cannot create the HTTP server's eventfd: ") + std::strerror(errno));
  const auto threads = limits_.threads;
  // httplib takes ownership of the raw pointer.
  new_task_queue = [threads] { return new OnDemandThreadPool(threads); };
  // Only for the "Keep-Alive: timeout=N, max=M" header httplib writes; the loop below enforces them.
  set_keep_alive_timeout(static_cast<time_t>(limits_.idle_timeout.count() / 1000));
  set_keep_alive_max_count(limits_.max_requests);
}

ConnectionServer::~ConnectionServer() { ::close(wake_fd_); }

void ConnectionServer::stop_now() {
  if (!stopping_.exchange(true, std::memory_order_acq_rel)) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
  }
  stop();  // httplib: closes the listening socket, which ends its accept loop
}

void ConnectionServer::headers_read() {
  if (current_) current_->headers_read();
}

bool ConnectionServer::routed() { return current_ != nullptr && current_->routed(); }

void ConnectionServer::close_after_answer() {
  if (current_) current_->close_after_answer();
}

ReadFailure ConnectionServer::read_failure() { return current_ ? current_->failure() : ReadFailure::none; }

bool ConnectionServer::process_and_close_socket(socket_t sock) {
  ::fcntl(sock, F_SETFD, FD_CLOEXEC);  // httplib's accept() does not ask for it
  Connection conn(sock, *this);
  current_ = &conn;
  bool ok = true;
  bool linger = false;  // an answer was written last: its client may still be sending or reading
  for (std::size_t served = 0; served < limits_.max_requests && !stopping(); ++served) {
    if (!conn.await_request()) {  // idle, closed by the client, or stopping: nothing left unread
      linger = false;
      break;
    }
    conn.begin_request();
    bool client_closes = false;  // "Connection: close" or HTTP/1.0
    ok = process_request(conn, served + 1 == limits_.max_requests, client_closes, nullptr);
    linger = ok;
    // One framing rule: a request httplib answered without routing it (a refused request line,
    // method or header, an unsatisfiable Range) may have left its body, or even its headers,
    // unread; what follows in the connection is not a request, so the connection ends here.
    if (!ok || client_closes || conn.closing() || !conn.routed()) break;
  }
  current_ = nullptr;
  conn.close(linger);
  return ok;
}

// ---------------------------------------------------------------- OnDemandThreadPool

void OnDemandThreadPool::enqueue(std::function<void()> fn) {
  std::unique_lock lock(mu_);
  jobs_.push_back(std::move(fn));
  if (idle_ >= jobs_.size() || threads_.size() >= max_threads_) {
    cv_.notify_one();
    return;
  }
  try {
    threads_.emplace_back([this] { run(); });
  } catch (const std::system_error&) {
    if (!threads_.empty()) {
      cv_.notify_one();  // the threads there are take it in turn
      return;
    }
    // No thread at all: serve this connection on the accepting thread rather than never.
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
  }
}

void OnDemandThreadPool::shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    shutdown_ = true;
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (auto& t : threads) t.join();
}

void OnDemandThreadPool::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      ++idle_;
      cv_.wait(lock, [this] { return shutdown_ || !jobs_.empty(); });
      --idle_;
      if (jobs_.empty()) return;  // shut down, nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace gp
