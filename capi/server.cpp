// gp_server_*: the HTTP completion endpoint (server/http_server.hpp) started and stopped from C.
#include <cstddef>
#include <cstring>

#include "common.hpp"
#include "server/http_server.hpp"

struct gp_server {
  std::unique_ptr<gp::HttpServer> impl;
};

using namespace gp::capi;

extern "C" {

GP_API int gp_server_options_init(gp_server_options_t* opts, unsigned int version) {
  return guard([&] {
    require(opts, "opts");
    if (version < 1 || version > GP_SERVER_OPTIONS_VERSION) {
      throw gp::Error(gp::Errc::invalid, "gp_server_options_init: version must be 1.." +
                                             std::to_string(GP_SERVER_OPTIONS_VERSION) + ", got " + std::to_string(version));
    }
    // A version-1 caller's struct ends before request_timeout_ms: write only what it has.
    const std::size_t size = version == 1 ? offsetof(gp_server_options_t, request_timeout_ms) : sizeof *opts;
    std::memset(static_cast<void*>(opts), 0, size);
    opts->version = version;
  });
}

GP_API int gp_server_start(gp_server** out, gp_host* host, const gp_server_options_t* opts) {
  return guard([&] {
    require(out, "out");
    *out = nullptr;
    require(host, "host");
    gp::HttpServerOptions options;
    if (opts) {
      if (opts->version < 1 || opts->version > GP_SERVER_OPTIONS_VERSION) {
        throw gp::Error(gp::Errc::invalid, "gp_server_options_t.version must be 1 or GP_SERVER_OPTIONS_VERSION (" +
                                               std::to_string(GP_SERVER_OPTIONS_VERSION) + "), got " +
                                               std::to_string(opts->version));
      }
      if (opts->address) options.address = opts->address;
      options.port = opts->port;
      if (opts->token) options.token = opts->token;
      if (opts->max_body_bytes) options.max_body_bytes = opts->max_body_bytes;
      if (opts->threads < 0) {
        throw gp::Error(gp::Errc::invalid, "gp_server_options_t.threads must be >= 0, got " + std::to_string(opts->threads));
      }
      if (opts->threads) options.threads = opts->threads;
      if (opts->version >= 2) {  // a version-1 struct ends before these fields
        for (const auto& [name, ms] : {std::pair{"request_timeout_ms", opts->request_timeout_ms},
                                       std::pair{"idle_timeout_ms", opts->idle_timeout_ms}}) {
          if (ms < 0) {
            throw gp::Error(gp::Errc::invalid, std::string("gp_server_options_t.") + name + " must be >= 0, got " +
                                                   std::to_string(ms));
          }
        }
        if (opts->request_timeout_ms) options.request_timeout_ms = opts->request_timeout_ms;
        if (opts->idle_timeout_ms) options.idle_timeout_ms = opts->idle_timeout_ms;
      }
    }
    auto handle = std::make_unique<gp_server>();
    handle->impl = gp::HttpServer::start(host->impl, options);
    *out = handle.release();
  });
}

GP_API int gp_server_port(uint16_t* out, const gp_server* server) {
  return guard([&] {
    require(out, "out");
    *out = 0;
    *out = require(server, "server")->impl->port();
  });
}

GP_API int gp_server_url(char* out, size_t out_size, const gp_server* server) {
  return guard([&] {
    require(out, "out");
    if (out_size) out[0] = '\0';
    write_text(out, out_size, require(server, "server")->impl->url());
  });
}

GP_API void gp_server_stop(gp_server** server) {
  if (server == nullptr) return;
  std::unique_ptr<gp_server> owned(*server);
  *server = nullptr;
  // ~HttpServer stops and joins; nothing in it throws across this boundary.
}

}  // extern "C"
