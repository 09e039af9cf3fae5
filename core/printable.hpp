// Text from a caller or a client (an id, a path segment, a header) quoted inside an error message.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace gp {

// The first `shown` bytes of text, then "..." if there were more, with every control character
// (NUL included), DEL and '\' written as \xHH (\\ for '\'), so that a message is never cut at a
// NUL when read as a C string and carries no line breaks or terminal escapes.  Other bytes are
// kept as they are (answers that are JSON replace invalid UTF-8 when they are written).
std::string printable(std::string_view text, std::size_t shown = 120);

// printable(text) between single quotes: 'text'.
std::string quoted(std::string_view text);

}  // namespace gp
