// The HTTP completion endpoint (DESIGN §4): routing, authentication, body limits and Golem's JSON
// answers, over cpp-httplib (HTTP) and nlohmann/json (body parsing, through its SAX interface so a
// large "data" array becomes a byte vector without a JSON tree of one node per byte).
//
// Routing is done in httplib's pre-routing handler by splitting the request target as sent at
// '/' and only then percent-decoding each segment (so "%2F" stays inside its segment), not with
// httplib's regex routes: libstdc++'s std::regex recurses once per character and overflows a thread's stack
// on a path of a few thousand characters, which any client can send.  The one regex route that
// remains (httplib reads a request body only for a route handler) is reached only by a POST whose
// path the pre-routing handler has already checked: a UUID and a valid worker name, < 200 bytes.
#include "http_server.hpp"

#include <fcntl.h>
#include <strings.h>
#include <sys/socket.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <limits>
#include <mutex>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "host.hpp"
#include "http_connections.hpp"
#include "ids.hpp"
#include "printable.hpp"

namespace gp {
namespace {

using ojson = nlohmann::ordered_json;  // keeps Golem's field order in answers
using httplib::Request;
using httplib::Response;
using HandlerResponse = httplib::Server::HandlerResponse;

constexpr int kMaxThreads = 1024;
constexpr int kMaxTimeoutMs = 3'600'000;
constexpr std::size_t kMaxAddress = 253;
// How much of an oversized body is read and thrown away before giving up on the connection.
constexpr std::uint64_t kMaxDiscard = 64ull * 1024 * 1024;

// ---------------------------------------------------------------- answers

std::string dump(const ojson& j) {
  // Messages may quote a client's bytes (a path segment); never throw on invalid UTF-8.
  return j.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

void reply(Response& res, int status, std::string body) {
  res.status = status;
  res.body = std::move(body);
  res.headers.erase("Content-Type");
  res.set_header("Content-Type", "application/json");
}

// 401, 404, 405, 413, 415, 503: {"error": "..."}
void reply_error(Response& res, int status, const std::string& message) {
  reply(res, status, dump(ojson{{"error", message}}));
}

// 400: {"errors": ["..."]}, as Golem answers validation failures.
void reply_invalid(Response& res, const std::string& message) {
  reply(res, 400, dump(ojson{{"errors", ojson::array({message})}}));
}

ojson promise_id_json(const PromiseId& id) {
  return ojson{{"workerId", {{"componentId", id.worker_id.component_id.to_string()},
                             {"workerName", id.worker_id.worker_name}}},
               {"oplogIdx", id.oplog_idx}};
}

void reply_promise_not_found(Response& res, int status, const PromiseId& id) {
  reply(res, status, dump(ojson{{"golemError", {{"type", "PromiseNotFound"}, {"promiseId", promise_id_json(id)}}}}));
}

void reply_unknown(Response& res, const std::string& details) {
  reply(res, 500, dump(ojson{{"golemError", {{"type", "Unknown"}, {"details", details}}}}));
}

// A core error from a promise call.  PromiseNotFound is answered with not_found_status.
void reply_core_error(Response& res, const Error& e, const PromiseId& id, int not_found_status) {
  switch (e.code()) {
    case Errc::not_found: reply_promise_not_found(res, not_found_status, id); break;
    case Errc::invalid: reply_invalid(res, e.what()); break;
    case Errc::too_big: reply_error(res, 413, e.what()); break;
    case Errc::busy:
      reply_error(res, 503, e.what());
      res.set_header("Retry-After", "1");
      break;
    default: reply_unknown(res, e.what()); break;
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

// The request's body could not be read to its end, so the bytes left in the connection would be
// taken for the next request: close it after this answer, and tell the client so.
void close_connection(Response& res) {
  res.set_header("Connection", "close");
  ConnectionServer::close_after_answer();
}

// A request line whose method is a well-formed token httplib does not know (QUERY, a lower-case
// post): httplib refuses the line with 400 and leaves the method in the request.
bool is_unknown_method(const std::string& method) {
  static constexpr std::string_view known[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "PRI"};
  if (method.empty() || method.size() > 32) return false;
  for (const char c : method) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) return false;
  }
  for (const auto k : known) {
    if (method == k) return false;
  }
  return true;
}

bool has_body(const Request& req) {
  return req.has_header("Transfer-Encoding") ||
         (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0");
}

// The Content-Encodings httplib decodes in this build (its CPPHTTPLIB_* macros come with the
// library, from pkg-config).  httplib itself reads any other value, "zstd" or "GZIP" alike, as
// no encoding at all, and takes any value containing "br" for brotli.
constexpr const char* kDecodedEncodings =
#if defined(CPPHTTPLIB_ZLIB_SUPPORT) && defined(CPPHTTPLIB_BROTLI_SUPPORT)
    "gzip, deflate, br";
#elif defined(CPPHTTPLIB_ZLIB_SUPPORT)
    "gzip, deflate";
#elif defined(CPPHTTPLIB_BROTLI_SUPPORT)
    "br";
#else
    "none";
#endif

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The request's Content-Encoding as the name httplib decodes ("gzip", "deflate", "br"), "" for
// none or "identity", nullopt for a coding this build cannot decode, a list of codings, or the
// header given twice.  Content codings are case-insensitive; "x-gzip" is gzip (RFC 9110 8.4.1).
std::optional<std::string> decodable_encoding(const Request& req) {
  const auto count = req.get_header_value_count("Content-Encoding");
  if (count == 0) return std::string();
  if (count != 1) return std::nullopt;
  std::string coding(trim(req.get_header_value("Content-Encoding")));
  for (auto& c : coding) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (coding == "identity") return std::string();
#ifdef CPPHTTPLIB_ZLIB_SUPPORT
  if (coding == "gzip" || coding == "x-gzip") return std::string("gzip");
  if (coding == "deflate") return coding;
#endif
#ifdef CPPHTTPLIB_BROTLI_SUPPORT
  if (coding == "br") return coding;
#endif
  return std::nullopt;
}

void reply_unsupported_encoding(const Request& req, Response& res) {
  reply_error(res, 415, "unsupported Content-Encoding '" + printable(req.get_header_value("Content-Encoding")) +
                            "': this server decodes " + kDecodedEncodings + " (or no encoding)");
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

Auth check_auth(const Request& req, const std::string& token) {
  if (token.empty()) return Auth::ok;
  if (!req.has_header("Authorization")) return Auth::missing;
  const auto value = req.get_header_value("Authorization");
  // RFC 6750: "Bearer" (any case), one or more spaces, the token.
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() < kScheme.size() || strncasecmp(value.c_str(), kScheme.data(), kScheme.size()) != 0) {
    return Auth::missing;
  }
  std::string_view given(value);
  given.remove_prefix(kScheme.size());
  while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
  return equal_constant_time(given, token) ? Auth::ok : Auth::wrong;
}

// ---------------------------------------------------------------- routes

struct Route {
  enum class Kind { none, complete, promise, health };
  Kind kind = Kind::none;
  std::string component, worker, oplog_idx;  // percent-decoded

  const char* allowed() const { return kind == Kind::complete ? "POST" : "GET, HEAD"; }
  bool allows(const std::string& method) const {
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

// The path of the request target as the client sent it (httplib's req.path is decoded as a
// whole, which would turn an encoded slash in a worker name into a separator).
std::string_view raw_path(const Request& req) {
  std::string_view target(req.target);
  return target.substr(0, target.find('?'));
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

// The worker id of a route, or a 400 answer naming the bad part.
std::optional<WorkerId> parse_worker_id(const Route& r, Response& res) {
  WorkerId id;
  try {
    id.component_id = Uuid::parse(r.component);
  } catch (const Error&) {
    reply_invalid(res, "invalid component id '" + printable(r.component) +
                           "': expected a UUID like 8-4-4-4-12 hex digits");
    return std::nullopt;
  }
  try {
    validate_worker_name(r.worker);
  } catch (const Error& e) {
    reply_invalid(res, e.what());
    return std::nullopt;
  }
  id.worker_name = std::string(r.worker);
  return id;
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t v = 0;
  if (text.empty() || text.size() > 20) return std::nullopt;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

// ---------------------------------------------------------------- the completion body

// {"oplogIdx": <u64>, "data": [<u8>, ...]}, read through nlohmann's SAX interface.  Unknown
// fields are ignored (as Golem's JSON decoding does); a repeated field is an error.
class CompleteBody final : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::optional<std::uint64_t> oplog_idx;
  bool has_data = false;
  std::vector<std::uint8_t> data;
  std::string error;  // set when parsing stopped on a problem

  bool null() override { return scalar("null"); }
  bool boolean(bool) override { return scalar("a boolean"); }
  bool number_integer(number_integer_t) override {
    // nlohmann gives number_integer only to numbers written with a '-', -0 included: any of
    // them is a negative number here, as -1 is (Golem's u64 and u8 fields have no -0).
    return scalar("a negative number");
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (in_data()) {
      if (v > 255) return fail(element() + " must be an integer from 0 to 255, got " + std::to_string(v));
      data.push_back(static_cast<std::uint8_t>(v));
      return true;
    }
    if (depth_ == 1 && slot_ == Slot::oplog_idx) {
      oplog_idx = v;
      return true;
    }
    return scalar("a number");
  }
  bool number_float(number_float_t, const string_t& text) override {
    // Fractions, exponents, and integers beyond 2^64-1 all arrive here.
    return scalar("the number " + printable(text));
  }
  bool string(string_t&) override { return scalar("a string"); }
  bool binary(binary_t&) override { return scalar("binary data"); }

  bool start_object(std::size_t) override {
    if (depth_ == 0) return ++depth_, true;
    if (in_data()) return fail(element() + " must be an integer from 0 to 255, got an object");
    if (depth_ == 1 && slot_ != Slot::other) return fail(expectation() + ", got an object");
    return ++depth_, true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 0) return fail(kShape);
    if (in_data()) return fail(element() + " must be an integer from 0 to 255, got an array");
    if (depth_ == 1 && slot_ == Slot::data) {
      has_data = true;
      in_data_ = true;
    } else if (depth_ == 1 && slot_ == Slot::oplog_idx) {
      return fail(expectation() + ", got an array");
    }
    return ++depth_, true;
  }
  bool end_object() override { return --depth_, true; }
  bool end_array() override {
    if (in_data()) in_data_ = false;
    return --depth_, true;
  }
  bool key(string_t& k) override {
    if (depth_ != 1) return true;
    if (k == "oplogIdx") {
      if (oplog_idx) return fail("field 'oplogIdx' appears more than once");
      slot_ = Slot::oplog_idx;
    } else if (k == "data") {
      if (has_data) return fail("field 'data' appears more than once");
      slot_ = Slot::data;
    } else {
      slot_ = Slot::other;
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 9: ...".
    std::string what = e.what();
    if (const auto p = what.find("] "); p != std::string::npos) what.erase(0, p + 2);
    return fail("request body is not valid JSON: " + printable(what, 480));  // "last read: <token>"
  }

  // Parses body; false with `error` set when it is not a valid completion request.
  bool parse(const std::string& body) {
    if (!nlohmann::json::sax_parse(body, this)) {
      if (error.empty()) error = "request body is not valid JSON";
      return false;
    }
    if (!oplog_idx) return fail("missing field 'oplogIdx' (an unsigned 64-bit integer)");
    if (!has_data) return fail("missing field 'data' (an array of integers from 0 to 255)");
    return true;
  }

 private:
  enum class Slot { other, oplog_idx, data };
  static constexpr const char* kShape =
      "request body must be a JSON object {\"oplogIdx\": <u64>, \"data\": [<u8>, ...]}";

  bool in_data() const { return in_data_ && depth_ == 2; }
  std::string element() const { return "'data[" + std::to_string(data.size()) + "]'"; }
  std::string expectation() const {
    return slot_ == Slot::oplog_idx ? "field 'oplogIdx' must be an unsigned 64-bit integer (0 to 18446744073709551615)"
                                    : "field 'data' must be an array of integers from 0 to 255";
  }
  bool scalar(const std::string& what) {
    if (depth_ == 0) return fail(kShape);
    if (in_data()) return fail(element() + " must be an integer from 0 to 255, got " + what);
    if (depth_ == 1 && slot_ != Slot::other) return fail(expectation() + ", got " + what);
    return true;  // inside an ignored field
  }
  bool fail(std::string message) {
    if (error.empty()) error = std::move(message);
    return false;
  }

  int depth_ = 0;
  Slot slot_ = Slot::other;
  bool in_data_ = false;
};

std::string status_text(int status) {
  switch (status) {
    case 400: return "malformed HTTP request";
    case 404: return "not found";
    case 405: return "method not allowed";
    case 413: return "request too large";
    case 414: return "request line too long";
    case 415: return "unsupported Content-Encoding";
    case 416: return "invalid Range header";
    case 417: return "expectation failed";
    case 431: return "request headers too large";
    case 501: return "not implemented";
    default: return "HTTP error " + std::to_string(status);
  }
}

}  // namespace

// ---------------------------------------------------------------- the server

struct HttpServer::Impl {
  Impl(std::shared_ptr<Host> h, HttpServerOptions o)
      : host(std::move(h)), options(std::move(o)), server(limits_of(options)) {}
  ~Impl() { stop(); }

  std::shared_ptr<Host> host;
  HttpServerOptions options;
  ConnectionServer server;
  std::uint16_t port = 0;
  std::thread listener;
  std::atomic<bool> listener_done{false};
  std::mutex stop_mu;

  void stop() {
    std::lock_guard lock(stop_mu);
    if (!listener.joinable()) return;
    server.stop_now();
    listener.join();
  }

  static ConnectionLimits limits_of(const HttpServerOptions& o) {
    ConnectionLimits limits;
    limits.idle_timeout = std::chrono::milliseconds(o.idle_timeout_ms);
    limits.request_timeout = std::chrono::milliseconds(o.request_timeout_ms);
    // httplib closes a keep-alive connection after 5 requests by default, so a client reusing
    // one would reconnect every 5 requests; allow as many as nginx does (keepalive_requests).
    limits.max_requests = 1000;
    limits.threads = static_cast<std::size_t>(o.threads);
    return limits;
  }

  // A request whose reading stopped on one of the server's own limits, answered for that limit
  // (and the connection closed); false for any other failure.
  bool reply_read_failure(Response& res) const {
    switch (ConnectionServer::read_failure()) {
      case ReadFailure::none: return false;
      case ReadFailure::timed_out:
        reply_error(res, 408, "request not received in full within " + std::to_string(options.request_timeout_ms) +
                                  " ms of its first byte");
        break;
      case ReadFailure::headers_too_large:
        reply_error(res, 431, "request line and headers exceed " + std::to_string(kMaxHeaderBytes) + " bytes");
        break;
      case ReadFailure::stopping: reply_error(res, 503, "the server is stopping"); break;
    }
    close_connection(res);
    return true;
  }

  std::string body_limit_message() const {
    return "request body exceeds the limit of " + std::to_string(options.max_body_bytes) + " bytes";
  }

  void configure();
  HandlerResponse route(const Request& req, Response& res);
  void handle_complete(const Request& req, Response& res, const httplib::ContentReader& reader);
  void complete(const WorkerId& worker, const std::string& body, Response& res);
  void get_promise(const WorkerId& worker, std::string_view oplog_idx, Response& res);
};

void HttpServer::Impl::configure() {
  server.set_payload_max_length(static_cast<std::size_t>(options.max_body_bytes));
  server.set_tcp_nodelay(true);
  // httplib's default sets SO_REUSEPORT, which lets a second server bind a port already in use;
  // SO_REUSEADDR alone only allows rebinding over connections in TIME_WAIT.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    ::fcntl(sock, F_SETFD, FD_CLOEXEC);
  });

  server.set_pre_routing_handler([this](const Request& req, Response& res) {
    try {
      return route(req, res);
    } catch (const std::exception& e) {
      reply_unknown(res, e.what());
    } catch (...) {
      reply_unknown(res, "unknown C++ exception");
    }
    close_connection(res);
    return HandlerResponse::Handled;
  });

  // Only reached after route() checked the path; see the note at the top of this file.
  server.Post(R"(/v1/components/[0-9A-Fa-f-]{36}/workers/[A-Za-z0-9_-]{1,100}/complete)",
              [this](const Request& req, Response& res, const httplib::ContentReader& reader) {
                try {
                  handle_complete(req, res, reader);
                } catch (const std::exception& e) {
                  reply_unknown(res, e.what());
                } catch (...) {
                  reply_unknown(res, "unknown C++ exception");
                }
              });

  // httplib's own failures (unparsable request line, 413 by Content-Length, ...) and anything
  // else that leaves an error status without a body get a JSON body too.
  server.set_error_handler(httplib::Server::HandlerWithResponse([this](const Request& req, Response& res) {
    // We serve no byte ranges (RFC 9110 lets a server ignore Range); the Request object is
    // httplib's own non-const one, handed to handlers as const.
    const_cast<Request&>(req).ranges.clear();
    if (!ConnectionServer::routed()) {
      // Refused before routing, so before its body was read (see the connection loop): the
      // answer says the connection closes.
      close_connection(res);
      if (res.status == 400 && is_unknown_method(req.method)) {
        // Golem (poem) answers a method it does not serve with 405, as our routes do.
        reply_error(res, 405, "method " + printable(req.method) + " is not allowed; allowed: GET, POST");
        res.set_header("Allow", "GET, POST");
        return HandlerResponse::Handled;
      }
    }
    if (!res.body.empty()) return HandlerResponse::Handled;
    const int status = res.status;
    if (status == 400 && reply_read_failure(res)) {
      // the request line and headers did not arrive in time or in size
    } else if (status == 400) {
      reply_invalid(res, status_text(status));
    } else if (status == 413) {
      reply_error(res, 413, body_limit_message());
    } else {
      reply_error(res, status, status_text(status));
    }
    return HandlerResponse::Handled;
  }));
  server.set_exception_handler([](const Request&, Response& res, std::exception_ptr) {
    reply_unknown(res, "internal error while handling the request");
  });
}

HandlerResponse HttpServer::Impl::route(const Request& req, Response& res) {
  ConnectionServer::headers_read();
  const_cast<Request&>(req).ranges.clear();  // see the error handler
  // Anything answered here leaves the request's body unread in the connection.
  const auto done = [&] {
    if (has_body(req)) close_connection(res);
    return HandlerResponse::Handled;
  };

  switch (check_auth(req, options.token)) {
    case Auth::ok: break;
    case Auth::missing:
      reply_error(res, 401, "authentication required: send 'Authorization: Bearer <token>'");
      res.set_header("WWW-Authenticate", "Bearer realm=\"golem-promise\"");
      return done();
    case Auth::wrong:
      reply_error(res, 401, "invalid bearer token");
      res.set_header("WWW-Authenticate", "Bearer realm=\"golem-promise\", error=\"invalid_token\"");
      return done();
  }

  const auto r = classify(raw_path(req));
  if (r.kind == Route::Kind::none) {
    reply_error(res, 404, "no such endpoint: " + printable(req.method) + " " + printable(raw_path(req)));
    return done();
  }
  if (!r.allows(req.method)) {
    reply_error(res, 405, "method " + printable(req.method) + " is not allowed on " + printable(raw_path(req)) +
                              "; allowed: " + r.allowed());
    res.set_header("Allow", r.allowed());
    return done();
  }
  if (r.kind == Route::Kind::health) {
    reply(res, 200, R"({"status":"ok"})");
    return done();
  }
  const auto worker = parse_worker_id(r, res);
  if (!worker) return done();
  if (r.kind == Route::Kind::promise) {
    get_promise(*worker, r.oplog_idx, res);
    return done();
  }
  // POST .../complete with a well-formed path: the route handler reads the body.
  if (req.is_multipart_form_data()) {
    reply_error(res, 415, "multipart/form-data is not accepted; send the body as application/json");
    return done();
  }
  const auto encoding = decodable_encoding(req);
  if (!encoding) {
    reply_unsupported_encoding(req, res);
    return done();
  }
  // Written back in the one spelling httplib recognizes, which it reads when the body is read.
  auto& headers = const_cast<Request&>(req).headers;  // httplib's own non-const Request, as above
  headers.erase("Content-Encoding");
  if (!encoding->empty()) headers.emplace("Content-Encoding", *encoding);
  if (req.has_header("Transfer-Encoding")) {
    const auto te = req.get_header_value("Transfer-Encoding");
    if (req.get_header_value_count("Transfer-Encoding") != 1 || strcasecmp(std::string(trim(te)).c_str(), "chunked") != 0) {
      // httplib would read anything but "chunked" as a body that ends when the connection does.
      reply_error(res, 501, "unsupported Transfer-Encoding '" + printable(te) + "': only chunked is accepted");
      return done();
    }
  }
  if (req.has_header("Content-Length") && !req.has_header("Transfer-Encoding")) {
    // httplib reads this header with strtoull, so "abc" would be taken for an empty body and
    // "-5" for one of 2^64-5 bytes (a 413 after the read timeout): answer what is wrong instead.
    const auto length = req.get_header_value("Content-Length");
    if (req.get_header_value_count("Content-Length") != 1) {
      reply_invalid(res, "the Content-Length header must be given once");
      return done();
    }
    if (!parse_u64(length)) {
      reply_invalid(res, "invalid Content-Length header '" + printable(length) + "': expected a decimal byte count");
      return done();
    }
  }
  if (!req.has_header("Content-Length") && !req.has_header("Transfer-Encoding")) {
    // HTTP/1.1: no length and no chunking means no body (httplib would wait for the connection
    // to close instead).
    reply_invalid(res, "request body is missing: expected a JSON object {\"oplogIdx\": <u64>, \"data\": [<u8>, ...]}");
    return done();
  }
  return HandlerResponse::Unhandled;
}

void HttpServer::Impl::handle_complete(const Request& req, Response& res, const httplib::ContentReader& reader) {
  const auto worker = parse_worker_id(classify(raw_path(req)), res);
  if (!worker) {  // cannot happen: route() checked the path first
    close_connection(res);
    return;
  }
  // httplib already refuses a Content-Length over the limit (and skips that body); this also
  // bounds chunked and compressed bodies, counted after decoding.  An oversized body is read
  // on and discarded for a while, so that a client still sending it gets the 413 rather than
  // a reset connection; past that, the connection is closed.
  const std::uint64_t limit = options.max_body_bytes;
  std::string body;
  bool over = false;
  std::uint64_t discarded = 0;
  const bool read = reader([&](const char* data, std::size_t n) {
    if (over) {
      discarded += n;
      return discarded <= kMaxDiscard;
    }
    if (n > limit - body.size()) {
      over = true;
      discarded = body.size() + n;
      std::string().swap(body);
      return discarded <= kMaxDiscard;
    }
    body.append(data, n);
    return true;
  });
  if (!read || over) {
    const int status = res.status;  // httplib's reason: 413 (Content-Length), 415, or 400
    if (!over && reply_read_failure(res)) {
      return;  // the body did not arrive in time, or the server is stopping
    } else if (over || status == 413) {
      reply_error(res, 413, body_limit_message());
    } else if (status == 415) {
      reply_unsupported_encoding(req, res);
    } else {
      reply_invalid(res, "could not read the request body (truncated, timed out, malformed chunked encoding, or not valid in its Content-Encoding)");
    }
    if (!read && !(status == 413 && !over)) close_connection(res);  // body not read to its end
    return;
  }
  complete(*worker, body, res);
}

void HttpServer::Impl::complete(const WorkerId& worker, const std::string& body, Response& res) {
  CompleteBody parsed;
  if (!parsed.parse(body)) {
    reply_invalid(res, parsed.error);
    return;
  }
  const PromiseId id{worker, *parsed.oplog_idx};
  try {
    if (!host->has_worker(worker)) {
      reply_error(res, 404, "worker " + worker.to_string() + " not found");
      return;
    }
    // Host-level: the outside party.  Committed (durable on a file host) and waiters woken
    // before it returns, so before the client hears "true".
    const bool completed = host->complete(id, parsed.data.data(), parsed.data.size());
    reply(res, 200, completed ? "true" : "false");
  } catch (const Error& e) {
    reply_core_error(res, e, id, 500);
  }
}

void HttpServer::Impl::get_promise(const WorkerId& worker, std::string_view oplog_idx, Response& res) {
  const auto idx = parse_u64(oplog_idx);
  if (!idx) {
    reply_invalid(res, "invalid oplog index '" + printable(oplog_idx) +
                           "': expected an unsigned 64-bit decimal integer");
    return;
  }
  const PromiseId id{worker, *idx};
  try {
    if (!host->has_worker(worker)) {
      reply_error(res, 404, "worker " + worker.to_string() + " not found");
      return;
    }
    auto payload = host->poll(id);
    if (!payload) {
      reply(res, 200, R"({"state":"pending"})");
      return;
    }
    std::string body = R"({"state":"completed","data":)";
    append_byte_array(body, payload->data.get(), payload->len);
    body += '}';
    reply(res, 200, std::move(body));
  } catch (const Error& e) {
    reply_core_error(res, e, id, 404);  // a GET of something gone: 404, with Golem's error body
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
  if (options.threads < 1 || options.threads > kMaxThreads) {
    throw Error(Errc::invalid, "server threads must be from 1 to " + std::to_string(kMaxThreads) + ", got " +
                                   std::to_string(options.threads));
  }
  for (const auto& [name, ms] : {std::pair{"request_timeout_ms", options.request_timeout_ms},
                                 std::pair{"idle_timeout_ms", options.idle_timeout_ms}}) {
    if (ms < 1 || ms > kMaxTimeoutMs) {
      throw Error(Errc::invalid, std::string("server ") + name + " must be from 1 to " + std::to_string(kMaxTimeoutMs) +
                                     " (one hour), got " + std::to_string(ms));
    }
  }
  if (options.max_body_bytes == 0 || options.max_body_bytes > std::numeric_limits<std::size_t>::max()) {
    throw Error(Errc::invalid, "server max_body_bytes must be positive");
  }
  for (const char c : options.token) {
    if (c < 0x21 || c > 0x7e) {
      throw Error(Errc::invalid, "server token must be visible ASCII characters (no spaces or control characters)");
    }
  }

  auto impl = std::make_unique<Impl>(std::move(host), options);
  impl->configure();
  const bool ipv6 = options.address.find(':') != std::string::npos;
  const auto where = (ipv6 ? "[" + options.address + "]" : options.address) + ":" + std::to_string(options.port);
  errno = 0;
  int port = -1;
  if (options.port == 0) {
    port = impl->server.bind_to_any_port(options.address);
  } else if (impl->server.bind_to_port(options.address, options.port)) {
    port = options.port;
  }
  if (port <= 0) {
    const int err = errno;
    throw Error(Errc::io, "cannot listen on " + where + ": " +
                              (err ? std::error_code(err, std::generic_category()).message()
                                   : std::string("the address could not be resolved or bound")));
  }
  impl->port = static_cast<std::uint16_t>(port);
  Impl* raw = impl.get();
  impl->listener = std::thread([raw] {
    raw->server.listen_after_bind();
    raw->listener_done = true;
  });
  // stop() is a no-op until the accept loop runs, so do not hand out the server before then.
  while (!raw->server.is_running() && !raw->listener_done) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
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
