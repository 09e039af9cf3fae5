#include "connections.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <limits>
#include <list>
#include <string_view>
#include <system_error>
#include <utility>

#include "core/error.hpp"

namespace gp {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

// After the server decides to close a connection whose client may still be sending (an answer
// given before the body was read), it stops writing and reads on for a while, so that the kernel
// does not reset the connection, and the client lose the answer, over unread bytes.
constexpr auto kLinger = std::chrono::milliseconds(500);
constexpr std::size_t kMaxLingerBytes = 1 << 20;
// An oversized body is read and discarded up to this much, within the request's deadline, so
// that a client still sending it sees the 413.
constexpr std::size_t kMaxDiscardBytes = 64u << 20;
// Once the server stops, an answer the client does not take within this is abandoned.
constexpr auto kStopGrace = std::chrono::milliseconds(100);
// After a failed accept (out of file descriptors), the next is tried this much later.
constexpr auto kAcceptRetry = std::chrono::milliseconds(50);
constexpr std::size_t kFirstRead = 2048;

bool starts_line_within(std::string_view bytes, std::size_t limit) {
  return bytes.substr(0, limit + 2).find('\n') != std::string_view::npos;
}

// The raw values of every Content-Length line in a request's header bytes, '\n'-joined: for
// the message of a header that Beast refused (not a number, two different values).  Beast has
// consumed the request line once it was whole (line_consumed); the header lines are all there.
std::string raw_content_lengths(std::string_view head, bool line_consumed) {
  std::string out;
  bool first = !line_consumed;  // the request line is still there
  while (!head.empty()) {
    const auto eol = std::min(head.find('\n'), head.size());
    auto line = head.substr(0, eol);
    head.remove_prefix(std::min(eol + 1, head.size()));
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() && !first) break;  // end of the header
    if (std::exchange(first, false)) continue;
    const auto colon = line.find(':');
    constexpr std::string_view kName = "content-length";
    if (colon == kName.size() &&
        std::equal(kName.begin(), kName.end(), line.begin(), [](char a, char b) {
          return a == static_cast<char>(std::tolower(static_cast<unsigned char>(b)));
        })) {
      auto value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
      if (!out.empty()) out += '\n';
      out.append(value);
    }
  }
  return out;
}

}  // namespace

class Session;

struct ConnectionServer::State {
  State(RequestHandler& h, const ConnectionLimits& l)
      : handler(h), limits(l), pool(l.blocking_threads), iocs(make_iocs(l.io_threads)) {}

  // One io_context per I/O thread, each run by that thread alone: a connection lives on one
  // thread, so its handlers need no strand and the scheduler no cross-thread hand-offs.
  static std::vector<std::unique_ptr<net::io_context>> make_iocs(std::size_t n) {
    std::vector<std::unique_ptr<net::io_context>> out;
    for (std::size_t i = 0; i < std::max<std::size_t>(1, n); ++i) out.push_back(std::make_unique<net::io_context>(1));
    return out;
  }

  RequestHandler& handler;
  const ConnectionLimits limits;
  std::atomic<bool> stopping{false};

  // Open connections, for stop(); declared before ioc, so that they outlive the handlers that
  // ioc's destructor may still destroy.
  std::mutex mu;
  std::list<std::weak_ptr<Session>> sessions;

  OnDemandThreadPool pool;
  std::vector<std::unique_ptr<net::io_context>> iocs;
  std::size_t next_ioc = 0;  // connections are dealt to the I/O threads in turn
  tcp::acceptor acceptor{*iocs.front()};
  net::steady_timer accept_retry{*iocs.front()};
  // Keep each I/O thread running while it has no connection, until stop.
  std::vector<net::executor_work_guard<net::io_context::executor_type>> running;
  std::vector<std::thread> threads;

  std::mutex stop_mu;
  bool stopped = false;

  void accept();
};

// One client connection: reads a request (header, then body), has it answered, writes the
// answer, and waits for the next, on its I/O thread.  One deadline at a time, watched by
// one timer that is re-armed only when the deadline moves earlier.
class Session final : public std::enable_shared_from_this<Session> {
 public:
  Session(ConnectionServer::State& st, tcp::socket socket)
      : st_(st), socket_(std::move(socket)), timer_(socket_.get_executor()) {}

  ~Session() {
    std::lock_guard lock(st_.mu);
    st_.sessions.erase(self_);
  }

  void registered(std::list<std::weak_ptr<Session>>::iterator self) { self_ = self; }
  net::any_io_executor executor() { return socket_.get_executor(); }

  void start() {
    if (st_.stopping.load(std::memory_order_acquire)) return close_now();
    // Non-blocking, so that an answer can be written at once and the write fall back to an
    // asynchronous one only when the socket's buffer is full (see write()).
    error_code ignored;
    socket_.non_blocking(true, ignored);
    wait_request();
  }

  // The server is stopping (on the connection's I/O thread).
  void stop_now() {
    switch (stage_) {
      case Stage::idle:
      case Stage::lingering: close_now(); break;
      case Stage::header:
      case Stage::continuing:
      case Stage::body: cancel(); break;  // answered 503 by the read's handler
      case Stage::handling: break;        // its answer is written with the stop's grace
      case Stage::writing: set_deadline(std::min(deadline_, Clock::now() + kStopGrace)); break;
      case Stage::closed: break;
    }
  }

 private:
  enum class Stage { idle, header, continuing, body, handling, writing, lingering, closed };

  bool stopping() const { return st_.stopping.load(std::memory_order_acquire); }

  // ------------------------------------------------------------ deadlines

  void set_deadline(Clock::time_point when) {
    deadline_ = when;
    if (timer_armed_ && timer_at_ <= when) return;  // it fires early and waits on
    arm(when);
  }

  void arm(Clock::time_point when) {
    timer_armed_ = true;
    timer_at_ = when;
    timer_.expires_at(when);
    timer_.async_wait([self = shared_from_this(), gen = ++timer_gen_](const error_code& ec) {
      self->on_timer(ec, gen);
    });
  }

  void on_timer(const error_code& ec, std::uint64_t gen) {
    if (ec || gen != timer_gen_ || stage_ == Stage::closed) return;
    timer_armed_ = false;
    if (Clock::now() < deadline_) return arm(deadline_);
    timed_out_ = true;
    if (stage_ == Stage::lingering) return close_now();
    cancel();
  }

  // Ends the current request's reading and writing.  Beast's reads are composed of several
  // socket reads, and one may be between two (its handler queued) when this runs: shutting down
  // the receiving side makes the next one see the end of the stream at once, so nothing reads on.
  void cancel() {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_receive, ignored);
    socket_.cancel(ignored);
  }

  // ------------------------------------------------------------ reading

  void wait_request() {
    if (stopping()) return close_now();
    parser_.reset();
    if (buffer_.size() > 0) {
      // Pipelined: parsed at once, but every 16th goes through the scheduler, so that a long
      // pipeline neither deepens the stack nor keeps this I/O thread from its other connections.
      stage_ = Stage::idle;
      if (++pipelined_ % 16 != 0) return begin_request();
      return net::post(executor(), [self = shared_from_this()] {
        if (self->stage_ == Stage::closed) return;
        if (self->stopping()) return self->close_now();
        self->begin_request();
      });
    }
    stage_ = Stage::idle;
    buffer_.shrink_to_fit();
    set_deadline(Clock::now() + st_.limits.idle_timeout);
    // A small first read (an idle connection holds only this much): a request's head usually
    // fits, and the header read takes more if it does not.  (Waiting for readability first
    // would spare the read Asio tries at once, which fails while the client has not sent yet,
    // but costs an epoll_ctl each time instead.)
    socket_.async_read_some(buffer_.prepare(kFirstRead), [self = shared_from_this()](const error_code& ec, std::size_t n) {
      if (ec || self->timed_out_ || self->stopping()) return self->close_now();
      self->buffer_.commit(n);
      self->begin_request();
    });
  }

  void begin_request() {
    stage_ = Stage::header;
    timed_out_ = false;
    linger_ = false;
    unread_body_ = false;
    set_deadline(Clock::now() + st_.limits.request_timeout);
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    // The handler sets it once the request is known.  (Not boost::none: Beast 1.74 compares a
    // Content-Length with the optional itself, and every length is greater than none.)
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    // What the last socket read brought usually holds the whole request: Beast's parser takes
    // it from the buffer here, and a socket read (through the scheduler) comes only if more is
    // needed.  Beast's own read would hand even a buffered header over through the scheduler.
    error_code ec;
    if (!parse_buffered(ec, /*header_only=*/true)) return on_header(ec);
    http::async_read_header(socket_, buffer_, *parser_, [self = shared_from_this()](const error_code& e, std::size_t) {
      self->on_header(e);
    });
  }

  // Feeds the buffered bytes to the parser (Beast's put, as its reads do) until the header (or
  // the whole message) is parsed: true if it needs more bytes than are buffered, false when
  // parsed or failed (`ec`).
  bool parse_buffered(error_code& ec, bool header_only) {
    const auto parsed = [&] { return header_only ? parser_->is_header_done() : parser_->is_done(); };
    while (!parsed()) {
      if (buffer_.size() == 0) return true;
      buffer_.consume(parser_->put(buffer_.data(), ec));
      if (ec == http::error::need_more) {
        ec = {};
        return true;
      }
      if (ec) return false;
    }
    return false;
  }

  std::string_view buffered() const {
    const auto b = buffer_.data();
    return {static_cast<const char*>(b.data()), b.size()};
  }

  void on_header(const error_code& ec) {
    if (ec) {
      const auto head = buffered();
      const bool line_seen = !parser_->get().target().empty();  // the parser consumes a whole request line
        if (stopping()) return fail(ReadFailure::stopping);
      if (timed_out_) {
        // Not even a request line: nothing to answer.
        if (!line_seen && !starts_line_within(head, kMaxHeaderBytes)) return close_now();
        return fail(ReadFailure::timed_out);
      }
      if (ec == http::error::header_limit) {
        return fail(line_seen || starts_line_within(head, kMaxLineBytes) ? ReadFailure::headers_too_large
                                                            : ReadFailure::request_line_too_long);
      }
      if (ec == http::error::end_of_stream || ec == net::error::eof || ec == http::error::partial_message ||
          ec == net::error::connection_reset || ec == net::error::operation_aborted) {
        return close_now();  // the client went away mid-request
      }
      if (!line_seen && !starts_line_within(head, kMaxLineBytes)) return fail(ReadFailure::request_line_too_long);
      if (ec == http::error::bad_content_length && parser_->chunked()) {
        return fail(ReadFailure::malformed);  // Content-Length after chunked: neither is trusted
      }
      if (ec == http::error::bad_content_length) {
        // Beast consumes header lines as it parses them: the values it took are in the message.
        std::string values;
        for (auto it = parser_->get().find(http::field::content_length);
             it != parser_->get().end() && it->name() == http::field::content_length; ++it) {
          values.append(it->value().data(), it->value().size()).append("\n");
        }
        return fail(ReadFailure::bad_content_length, values + raw_content_lengths(head, line_seen));
      }
      return fail(ReadFailure::malformed);
    }
    const auto& req = parser_->get();
    if (req.method_string().size() + req.target().size() + 10 > kMaxLineBytes) {
      return fail(ReadFailure::request_line_too_long);
    }
    for (const auto& field : req) {
      if (field.name_string().size() + 2 + field.value().size() > kMaxLineBytes) return fail(ReadFailure::malformed);
    }

    RequestHandler::Verdict verdict;
    try {
      verdict = st_.handler.on_header(req);
    } catch (...) {
      verdict.answer = Answer{500, R"({"golemError":{"type":"Unknown","details":"internal error"}})", {}, true};
    }
    if (verdict.answer) {
      // Refused with its body (if any) unread: what follows it in the connection is not a request.
      if (!parser_->is_done()) {
        verdict.answer->close = true;
        linger_ = true;
      }
      return write(std::move(*verdict.answer));
    }
    if (!verdict.read_body && !parser_->is_done()) {
      unread_body_ = true;  // answered without its body: the connection closes after
      linger_ = true;
    }
    if (!verdict.read_body || parser_->is_done()) return handle();
    if (const auto length = parser_->content_length(); length && *length > verdict.body_limit) {
      return fail(ReadFailure::body_too_large);
    }
    parser_->body_limit(verdict.body_limit);
    const auto expect = req[http::field::expect];
    if (!expect.empty()) {
      stage_ = Stage::continuing;
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      return net::async_write(socket_, net::buffer(kContinue.data(), kContinue.size()),
                              [self = shared_from_this()](const error_code& e, std::size_t) {
                                if (e) return self->on_body(e);
                                self->read_body();
                              });
    }
    read_body();
  }

  void read_body() {
    stage_ = Stage::body;
    error_code ec;
    if (!parse_buffered(ec, /*header_only=*/false)) return on_body(ec);
    http::async_read(socket_, buffer_, *parser_, [self = shared_from_this()](const error_code& ec, std::size_t) {
      self->on_body(ec);
    });
  }

  void on_body(const error_code& ec) {
    if (!ec) return handle();
    if (stopping()) return fail(ReadFailure::stopping);
    if (timed_out_) return fail(ReadFailure::timed_out);
    if (ec == http::error::body_limit) return fail(ReadFailure::body_too_large);
    if (ec == net::error::connection_reset || ec == net::error::broken_pipe) return close_now();
    fail(ReadFailure::body_unreadable);
  }

  // A request that could not be read: answered, then the connection is closed.
  void fail(ReadFailure failure, const std::string& detail = {}) {
    Answer answer = st_.handler.on_read_failure(failure, detail);
    answer.close = true;
    linger_ = failure != ReadFailure::stopping && failure != ReadFailure::timed_out;
    linger_limit_ = failure == ReadFailure::body_too_large ? kMaxDiscardBytes : kMaxLingerBytes;
    if (failure == ReadFailure::timed_out) {
      // The request's time is up; the answer gets the stop's grace, no more.
      timed_out_ = false;
      set_deadline(Clock::now() + kStopGrace);
    }
    write(std::move(answer));
  }

  // ------------------------------------------------------------ answering

  void handle() {
    stage_ = Stage::handling;
    auto& req = parser_->get();
    if (!st_.handler.handle_blocks()) return write(st_.handler.handle(req, req.body()));
    // May wait for the disk or a lock: off the I/O threads.  The work guard keeps the I/O
    // thread running (stop joins it) until the answer is back on it.
    auto work = std::make_shared<net::executor_work_guard<net::any_io_executor>>(executor());
    const bool taken = st_.handler.handle_async(req, req.body(), [self = shared_from_this(), work](Answer a) {
      auto answer = std::make_shared<Answer>(std::move(a));
      net::post(self->executor(), [self, answer] { self->write(std::move(*answer)); });
    });
    if (taken) return;
    st_.pool.enqueue([self = shared_from_this(), work]() mutable {
      auto& r = self->parser_->get();
      auto answer = std::make_shared<Answer>(self->st_.handler.handle(r, r.body()));
      net::post(self->executor(), [self, answer] { self->write(std::move(*answer)); });
      work.reset();
    });
  }

  void write(Answer answer) {
    if (stage_ == Stage::closed) return;
    const bool have_request = parser_ && parser_->is_header_done();
    const bool head = have_request && parser_->get().method() == http::verb::head;
    const bool keep = !answer.close && !unread_body_ && have_request && parser_->get().keep_alive() && ++served_ < st_.limits.max_requests &&
                      !stopping();
    close_after_ = !keep;
    response_.emplace();
    auto& res = *response_;
    res.version(11);
    res.result(static_cast<unsigned>(answer.status));
    res.set(http::field::content_type, "application/json");
    for (auto& [name, value] : answer.headers) res.set(name, value);
    if (head) {
      res.content_length(answer.body.size());
    } else {
      res.body() = std::move(answer.body);
      res.prepare_payload();
    }
    res.keep_alive(keep);
    stage_ = Stage::writing;
    if (stopping()) {
      set_deadline(std::min(deadline_, Clock::now() + kStopGrace));
    } else if (deadline_ < Clock::now() + st_.limits.request_timeout) {
      set_deadline(Clock::now() + st_.limits.request_timeout);
    }
    // Written at once where the socket takes it all (the usual case), which saves a round
    // through the scheduler; the rest, if any, by an asynchronous write of the same serializer.
    serializer_.emplace(res);
    error_code ec;
    http::write(socket_, *serializer_, ec);
    if (ec != net::error::would_block && ec != net::error::try_again) return on_written(ec);
    http::async_write(socket_, *serializer_, [self = shared_from_this()](const error_code& e, std::size_t) {
      self->on_written(e);
    });
  }

  void on_written(const error_code& ec) {
    serializer_.reset();
    response_.reset();
    if (ec || timed_out_) return close_now();
    if (close_after_) return linger_ && !stopping() ? linger() : close_now();
    wait_request();
  }

  // Closes the sending side and reads what the client still sends, for a while, then closes.
  void linger() {
    stage_ = Stage::lingering;
    parser_.reset();
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    drained_ = buffer_.size();
    buffer_.consume(buffer_.size());
    if (linger_limit_ == kMaxLingerBytes) set_deadline(Clock::now() + kLinger);
    else set_deadline(Clock::now() + st_.limits.request_timeout);
    drain();
  }

  void drain() {
    if (drained_ >= linger_limit_) return close_now();
    socket_.async_read_some(buffer_.prepare(16 * 1024), [self = shared_from_this()](const error_code& ec, std::size_t n) {
      self->buffer_.consume(self->buffer_.size());
      if (ec || self->timed_out_ || self->stopping()) return self->close_now();
      self->drained_ += n;
      self->drain();
    });
  }

  void close_now() {
    if (stage_ == Stage::closed) return;
    stage_ = Stage::closed;
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    timer_.cancel();
    ++timer_gen_;
    parser_.reset();
    serializer_.reset();
    response_.reset();
    buffer_ = {};
  }

  ConnectionServer::State& st_;
  tcp::socket socket_;
  net::steady_timer timer_;
  std::list<std::weak_ptr<Session>>::iterator self_;

  Stage stage_ = Stage::idle;
  Clock::time_point deadline_{};
  Clock::time_point timer_at_{};
  bool timer_armed_ = false;
  std::uint64_t timer_gen_ = 0;
  bool timed_out_ = false;

  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  std::optional<http::response_serializer<http::string_body>> serializer_;  // of response_
  std::uint64_t pipelined_ = 0;
  std::size_t served_ = 0;
  bool close_after_ = false;
  bool unread_body_ = false;
  bool linger_ = false;  // the client may still be sending: read on for a while before closing
  std::size_t linger_limit_ = kMaxLingerBytes;
  std::size_t drained_ = 0;
};

// ---------------------------------------------------------------- the server

void ConnectionServer::State::accept() {
  auto& ioc = *iocs[next_ioc++ % iocs.size()];
  acceptor.async_accept(ioc, [this](const error_code& ec, tcp::socket socket) {
    if (!acceptor.is_open() || stopping.load(std::memory_order_acquire)) return;
    if (ec) {
      // Out of file descriptors (or memory): try again shortly rather than spin.
      accept_retry.expires_after(kAcceptRetry);
      accept_retry.async_wait([this](const error_code& e) {
        if (!e) accept();
      });
      return;
    }
    ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);  // not inherited by a child process
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto session = std::make_shared<Session>(*this, std::move(socket));
    {
      std::lock_guard lock(mu);
      session->registered(sessions.insert(sessions.end(), session));
    }
    net::post(session->executor(), [session] { session->start(); });
    accept();
  });
}

ConnectionServer::ConnectionServer(RequestHandler& handler, const ConnectionLimits& limits)
    : state_(std::make_shared<State>(handler, limits)) {}

ConnectionServer::~ConnectionServer() { stop(); }

std::uint16_t ConnectionServer::start(const std::string& address, std::uint16_t port) {
  auto& st = *state_;
  const bool ipv6 = address.find(':') != std::string::npos;
  const auto where = (ipv6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
  error_code ec;
  tcp::resolver resolver(*st.iocs.front());
  const auto endpoints = resolver.resolve(address, std::to_string(port), tcp::resolver::passive, ec);
  if (ec) throw Error(Errc::listen, "cannot listen on " + where + ": " + ec.message());
  error_code last = net::error::host_not_found;
  for (const auto& entry : endpoints) {
    error_code e;
    st.acceptor.open(entry.endpoint().protocol(), e);
    if (!e) ::fcntl(st.acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
    // SO_REUSEADDR only: rebinding over TIME_WAIT is fine, sharing a port in use (SO_REUSEPORT) is not.
    if (!e) st.acceptor.set_option(tcp::acceptor::reuse_address(true), e);
    if (!e) st.acceptor.bind(entry.endpoint(), e);
    if (!e) st.acceptor.listen(net::socket_base::max_listen_connections, e);
    if (!e) break;
    last = e;
    error_code ignored;
    st.acceptor.close(ignored);
  }
  if (!st.acceptor.is_open()) throw Error(Errc::listen, "cannot listen on " + where + ": " + last.message());
  const auto bound = st.acceptor.local_endpoint(ec).port();
  st.accept();
  for (auto& ioc : st.iocs) {
    st.running.push_back(net::make_work_guard(*ioc));
    st.threads.emplace_back([&ioc = *ioc] {
      for (;;) {
        try {
          ioc.run();
          return;
        } catch (...) {
          // A handler threw (out of memory): that connection is lost; the others go on.
        }
      }
    });
  }
  return bound;
}

void ConnectionServer::stop() {
  auto& st = *state_;
  std::lock_guard stop_lock(st.stop_mu);
  if (st.stopped) return;
  st.stopped = true;
  st.stopping.store(true, std::memory_order_release);
  net::post(st.acceptor.get_executor(), [&st] {
    error_code ignored;
    st.acceptor.close(ignored);
    st.accept_retry.cancel();
  });
  // Taken out under the lock and woken outside it: the last reference to a session may be one of
  // these, and its destructor takes the lock.
  std::vector<std::shared_ptr<Session>> open;
  {
    std::lock_guard lock(st.mu);
    for (auto& weak : st.sessions) {
      if (auto session = weak.lock()) open.push_back(std::move(session));
    }
  }
  for (auto& session : open) net::post(session->executor(), [session] { session->stop_now(); });
  open.clear();
  st.running.clear();  // each I/O thread returns once its connections are closed
  for (auto& t : st.threads) t.join();
  st.threads.clear();
  st.pool.shutdown();
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
    // No thread at all: run the job on the calling thread rather than never.
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
