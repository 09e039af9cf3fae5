// Errors inside the core: one exception type carrying one typed code.  The C ABI turns each into
// its pinned GP_E* status; nothing else crosses the boundary.
#pragma once
#include <stdexcept>
#include <string>

namespace gp {

// Values equal the public GP_E* codes so the C layer maps them without a table.
enum class Errc : int {
  ok = 0,
  invalid = -1,
  not_found = -2,
  timeout = -3,
  corrupt = -4,
  io = -5,
  no_memory = -6,
  busy = -7,
  not_owner = -8,
  too_big = -9,
  schema = -10,
  non_determinism = -11,
  worker_not_found = -12,
  conflict = -13,
  listen = -14,     // a server could not listen on its address
  no_entry = -15,   // an oplog has no entry at that index
  internal = -99,
};

class Error : public std::runtime_error {
 public:
  Error(Errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Errc code() const noexcept { return code_; }

 private:
  Errc code_;
};

}  // namespace gp
