// A small synchronous HTTP/1.1 client for the endpoint's tests, on Boost.Beast (a different code
// path from the server's: Beast's response parser and serializer, blocking sockets), with the
// few request shapes the tests send: plain, chunked in pieces, gzip-compressed, multipart.
#pragma once
#include <brotli/encode.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <zlib.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace gp_http_test {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Response {
  int status = 0;
  std::string body;
  boost::beast::http::fields headers;

  std::string get_header_value(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : std::string(it->value());
  }
};

// An answer, or why there is none (connection refused, closed, timed out).
class Result {
 public:
  Result() = default;
  explicit Result(Response r) : r_(std::move(r)) {}
  static Result failed(std::string why) {
    Result r;
    r.error_ = std::move(why);
    return r;
  }
  explicit operator bool() const { return r_.has_value(); }
  const Response* operator->() const {
    if (!r_) throw std::runtime_error("no HTTP answer: " + error_);
    return &*r_;
  }
  const std::string& error() const { return error_; }

 private:
  std::optional<Response> r_;
  std::string error_;
};

// gzip (RFC 1952) of text, with zlib.
inline std::string gzip(const std::string& text) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2");
  std::string out(deflateBound(&z, text.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate");
  return out;
}

// HTTP's "deflate": the zlib format (RFC 1950).
inline std::string zlib_deflate(const std::string& text) {
  uLongf n = compressBound(text.size());
  std::string out(n, '\0');
  if (compress(reinterpret_cast<Bytef*>(out.data()), &n, reinterpret_cast<const Bytef*>(text.data()), text.size()) != Z_OK) {
    throw std::runtime_error("compress");
  }
  out.resize(n);
  return out;
}

inline std::string brotli(const std::string& text) {
  std::size_t n = BrotliEncoderMaxCompressedSize(text.size());
  std::string out(n, '\0');
  if (!BrotliEncoderCompress(BROTLI_DEFAULT_QUALITY, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, text.size(),
                             reinterpret_cast<const std::uint8_t*>(text.data()), &n, reinterpret_cast<std::uint8_t*>(out.data()))) {
    throw std::runtime_error("BrotliEncoderCompress");
  }
  out.resize(n);
  return out;
}

class Client {
 public:
  Client(std::string host, std::uint16_t port) : host_(std::move(host)), port_(port) {}

  void set_keep_alive(bool on) { keep_alive_ = on; }
  void set_compress(bool on) { compress_ = on; }  // gzip every request body

  Result Get(const std::string& path, const Headers& headers = {}) { return send("GET", path, headers, std::nullopt, ""); }
  Result Head(const std::string& path) { return send("HEAD", path, {}, std::nullopt, ""); }
  Result Delete(const std::string& path) { return send("DELETE", path, {}, std::nullopt, ""); }
  Result Post(const std::string& path) { return send("POST", path, {}, std::nullopt, ""); }
  Result Post(const std::string& path, const std::string& body, const std::string& type) {
    return send("POST", path, {}, body, type);
  }
  Result Post(const std::string& path, const Headers& headers, const std::string& body, const std::string& type) {
    return send("POST", path, headers, body, type);
  }
  Result Put(const std::string& path, const std::string& body, const std::string& type) { return send("PUT", path, {}, body, type); }
  Result Patch(const std::string& path, const std::string& body, const std::string& type) {
    return send("PATCH", path, {}, body, type);
  }

  // The body in chunks of `piece` bytes (Transfer-Encoding: chunked).
  Result PostChunked(const std::string& path, const std::string& body, std::size_t piece, const std::string& type) {
    std::string head = "POST " + path + " HTTP/1.1\r\nHost: " + host_ + "\r\nContent-Type: " + type +
                       "\r\nTransfer-Encoding: chunked\r\n" + (keep_alive_ ? "" : "Connection: close\r\n") + "\r\n";
    for (std::size_t at = 0; at < body.size(); at += piece) {
      const auto n = std::min(piece, body.size() - at);
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", n);
      head += size;
      head.append(body, at, n);
      head += "\r\n";
    }
    head += "0\r\n\r\n";
    return exchange(head, false);
  }

  // One form field as multipart/form-data.
  Result PostMultipart(const std::string& path, const std::string& name, const std::string& value) {
    const std::string boundary = "gp-test-boundary";
    const std::string body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value +
                             "\r\n--" + boundary + "--\r\n";
    return send("POST", path, {}, body, "multipart/form-data; boundary=" + boundary);
  }

 private:
  Result send(const std::string& method, const std::string& path, const Headers& headers,
              const std::optional<std::string>& body, const std::string& type) {
    namespace http = boost::beast::http;
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(path);
    req.version(11);
    req.set(http::field::host, host_);
    for (const auto& [name, value] : headers) req.insert(name, value);
    if (body) {
      req.set(http::field::content_type, type);
      if (compress_) {
        req.set(http::field::content_encoding, "gzip");
        req.body() = gzip(*body);
      } else {
        req.body() = *body;
      }
      req.prepare_payload();
    } else if (method == "POST" || method == "PUT" || method == "PATCH") {
      req.content_length(0);
    }
    req.keep_alive(keep_alive_);
    std::ostringstream text;
    text << req;
    return exchange(text.str(), method == "HEAD");
  }

  Result exchange(const std::string& request, bool head) {
    namespace http = boost::beast::http;
    namespace net = boost::asio;
    try {
      if (!socket_) {
        socket_ = std::make_unique<net::ip::tcp::socket>(ioc_);
        net::ip::tcp::resolver resolver(ioc_);
        net::connect(*socket_, resolver.resolve(host_, std::to_string(port_)));
        socket_->set_option(net::ip::tcp::no_delay(true));
        timeval tv{20, 0};  // read and write timeouts, as the tests' old client had
        ::setsockopt(socket_->native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(socket_->native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      }
      net::write(*socket_, net::buffer(request));
      http::response_parser<http::string_body> parser;
      parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      parser.skip(head);
      http::read(*socket_, buffer_, parser);
      auto res = parser.release();
      Response out;
      out.status = static_cast<int>(res.result_int());
      out.body = std::move(res.body());
      for (const auto& f : res) out.headers.insert(f.name_string(), f.value());
      if (!keep_alive_ || !res.keep_alive()) {
        socket_.reset();
        buffer_.clear();
      }
      return Result(std::move(out));
    } catch (const std::exception& e) {
      socket_.reset();
      buffer_.clear();
      return Result::failed(e.what());
    }
  }

  std::string host_;
  std::uint16_t port_;
  bool keep_alive_ = false;
  bool compress_ = false;
  boost::asio::io_context ioc_;
  std::unique_ptr<boost::asio::ip::tcp::socket> socket_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace gp_http_test
