// The same consumer as strict.c, compiled as C++17 with -Wall -Wextra -Werror -Wold-style-cast
// -pedantic: the header's macros (GP_MAX_PAYLOAD, GP_SERVER_DEFAULT_MAX_BODY, the *_INIT
// initializers) must need no cast a C++ host's warnings refuse.
#include "strict.c"
