// Golem's REST completion endpoint (DESIGN §4), served from a host on its own threads.
//
//   POST /v1/components/{component_id}/workers/{worker_name}/complete   {"oplogIdx": N, "data": [..]}
//   GET  /v1/components/{component_id}/workers/{worker_name}/promises/{oplog_idx}   (our extension)
//   GET  /healthz
//
// Every answer, status by status, is in docs/http.md.  Boost.Beast stays out of this header (the
// server's state lives behind a pointer).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace gp {

class Host;

struct HttpServerOptions {
  std::string address = "127.0.0.1";  // numeric IPv4/IPv6 address or host name to listen on
  std::uint16_t port = 0;             // 0 = an ephemeral port, readable with port()
  std::string token;                  // non-empty: every request needs "Authorization: Bearer <token>"
  std::uint64_t max_body_bytes = 64ull * 1024 * 1024 + 64 * 1024;  // larger get 413 (GP_SERVER_DEFAULT_MAX_BODY)
  int threads = 64;                   // most requests waiting for a file host at once (started as needed)
  int io_threads = 0;                 // threads serving the sockets; 0 = one per core
  int request_timeout_ms = 10'000;    // a request arrives whole, and its answer is taken, within this
  int idle_timeout_ms = 2'000;        // a keep-alive connection waits this long for its next request
};

class HttpServer {
 public:
  // Binds and starts serving before it returns.  Throws Error(invalid) for bad options and
  // Error(io) when the address cannot be bound (port in use, unknown address).
  static std::unique_ptr<HttpServer> start(std::shared_ptr<Host> host, const HttpServerOptions& options);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Stops accepting and closes every connection: requests being read are cut short, completions
  // being handled finish (their answers are sent if the client takes them at once), and every
  // server thread is joined.  Waits for no client.  Idempotent.
  void stop();

  std::uint16_t port() const;
  const std::string& address() const;
  std::string url() const;  // "http://address:port" ("http://[address]:port" for IPv6)

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gp
