#include "http_codings.hpp"

#include <brotli/decode.h>

#include <boost/beast/zlib/inflate_stream.hpp>
#include <boost/crc.hpp>
#include <memory>

namespace gp {
namespace {

namespace zlib = boost::beast::zlib;
constexpr std::size_t kChunk = 64 * 1024;

// Inflates the raw deflate stream at the start of `in` into out (bounded by limit), followed by a
// trailer of `trailer` bytes.  Beast's inflate reads whole bytes ahead into its bit buffer and
// does not give back the ones it did not use, so where the stream ends is not known exactly: the
// trailer is taken from the end of the input, and at most that many bytes may be left over.
Decoded inflate_raw(std::string_view in, std::size_t trailer, std::uint64_t limit, std::string& out) {
  zlib::inflate_stream stream;
  stream.reset(15);
  zlib::z_params zs;
  zs.next_in = in.data();
  zs.avail_in = in.size();
  for (;;) {
    const auto have = out.size();
    const auto room = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, limit + 1 - have));
    out.resize(have + room);
    zs.next_out = out.data() + have;
    zs.avail_out = room;
    boost::system::error_code ec;
    stream.write(zs, zlib::Flush::none, ec);
    out.resize(have + room - zs.avail_out);
    if (out.size() > limit) return Decoded::too_large;
    if (ec == zlib::error::end_of_stream) return zs.avail_in <= trailer ? Decoded::ok : Decoded::invalid;
    if (ec == zlib::error::need_buffers && zs.avail_in == 0) return Decoded::invalid;  // truncated
    if (ec && ec != zlib::error::need_buffers) return Decoded::invalid;
  }
}

std::uint32_t le32(std::string_view in, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[at + static_cast<std::size_t>(i)]);
  return v;
}

std::uint32_t adler32(std::string_view data) {
  constexpr std::uint32_t kMod = 65521;
  std::uint32_t a = 1, b = 0;
  while (!data.empty()) {
    const auto n = std::min<std::size_t>(data.size(), 5552);  // no overflow before the modulo
    for (std::size_t i = 0; i < n; ++i) {
      a += static_cast<unsigned char>(data[i]);
      b += a;
    }
    a %= kMod;
    b %= kMod;
    data.remove_prefix(n);
  }
  return (b << 16) | a;
}

// RFC 1952, one member (what HTTP clients send): a header, a raw deflate stream, then CRC-32 and
// size in the last 8 bytes.
Decoded gunzip(std::string_view in, std::uint64_t limit, std::string& out) {
  if (in.size() < 18) return Decoded::invalid;
  const auto* h = reinterpret_cast<const unsigned char*>(in.data());
  if (h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 || (h[3] & 0xe0) != 0) return Decoded::invalid;
  const unsigned flags = h[3];
  const std::size_t end = in.size() - 8;
  std::size_t pos = 10;
  if (flags & 4) {  // FEXTRA
    if (end - pos < 2) return Decoded::invalid;
    pos += 2 + (static_cast<unsigned char>(in[pos]) | (static_cast<std::size_t>(static_cast<unsigned char>(in[pos + 1])) << 8));
  }
  for (const unsigned text : {8u, 16u}) {  // FNAME, FCOMMENT: NUL-terminated
    if (!(flags & text) || pos >= end) continue;
    const auto nul = in.substr(0, end).find('\0', pos);
    if (nul == std::string_view::npos) return Decoded::invalid;
    pos = nul + 1;
  }
  if (flags & 2) pos += 2;  // FHCRC
  if (pos >= end) return Decoded::invalid;
  if (const auto r = inflate_raw(in.substr(pos), 8, limit, out); r != Decoded::ok) return r;
  boost::crc_32_type crc;
  crc.process_bytes(out.data(), out.size());
  if (crc.checksum() != le32(in, end) || static_cast<std::uint32_t>(out.size()) != le32(in, end + 4)) {
    return Decoded::invalid;
  }
  return Decoded::ok;
}

// RFC 1950 (HTTP's "deflate"): a two-byte header, a raw deflate stream, Adler-32 in the last 4.
Decoded unzlib(std::string_view in, std::uint64_t limit, std::string& out) {
  if (in.size() < 7) return Decoded::invalid;
  const auto cmf = static_cast<unsigned char>(in[0]), flg = static_cast<unsigned char>(in[1]);
  if ((cmf & 0x0f) != 8 || (cmf >> 4) > 7 || (cmf * 256u + flg) % 31 != 0 || (flg & 0x20)) return Decoded::invalid;
  if (const auto r = inflate_raw(in.substr(2), 4, limit, out); r != Decoded::ok) return r;
  std::uint32_t want = 0;
  for (std::size_t i = in.size() - 4; i < in.size(); ++i) want = (want << 8) | static_cast<unsigned char>(in[i]);
  return adler32(out) == want ? Decoded::ok : Decoded::invalid;
}

Decoded unbrotli(std::string_view in, std::uint64_t limit, std::string& out) {
  std::unique_ptr<BrotliDecoderState, decltype(&BrotliDecoderDestroyInstance)> state(
      BrotliDecoderCreateInstance(nullptr, nullptr, nullptr), &BrotliDecoderDestroyInstance);
  if (!state) throw std::bad_alloc();
  auto next_in = reinterpret_cast<const std::uint8_t*>(in.data());
  std::size_t avail_in = in.size();
  for (;;) {
    const auto have = out.size();
    const auto room = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, limit + 1 - have));
    out.resize(have + room);
    auto next_out = reinterpret_cast<std::uint8_t*>(out.data() + have);
    std::size_t avail_out = room;
    const auto r = BrotliDecoderDecompressStream(state.get(), &avail_in, &next_in, &avail_out, &next_out, nullptr);
    out.resize(have + room - avail_out);
    if (out.size() > limit) return Decoded::too_large;
    if (r == BROTLI_DECODER_RESULT_SUCCESS) return avail_in == 0 ? Decoded::ok : Decoded::invalid;
    if (r != BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT) return Decoded::invalid;  // an error, or truncated
  }
}

}  // namespace

Decoded decode_body(std::string_view coding, std::string_view body, std::uint64_t limit, std::string& out) {
  out.clear();
  if (coding == "gzip") return gunzip(body, limit, out);
  if (coding == "deflate") return unzlib(body, limit, out);
  if (coding == "br") return unbrotli(body, limit, out);
  return Decoded::invalid;
}

}  // namespace gp
