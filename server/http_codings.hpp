// Content-Encoding of request bodies: gzip and deflate (zlib format) decoded with Boost.Beast's
// inflate (a port of zlib's, header-only, so the library links no libz), br with the brotli
// decoder linked statically.  Output is bounded: a small body cannot inflate past the limit.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace gp {

// The codings decoded, as the 415 message lists them.
constexpr const char* kDecodedEncodings = "gzip, deflate, br";

enum class Decoded { ok, too_large, invalid };

// Decodes body in `coding` ("gzip", "deflate" or "br") into out, at most limit bytes.
Decoded decode_body(std::string_view coding, std::string_view body, std::uint64_t limit, std::string& out);

}  // namespace gp
