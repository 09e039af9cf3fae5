// Text from a caller or a client (an id, a path segment, a header) quoted inside an error message.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace gp {

// At most the first `shown` bytes of text, cut between whole characters, then "..." if there
// were more, with every control character (NUL included), DEL, '\' and each byte that is not part
// of a well-formed UTF-8 sequence written as \xHH (\\ for '\'): a message is never cut at a NUL
// when read as a C string, carries no line breaks or terminal escapes, and is always UTF-8.
std::string printable(std::string_view text, std::size_t shown = 120);

// printable(text) between single quotes: 'text'.
std::string quoted(std::string_view text);

}  // namespace gp
