// Status codes, their texts, the thread-local last error, and the version.
#include <string>

#include "common.hpp"

namespace {
thread_local std::string t_last_message;
thread_local int t_last_code = GP_OK;
}  // namespace

namespace gp::capi {
int set_error(int code, const char* message) noexcept {
  try {
    t_last_message = message ? message : "";
  } catch (...) {
    t_last_message.clear();  // out of memory while reporting: keep the code at least
  }
  t_last_code = code;
  return code;
}
}  // namespace gp::capi

extern "C" {

GP_API const char* gp_version(void) { return GP_VERSION_STRING; }

GP_API unsigned gp_version_number(void) { return GP_VERSION_NUMBER; }

GP_API const char* gp_errstr(int code) {
  switch (code) {
    case GP_OK: return "GP_OK: success";
    case GP_EINVAL: return "GP_EINVAL: invalid argument";
    case GP_ENOTFOUND: return "GP_ENOTFOUND: promise not found";
    case GP_ETIMEOUT: return "GP_ETIMEOUT: timed out waiting for the promise";
    case GP_ECORRUPT: return "GP_ECORRUPT: stored data is damaged";
    case GP_EIO: return "GP_EIO: database I/O error";
    case GP_ENOMEM: return "GP_ENOMEM: out of memory";
    case GP_EBUSY: return "GP_EBUSY: database is locked";
    case GP_ENOTOWNER: return "GP_ENOTOWNER: promise belongs to another worker";
    case GP_ETOOBIG: return "GP_ETOOBIG: payload too large";
    case GP_ESCHEMA: return "GP_ESCHEMA: not a golem-promise database of a supported version";
    case GP_ENONDETERMINISM: return "GP_ENONDETERMINISM: host call differs from the recorded oplog";
    case GP_EWORKERNOTFOUND: return "GP_EWORKERNOTFOUND: worker not found";
    case GP_ECONFLICT: return "GP_ECONFLICT: another handle of the worker appended to its oplog";
    case GP_ELISTEN: return "GP_ELISTEN: cannot listen on the address";
    case GP_ENOENTRY: return "GP_ENOENTRY: no such oplog entry";
    case GP_EINTERNAL: return "GP_EINTERNAL: internal error";
    default: return "unknown status code";
  }
}

GP_API const char* gp_last_error_message(void) { return t_last_message.c_str(); }

GP_API int gp_last_error_code(void) { return t_last_code; }

}  // extern "C"
