#include "printable.hpp"

#include <algorithm>

namespace gp {

namespace {

// The length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no surrogates, at most
// U+10FFFF) that starts text, or 0 if it does not start with one.
std::size_t utf8_sequence(std::string_view text) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const auto cont = [&](std::size_t i) { return i < text.size() && (b(i) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if ((c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) > 0x9F)) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if ((c == 0xF0 && b(1) < 0x90) || (c == 0xF4 && b(1) > 0x8F)) return 0;
    return 4;
  }
  return 0;
}

}  // namespace

std::string printable(std::string_view text, std::size_t shown) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::min(text.size(), shown) + 3);
  std::size_t i = 0;
  // Whole characters only: a message cut inside a UTF-8 sequence, or quoting bytes that are not
  // UTF-8, would not be text, and bindings that decode it (Python) would fail on it.
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t n = utf8_sequence(text.substr(i));
    if (n == 0 || c < 0x20 || c == 0x7f || c == '\\') {
      if (i + 1 > shown) break;
      if (c == '\\') {
        out += "\\\\";
      } else {
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
      }
      i += 1;
    } else {
      if (i + n > shown) break;
      out.append(text.substr(i, n));
      i += n;
    }
  }
  if (i < text.size()) out += "...";
  return out;
}

std::string quoted(std::string_view text) { return "'" + printable(text) + "'"; }

}  // namespace gp
