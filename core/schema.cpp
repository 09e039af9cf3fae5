// The one place that defines the database layout.
//
// A promise's payload lives in its own row.  Deleting a completed promise keeps the row as a
// tombstone (state 2) holding the payload, because the worker's oplog may refer to it and
// replaying the worker must still return it; a pending promise's row is simply removed.
#include "schema.hpp"

#include <string>

namespace gp {

namespace {

const char* const kCreateV1 = R"sql(
CREATE TABLE workers (
  id           INTEGER PRIMARY KEY,
  component_id TEXT    NOT NULL,   -- lower-case UUID text
  worker_name  TEXT    NOT NULL,
  created_us   INTEGER NOT NULL,
  UNIQUE (component_id, worker_name)
);
CREATE TABLE oplog (
  -- (workers.id << 40) | index (1, 2, 3, ... per worker): an integer key, so appending an entry
  -- is SQLite's cheap append at the right edge of one b-tree.
  key    INTEGER PRIMARY KEY,
  kind   INTEGER NOT NULL,         -- GP_OPLOG_* (also inside the entry; checked on read)
  entry  BLOB    NOT NULL,         -- FlatBuffers gp.fb.Entry (core/oplog.fbs)
  -- For people reading the file with the sqlite3 shell; computed, never stored.
  worker INTEGER GENERATED ALWAYS AS (key >> 40) VIRTUAL,
  idx    INTEGER GENERATED ALWAYS AS (key & 1099511627775) VIRTUAL
);
CREATE TABLE promises (
  -- (workers.id << 40) | oplog index of the create-promise entry: one integer key, so each
  -- state change touches one b-tree and large payloads can use incremental blob I/O by rowid.
  key     INTEGER PRIMARY KEY,
  state   INTEGER NOT NULL,        -- 0 pending, 1 completed, 2 deleted (payload kept for replay)
  payload BLOB                     -- NULL while pending
);
)sql";

// migrations[v] brings a database from schema version v to v + 1.  Version 0 is "empty".
const char* const kMigrations[] = {kCreateV1};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion,
              "one migration step per schema version");

std::int64_t count_objects(sql::Db& db) {
  return db.pragma_int("SELECT count(*) FROM sqlite_master");
}

}  // namespace

namespace {

struct Header {
  std::int64_t app_id = 0;
  std::int64_t version = 0;
  std::int64_t objects = 0;
};

// Reads the three facts that identify a database.  Callers hold a transaction, so the facts
// come from one snapshot even while another process is initialising the file.
Header read_header(sql::Db& db) {
  Header h;
  try {
    h.app_id = db.pragma_int("PRAGMA application_id");
  } catch (const Error& e) {
    if (e.code() == Errc::schema) {  // SQLITE_NOTADB
      throw Error(Errc::schema, std::string("not a golem-promise database (not an SQLite file): ") + e.what());
    }
    if (e.code() == Errc::corrupt) {
      throw Error(Errc::corrupt, std::string("the database file is damaged: ") + e.what());
    }
    throw;
  }
  h.version = db.pragma_int("PRAGMA user_version");
  h.objects = count_objects(db);
  return h;
}

// Throws unless the database is empty or ours at a version we understand.
void check_header(const Header& h) {
  if (h.app_id == 0 && h.version == 0 && h.objects == 0) return;  // empty: ours to create
  if (h.app_id != kApplicationId) {
    throw Error(Errc::schema, "not a golem-promise database: an SQLite file with application_id " +
                                  std::to_string(h.app_id) + " and " + std::to_string(h.objects) +
                                  " schema objects; refusing to touch it");
  }
  if (h.version > kSchemaVersion) {
    throw Error(Errc::schema, "the database has schema version " + std::to_string(h.version) +
                                  ", newer than this golem-promise understands (" +
                                  std::to_string(kSchemaVersion) + "); upgrade golem-promise");
  }
}

}  // namespace

void prepare_schema(sql::Db& db) {
  Header h;
  {
    sql::Txn snapshot(db, sql::Txn::read);
    h = read_header(db);
  }
  check_header(h);
  if (h.version == kSchemaVersion) return;

  if (sqlite3_db_readonly(db.raw(), "main") == 1) {
    throw Error(Errc::io, "the database is read-only and needs its schema created or migrated");
  }
  sql::Txn txn(db);
  // Another process may have created or migrated it while we waited for the write lock.
  h = read_header(db);
  check_header(h);
  for (auto v = h.version; v < kSchemaVersion; ++v) db.exec(kMigrations[v]);
  db.exec(("PRAGMA application_id = " + std::to_string(kApplicationId)).c_str());
  db.exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
  txn.commit();
}

}  // namespace gp
