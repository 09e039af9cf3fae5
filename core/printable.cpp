#include "printable.hpp"

namespace gp {

std::string printable(std::string_view text, std::size_t shown) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto head = text.substr(0, shown);
  std::string out;
  out.reserve(head.size() + 3);
  for (const char ch : head) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += ch;
    }
  }
  if (text.size() > shown) out += "...";
  return out;
}

std::string quoted(std::string_view text) { return "'" + printable(text) + "'"; }

}  // namespace gp
