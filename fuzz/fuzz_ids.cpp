// Fuzz target: id parsing (uuid, worker id, promise id, worker name) through the C ABI.
// Invariants: any text either parses or is GP_EINVAL with a message; what parses formats to a
// text that parses to the same id, and formatting that again gives the same text.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "golem_promise.h"

namespace {
void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_ids: invariant broken: %s (%s)\n", what, gp_last_error_message());
    std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);  // NUL-terminated; may hold NULs
  const char* c = text.c_str();

  gp_uuid_t u{};
  int rc = gp_uuid_parse(&u, c);
  check(rc == GP_OK || rc == GP_EINVAL, "gp_uuid_parse returns OK or EINVAL");
  if (rc == GP_OK) {
    char out[GP_UUID_TEXT_SIZE];
    check(gp_uuid_format(out, sizeof out, &u) == GP_OK, "a parsed uuid formats");
    gp_uuid_t again{};
    check(gp_uuid_parse(&again, out) == GP_OK && again.high_bits == u.high_bits && again.low_bits == u.low_bits,
          "a formatted uuid parses to itself");
  } else {
    check(std::strlen(gp_last_error_message()) > 0, "an error has a message");
  }

  rc = gp_worker_name_validate(c);
  check(rc == GP_OK || rc == GP_EINVAL, "gp_worker_name_validate returns OK or EINVAL");

  gp_worker_id_t w{};
  rc = gp_worker_id_parse(&w, c);
  check(rc == GP_OK || rc == GP_EINVAL, "gp_worker_id_parse returns OK or EINVAL");
  if (rc == GP_OK) {
    char out[GP_WORKER_ID_TEXT_SIZE];
    check(gp_worker_id_format(out, sizeof out, &w) == GP_OK, "a parsed worker id formats");
    gp_worker_id_t again{};
    check(gp_worker_id_parse(&again, out) == GP_OK && std::memcmp(&again, &w, sizeof w) == 0,
          "a formatted worker id parses to itself");
  }

  gp_promise_id_t p{};
  rc = gp_promise_id_parse(&p, c);
  check(rc == GP_OK || rc == GP_EINVAL, "gp_promise_id_parse returns OK or EINVAL");
  if (rc == GP_OK) {
    char out[GP_PROMISE_ID_TEXT_SIZE];
    check(gp_promise_id_format(out, sizeof out, &p) == GP_OK, "a parsed promise id formats");
    gp_promise_id_t again{};
    check(gp_promise_id_parse(&again, out) == GP_OK && std::memcmp(&again, &p, sizeof p) == 0,
          "a formatted promise id parses to itself");
    char twice[GP_PROMISE_ID_TEXT_SIZE];
    check(gp_promise_id_format(twice, sizeof twice, &again) == GP_OK && std::strcmp(out, twice) == 0,
          "formatting is stable");
  }
  return 0;
}
