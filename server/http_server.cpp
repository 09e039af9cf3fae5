// The HTTP completion endpoint (DESIGN §4): routing, authentication, body limits and Golem's JSON
// answers.  The connections (Boost.Beast over Boost.Asio) are http_connections.cpp's; this file
// decides what each request is answered.  Bodies are parsed with nlohmann/json's SAX interface, so
// a large "data" array becomes a byte vector without a JSON tree of one node per byte.
//
// Routing splits the request target as sent at '/' and only then percent-decodes each segment
// (so "%2F" stays inside its segment).  No std::regex: libstdc++'s recurses once per character and
// overflows a thread's stack on a path of a few thousand characters, which any client can send.
#include "http_server.hpp"

#include <strings.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/host.hpp"
#include "http_body.hpp"
#include "http_codings.hpp"
#include "connections.hpp"
#include "core/ids.hpp"
#include "core/printable.hpp"

namespace gp {
namespace {

namespace http = boost::beast::http;
using ojson = nlohmann::ordered_json;  // keeps Golem's field order in answers

constexpr int kMaxThreads = 1024;
constexpr int kMaxTimeoutMs = 3'600'000;
constexpr std::size_t kMaxAddress = 253;

// ---------------------------------------------------------------- answers

std::string dump(const ojson& j) {
  // Messages may quote a client's bytes (a path segment); never throw on invalid UTF-8.
  return j.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

Answer reply(int status, std::string body) { return Answer{status, std::move(body), {}, false}; }

// 401, 404, 405, 408, 413, 415, 503: {"error": "..."}
Answer reply_error(int status, const std::string& message) { return reply(status, dump(ojson{{"error", message}})); }

// 400: {"errors": ["..."]}, as Golem answers validation failures.
Answer reply_invalid(const std::string& message) { return reply(400, dump(ojson{{"errors", ojson::array({message})}})); }

ojson promise_id_json(const PromiseId& id) {
  return ojson{{"workerId", {{"componentId", id.worker_id.component_id.to_string()},
                             {"workerName", id.worker_id.worker_name}}},
               {"oplogIdx", id.oplog_idx}};
}

Answer reply_promise_not_found(int status, const PromiseId& id) {
  return reply(status, dump(ojson{{"golemError", {{"type", "PromiseNotFound"}, {"promiseId", promise_id_json(id)}}}}));
}

Answer reply_unknown(const std::string& details) {
  return reply(500, dump(ojson{{"golemError", {{"type", "Unknown"}, {"details", details}}}}));
}

// A core error from a promise call.  PromiseNotFound is answered with not_found_status.
Answer reply_core_error(const Error& e, const PromiseId& id, int not_found_status) {
  switch (e.code()) {
    case Errc::not_found: return reply_promise_not_found(not_found_status, id);
    case Errc::invalid: return reply_invalid(e.what());
    case Errc::too_big: return reply_error(413, e.what());
    case Errc::busy: {
      auto a = reply_error(503, e.what());
      a.headers.emplace_back("Retry-After", "1");
      return a;
    }
    default: return reply_unknown(e.what());
  }
}

// JSON text of a byte array, "[1,2,255]", written directly: a JSON tree would take one node
// (16+ bytes) per payload byte.
void append_byte_array(std::string& out, const std::uint8_t* data, std::size_t len) {
  out.reserve(out.size() + 2 + 4 * len);
  out += '[';
  for (std::size_t i = 0; i < len; ++i) {
    if (i) out += ',';
    char digits[4];
    const auto r = std::to_chars(digits, digits + sizeof digits, static_cast<unsigned>(data[i]));
    out.append(digits, r.ptr);
  }
  out += ']';
}

// Methods a client may send that are not ours: anything else that is a well-formed token (QUERY,
// a lower-case post) is answered 405 without routing, as Golem does.
bool is_known_method(std::string_view method) {
  static constexpr std::string_view known[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  return std::find(std::begin(known), std::end(known), method) != std::end(known);
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The first value of a header ("" when absent).
std::string_view field(const RequestHeader& req, http::field f) {
  const auto v = req[f];
  return {v.data(), v.size()};
}

// The request's Content-Encoding as the coding decode_body takes ("gzip", "deflate", "br"), ""
// for none or "identity", nullopt for another coding, a list of codings, or the header given
// twice.  Content codings are case-insensitive; "x-gzip" is gzip (RFC 9110 8.4.1).
std::optional<std::string> decodable_encoding(const RequestHeader& req) {
  const auto n = req.count(http::field::content_encoding);
  if (n == 0) return std::string();
  if (n != 1) return std::nullopt;
  auto coding = lower(trim(field(req, http::field::content_encoding)));
  if (coding == "identity") return std::string();
  if (coding == "x-gzip") coding = "gzip";
  if (coding == "gzip" || coding == "deflate" || coding == "br") return coding;
  return std::nullopt;
}

Answer reply_unsupported_encoding(const RequestHeader& req) {
  std::string given;
  for (auto it = req.find(http::field::content_encoding); it != req.end() && it->name() == http::field::content_encoding; ++it) {
    if (!given.empty()) given += ", ";
    given.append(it->value().data(), it->value().size());
  }
  return reply_error(415, "unsupported Content-Encoding '" + printable(given) + "': this server decodes " +
                              kDecodedEncodings + " (or no encoding)");
}

// ---------------------------------------------------------------- authentication

// Runs in time that depends only on the expected token's length, not on where they differ.
bool equal_constant_time(std::string_view given, std::string_view expected) {
  unsigned diff = given.size() != expected.size() ? 1u : 0u;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |= g ^ static_cast<unsigned char>(expected[i]);
  }
  return diff == 0;
}

enum class Auth { ok, missing, wrong };

Auth check_auth(const RequestHeader& req, const std::string& token) {
  if (token.empty()) return Auth::ok;
  const auto it = req.find(http::field::authorization);
  if (it == req.end()) return Auth::missing;
  std::string_view value(it->value().data(), it->value().size());
  // RFC 6750: "Bearer" (any case), one or more spaces, the token.
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() < kScheme.size() || strncasecmp(value.data(), kScheme.data(), kScheme.size()) != 0) {
    return Auth::missing;
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return equal_constant_time(value, token) ? Auth::ok : Auth::wrong;
}

// ---------------------------------------------------------------- routes

struct Route {
  enum class Kind { none, complete, promise, health };
  Kind kind = Kind::none;
  std::string component, worker, oplog_idx;  // percent-decoded

  const char* allowed() const { return kind == Kind::complete ? "POST" : "GET, HEAD"; }
  bool allows(std::string_view method) const {
    return kind == Kind::complete ? method == "POST" : (method == "GET" || method == "HEAD");
  }
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One path segment with each %XX replaced by its byte; a '%' not followed by two hex digits is
// kept as it is (and fails the checks of the segment it is in).
std::string percent_decode(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (std::size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '%' && i + 2 < segment.size() && hex_value(segment[i + 1]) >= 0 &&
        hex_value(segment[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(segment[i + 1]) * 16 + hex_value(segment[i + 2]));
      i += 2;
    } else {
      out += segment[i];
    }
  }
  return out;
}

// The path of the request target as the client sent it, query left out.
std::string_view raw_path(const RequestHeader& req) {
  std::string_view target(req.target().data(), req.target().size());
  return target.substr(0, target.find('?'));
}

std::string_view method_of(const RequestHeader& req) {
  return {req.method_string().data(), req.method_string().size()};
}

// The raw path split at '/' (no empty segment), then each segment percent-decoded, so that
// "wk%2F1" is one segment, the worker name "wk/1" (invalid: 400), not two.
Route classify(std::string_view path) {
  Route r;
  if (path.empty() || path.front() != '/') return r;
  std::string seg[8];
  std::size_t n = 0;
  path.remove_prefix(1);
  for (;;) {
    const auto slash = path.find('/');
    const auto part = path.substr(0, slash);
    if (part.empty() || n == 8) return r;
    seg[n++] = percent_decode(part);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  if (n == 1 && seg[0] == "healthz") {
    r.kind = Route::Kind::health;
  } else if (n >= 6 && seg[0] == "v1" && seg[1] == "components" && seg[3] == "workers") {
    r.component = std::move(seg[2]);
    r.worker = std::move(seg[4]);
    if (n == 6 && seg[5] == "complete") {
      r.kind = Route::Kind::complete;
    } else if (n == 7 && seg[5] == "promises") {
      r.kind = Route::Kind::promise;
      r.oplog_idx = std::move(seg[6]);
    }
  }
  return r;
}

// The worker id of a route, or the 400 answer naming the bad part.
std::optional<WorkerId> parse_worker_id(const Route& r, std::optional<Answer>& refused) {
  WorkerId id;
  try {
    id.component_id = Uuid::parse(r.component);
  } catch (const Error&) {
    refused = reply_invalid("invalid component id '" + printable(r.component) +
                            "': expected a UUID like 8-4-4-4-12 hex digits");
    return std::nullopt;
  }
  try {
    validate_worker_name(r.worker);
  } catch (const Error& e) {
    refused = reply_invalid(e.what());
    return std::nullopt;
  }
  id.worker_name = r.worker;
  return id;
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t v = 0;
  if (text.empty() || text.size() > 20) return std::nullopt;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

// ---------------------------------------------------------------- the server

struct HttpServer::Impl final : RequestHandler {
  Impl(std::shared_ptr<Host> h, HttpServerOptions o)
      : host(std::move(h)), options(std::move(o)), blocks(!host->is_private()), server(*this, limits_of(options)) {}
  ~Impl() override { stop(); }

  std::shared_ptr<Host> host;
  HttpServerOptions options;
  const bool blocks;  // a file host's calls may wait for fsync or another process's lock
  ConnectionServer server;
  std::uint16_t port = 0;

  // File hosts: completions batched into one transaction and one sync each.  One thread
  // commits what is queued, batch after batch, and never waits for a sync; another waits until
  // each committed batch is durable and answers it.  So the next batch commits while this
  // one's sync runs, and each sync covers everything committed before it began.
  struct Committer {
    static constexpr std::size_t kMaxBatch = 256;
    struct Job {
      PromiseId id;
      std::vector<std::uint8_t> data;
      std::function<void(Answer)> done;
    };
    struct Committed {
      std::vector<Job> jobs;
      std::vector<Host::Completion> completions;
      SyncTicket ticket;
    };
    std::mutex mu;
    std::condition_variable cv;          // jobs queued, or stopping
    std::condition_variable settle_cv;   // a batch committed, or the committing thread ended
    std::deque<Job> jobs;
    std::deque<Committed> committed;
    std::thread committing, settling;    // started with the first completion
    bool stopping = false;
    bool commit_ended = false;

    void enqueue(Job job, Impl& impl);
    void commit_loop(Impl& impl);
    void settle_loop(Impl& impl);
    void stop();  // after the connections: it answers every job queued first
  };
  Committer committer;

  // The connections stop first: they wait for the answers of completions still queued.
  void stop() {
    server.stop();
    committer.stop();
  }

  static ConnectionLimits limits_of(const HttpServerOptions& o) {
    ConnectionLimits limits;
    limits.idle_timeout = std::chrono::milliseconds(o.idle_timeout_ms);
    limits.request_timeout = std::chrono::milliseconds(o.request_timeout_ms);
    limits.max_requests = 1000;  // as nginx's keepalive_requests
    limits.io_threads = o.io_threads > 0 ? static_cast<std::size_t>(o.io_threads)
                                         : std::max(1u, std::thread::hardware_concurrency());
    limits.blocking_threads = static_cast<std::size_t>(o.threads);
    return limits;
  }

  std::string body_limit_message() const {
    return "request body exceeds the limit of " + std::to_string(options.max_body_bytes) + " bytes";
  }

  // The raw body limit: the decoded body is bounded by max_body_bytes; a compressed one may be a
  // little larger than what it decodes to (stored blocks), so it gets that much room.
  std::uint64_t raw_limit(bool encoded) const {
    const auto m = options.max_body_bytes;
    if (!encoded) return m;
    const auto extra = m / 64 + 1024;
    return m > std::numeric_limits<std::uint64_t>::max() - extra ? m : m + extra;
  }

  Verdict on_header(const RequestHeader& req) override;
  Answer handle(const RequestHeader& req, std::string& body) noexcept override;
  bool handle_blocks() const override { return blocks; }
  Answer on_read_failure(ReadFailure failure, const std::string& detail) override;

  bool handle_async(const RequestHeader& req, std::string& body, std::function<void(Answer)> done) override;
  // The body of a completion, decoded and parsed; an answer if it is refused.
  std::optional<Answer> read_completion(const RequestHeader& req, std::string& body, const WorkerId& worker,
                                        CompleteBody& parsed, PromiseId& id) const;
  Answer complete(const PromiseId& id, const std::vector<std::uint8_t>& data);
  // A promise call's failure; "not found" is told apart only then (one lookup fewer per
  // request): an unknown worker is 404 {"error"}, an unknown promise PromiseNotFound.
  Answer reply_not_found_or_error(const Error& e, const PromiseId& id, int not_found_status) {
    if (e.code() == Errc::not_found && !host->has_worker(id.worker_id)) {
      return reply_error(404, "worker " + id.worker_id.to_string() + " not found");
    }
    return reply_core_error(e, id, not_found_status);
  }
  Answer get_promise(const WorkerId& worker, std::string_view oplog_idx);
};

RequestHandler::Verdict HttpServer::Impl::on_header(const RequestHeader& req) {
  Verdict v;
  const auto method = method_of(req);
  if (!is_known_method(method)) {
    // Golem (poem) answers a method it does not serve with 405, as the routes below do.
    v.answer = reply_error(405, "method " + printable(method) + " is not allowed; allowed: GET, POST");
    v.answer->headers.emplace_back("Allow", "GET, POST");
    v.answer->close = true;
    return v;
  }
  const bool has_body = req.count(http::field::transfer_encoding) != 0 ||
                        (req.count(http::field::content_length) != 0 && field(req, http::field::content_length) != "0");
  // Anything answered here leaves the request's body unread in the connection.
  const auto refuse = [&](Answer a) {
    if (has_body) a.close = true;
    v.answer = std::move(a);
    return v;
  };

  switch (check_auth(req, options.token)) {
    case Auth::ok: break;
    case Auth::missing: {
      auto a = reply_error(401, "authentication required: send 'Authorization: Bearer <token>'");
      a.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"golem-promise\"");
      return refuse(std::move(a));
    }
    case Auth::wrong: {
      auto a = reply_error(401, "invalid bearer token");
      a.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"golem-promise\", error=\"invalid_token\"");
      return refuse(std::move(a));
    }
  }

  const auto path = raw_path(req);
  const auto r = classify(path);
  if (r.kind == Route::Kind::none) {
    return refuse(reply_error(404, "no such endpoint: " + printable(method) + " " + printable(path)));
  }
  if (!r.allows(method)) {
    auto a = reply_error(405, "method " + printable(method) + " is not allowed on " + printable(path) +
                                  "; allowed: " + r.allowed());
    a.headers.emplace_back("Allow", r.allowed());
    return refuse(std::move(a));
  }
  if (r.kind == Route::Kind::health) return refuse(reply(200, R"({"status":"ok"})"));
  std::optional<Answer> refused;
  if (!parse_worker_id(r, refused)) return refuse(std::move(*refused));
  if (r.kind == Route::Kind::promise) {
    return v;  // handle() reads the promise (a body, if any, stays unread: the connection closes after)
  }

  // POST .../complete with a well-formed path.
  const auto type = lower(trim(field(req, http::field::content_type)));
  if (type.rfind("multipart/form-data", 0) == 0) {
    return refuse(reply_error(415, "multipart/form-data is not accepted; send the body as application/json"));
  }
  const auto encoding = decodable_encoding(req);
  if (!encoding) return refuse(reply_unsupported_encoding(req));
  if (req.count(http::field::transfer_encoding) != 0) {
    const auto te = field(req, http::field::transfer_encoding);
    if (req.count(http::field::transfer_encoding) != 1 || lower(trim(te)) != "chunked") {
      return refuse(reply_error(501, "unsupported Transfer-Encoding '" + printable(te) + "': only chunked is accepted"));
    }
  }
  if (req.count(http::field::content_length) != 0 && req.count(http::field::transfer_encoding) == 0) {
    const auto length = field(req, http::field::content_length);
    if (req.count(http::field::content_length) != 1) return refuse(reply_invalid("the Content-Length header must be given once"));
    if (!parse_u64(length)) {
      return refuse(reply_invalid("invalid Content-Length header '" + printable(length) +
                                  "': expected a decimal byte count"));
    }
  }
  if (!has_body && req.count(http::field::content_length) == 0) {
    return refuse(reply_invalid("request body is missing: expected a JSON object {\"oplogIdx\": <u64>, \"data\": [<u8>, ...]}"));
  }
  const auto expect = field(req, http::field::expect);
  if (!expect.empty() && lower(trim(expect)) != "100-continue") {
    return refuse(reply_error(417, "unsupported Expect '" + printable(expect) + "': only 100-continue is accepted"));
  }
  v.read_body = true;
  v.body_limit = raw_limit(!encoding->empty());
  return v;
}

Answer HttpServer::Impl::on_read_failure(ReadFailure failure, const std::string& detail) {
  switch (failure) {
    case ReadFailure::timed_out:
      return reply_error(408, "request not received in full within " + std::to_string(options.request_timeout_ms) +
                                  " ms of its first byte");
    case ReadFailure::stopping: return reply_error(503, "the server is stopping");
    case ReadFailure::headers_too_large:
      return reply_error(431, "request line and headers exceed " + std::to_string(kMaxHeaderBytes) + " bytes");
    case ReadFailure::request_line_too_long: return reply_error(414, "request line too long");
    case ReadFailure::malformed: return reply_invalid("malformed HTTP request");
    case ReadFailure::bad_content_length:
      if (detail.find('\n') != std::string::npos) return reply_invalid("the Content-Length header must be given once");
      return reply_invalid("invalid Content-Length header '" + printable(detail) + "': expected a decimal byte count");
    case ReadFailure::body_too_large: return reply_error(413, body_limit_message());
    case ReadFailure::body_unreadable: break;
  }
  return reply_invalid("could not read the request body (truncated, timed out, or malformed chunked encoding)");
}

std::optional<Answer> HttpServer::Impl::read_completion(const RequestHeader& req, std::string& body, const WorkerId& worker,
                                                        CompleteBody& parsed, PromiseId& id) const {
  const auto coding = decodable_encoding(req);
  if (coding && !coding->empty()) {
    std::string decoded;
    switch (decode_body(*coding, body, options.max_body_bytes, decoded)) {
      case Decoded::ok: break;
      case Decoded::too_large: return reply_error(413, body_limit_message());
      case Decoded::invalid: return reply_invalid("could not read the request body: it is not valid " + *coding + " data");
    }
    body.swap(decoded);
  } else if (body.size() > options.max_body_bytes) {
    return reply_error(413, body_limit_message());
  }
  if (!parsed.parse(body)) return reply_invalid(parsed.error);
  id = PromiseId{worker, *parsed.oplog_idx};
  return std::nullopt;
}

Answer HttpServer::Impl::handle(const RequestHeader& req, std::string& body) noexcept {
  try {
    const auto r = classify(raw_path(req));
    std::optional<Answer> refused;
    const auto worker = parse_worker_id(r, refused);
    if (!worker) return std::move(*refused);  // on_header checked the path: cannot happen
    if (r.kind == Route::Kind::promise) return get_promise(*worker, r.oplog_idx);
    CompleteBody parsed;
    PromiseId id;
    if (auto answer = read_completion(req, body, *worker, parsed, id)) return std::move(*answer);
    return complete(id, parsed.data);
  } catch (const std::exception& e) {
    return reply_unknown(e.what());
  } catch (...) {
    return reply_unknown("unknown C++ exception");
  }
}

bool HttpServer::Impl::handle_async(const RequestHeader& req, std::string& body, std::function<void(Answer)> done) {
  const auto r = classify(raw_path(req));
  if (r.kind != Route::Kind::complete) return false;
  try {
    std::optional<Answer> refused;
    const auto worker = parse_worker_id(r, refused);
    if (!worker) return false;  // on_header checked the path: cannot happen
    CompleteBody parsed;
    PromiseId id;
    if (auto answer = read_completion(req, body, *worker, parsed, id)) {
      done(std::move(*answer));
      return true;
    }
    committer.enqueue(Committer::Job{std::move(id), std::move(parsed.data), std::move(done)}, *this);
    return true;
  } catch (const std::exception&) {
    return false;  // handle() answers it
  }
}

// Commits what is queued as one batch (Host::commit_many: one transaction) and hands it to the
// settling thread, which answers it once it is durable (Host::settle_many: one sync).
void HttpServer::Impl::Committer::enqueue(Job job, Impl& impl) {
  std::lock_guard lock(mu);
  jobs.push_back(std::move(job));
  if (!committing.joinable()) {
    committing = std::thread([this, &impl] { commit_loop(impl); });
    settling = std::thread([this, &impl] { settle_loop(impl); });
  }
  cv.notify_one();
}

void HttpServer::Impl::Committer::commit_loop(Impl& impl) {
  for (;;) {
    Committed batch;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [this] { return stopping || !jobs.empty(); });
      if (jobs.empty()) {
        commit_ended = true;
        settle_cv.notify_all();
        return;
      }
      while (!jobs.empty() && batch.jobs.size() < kMaxBatch) {
        batch.jobs.push_back(std::move(jobs.front()));
        jobs.pop_front();
      }
    }
    batch.completions.resize(batch.jobs.size());
    for (std::size_t i = 0; i < batch.jobs.size(); ++i) {
      batch.completions[i].id = batch.jobs[i].id;
      batch.completions[i].data = batch.jobs[i].data.data();
      batch.completions[i].len = batch.jobs[i].data.size();
    }
    try {
      batch.ticket = impl.host->commit_many(batch.completions);
    } catch (...) {
      for (auto& c : batch.completions) c.error = std::current_exception();
    }
    std::lock_guard lock(mu);
    committed.push_back(std::move(batch));
    settle_cv.notify_one();
  }
}

void HttpServer::Impl::Committer::settle_loop(Impl& impl) {
  for (;;) {
    Committed batch;
    {
      std::unique_lock lock(mu);
      settle_cv.wait(lock, [this] { return commit_ended || !committed.empty(); });
      if (committed.empty()) return;
      batch = std::move(committed.front());
      committed.pop_front();
    }
    impl.host->settle_many(batch.completions, batch.ticket);
    for (std::size_t i = 0; i < batch.jobs.size(); ++i) {
      const auto& c = batch.completions[i];
      Answer answer;
      try {
        if (c.error) std::rethrow_exception(c.error);
        answer = reply(200, c.completed ? "true" : "false");
      } catch (const Error& e) {
        try {
          answer = impl.reply_not_found_or_error(e, batch.jobs[i].id, 500);
        } catch (const std::exception& e2) {
          answer = reply_unknown(e2.what());
        }
      } catch (const std::exception& e) {
        answer = reply_unknown(e.what());
      } catch (...) {
        answer = reply_unknown("internal error");
      }
      batch.jobs[i].done(std::move(answer));
    }
  }
}

void HttpServer::Impl::Committer::stop() {
  {
    std::lock_guard lock(mu);
    stopping = true;
  }
  cv.notify_all();
  if (committing.joinable()) committing.join();
  if (settling.joinable()) settling.join();
}

Answer HttpServer::Impl::complete(const PromiseId& id, const std::vector<std::uint8_t>& data) {
  try {
    // Host-level: the outside party.  Committed (durable on a file host) and waiters woken
    // before it returns, so before the client hears "true".
    const bool completed = host->complete(id, data.data(), data.size());
    return reply(200, completed ? "true" : "false");
  } catch (const Error& e) {
    return reply_not_found_or_error(e, id, 500);
  }
}

Answer HttpServer::Impl::get_promise(const WorkerId& worker, std::string_view oplog_idx) {
  const auto idx = parse_u64(oplog_idx);
  if (!idx) {
    return reply_invalid("invalid oplog index '" + printable(oplog_idx) + "': expected an unsigned 64-bit decimal integer");
  }
  const PromiseId id{worker, *idx};
  try {
    auto payload = host->poll(id);
    if (!payload) return reply(200, R"({"state":"pending"})");
    std::string out = R"({"state":"completed","data":)";
    append_byte_array(out, payload->data.get(), payload->len);
    out += '}';
    return reply(200, std::move(out));
  } catch (const Error& e) {
    return reply_not_found_or_error(e, id, 404);  // a GET of something gone: 404, with Golem's error body
  }
}

// ---------------------------------------------------------------- lifecycle

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() = default;  // Impl's destructor stops and joins

std::unique_ptr<HttpServer> HttpServer::start(std::shared_ptr<Host> host, const HttpServerOptions& options) {
  if (!host) throw Error(Errc::invalid, "the HTTP server needs a host");
  if (options.address.empty() || options.address.size() > kMaxAddress) {
    throw Error(Errc::invalid, "server address must be 1 to 253 characters");
  }
  for (const auto& [name, n] : {std::pair{"threads", options.threads}, std::pair{"io_threads", options.io_threads}}) {
    if (n < (name[0] == 'i' ? 0 : 1) || n > kMaxThreads) {
      throw Error(Errc::invalid, std::string("server ") + name + " must be from " + (name[0] == 'i' ? "0" : "1") +
                                     " to " + std::to_string(kMaxThreads) + ", got " + std::to_string(n));
    }
  }
  for (const auto& [name, ms] : {std::pair{"request_timeout_ms", options.request_timeout_ms},
                                 std::pair{"idle_timeout_ms", options.idle_timeout_ms}}) {
    if (ms < 1 || ms > kMaxTimeoutMs) {
      throw Error(Errc::invalid, std::string("server ") + name + " must be from 1 to " + std::to_string(kMaxTimeoutMs) +
                                     " (one hour), got " + std::to_string(ms));
    }
  }
  if (options.max_body_bytes == 0 || options.max_body_bytes > std::numeric_limits<std::size_t>::max() / 2) {
    throw Error(Errc::invalid, "server max_body_bytes must be positive");
  }
  for (const char c : options.token) {
    if (c < 0x21 || c > 0x7e) {
      throw Error(Errc::invalid, "server token must be visible ASCII characters (no spaces or control characters)");
    }
  }
  auto impl = std::make_unique<Impl>(std::move(host), options);
  impl->port = impl->server.start(options.address, options.port);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::stop() { impl_->stop(); }

std::uint16_t HttpServer::port() const { return impl_->port; }

const std::string& HttpServer::address() const { return impl_->options.address; }

std::string HttpServer::url() const {
  const auto& a = impl_->options.address;
  const bool ipv6 = a.find(':') != std::string::npos;
  return "http://" + (ipv6 ? "[" + a + "]" : a) + ":" + std::to_string(impl_->port);
}

}  // namespace gp
