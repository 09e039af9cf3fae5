// Process-wide tuning that a host application opts into (see golem_promise.h).
#include <sqlite3.h>

#include "common.hpp"

extern "C" {

GP_API int gp_sqlite_disable_memstatus(void) {
  return gp::capi::guard([] {
    // SQLITE_MISUSE is SQLite's answer once it is initialised: then nothing changed.
    if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK) {
      throw gp::Error(gp::Errc::invalid,
                      "SQLite is already initialised in this process; gp_sqlite_disable_memstatus must "
                      "be called before any SQLite use (first thing in main)");
    }
  });
}

}  // extern "C"
