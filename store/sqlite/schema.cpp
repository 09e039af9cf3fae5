// The one place that defines the database layout.
//
// A promise lives in the oplog row of the entry that created it (state and payload columns).
// Deleting it sets the state to 2 and keeps any payload, because the worker's oplog may refer
// to it and replaying the worker must still return it.  A new file runs every migration in
// turn, so the way a version-1 file is upgraded is the way every file is made.
#include "schema.hpp"

#include <string>

namespace gp {

namespace {

// Version 1 (golem-promise up to early 2026-11-22): promises in their own table.
const char* const kCreateV1 = R"sql(
CREATE TABLE workers (
  id           INTEGER PRIMARY KEY,
  component_id TEXT    NOT NULL,   -- lower-case UUID text
  worker_name  TEXT    NOT NULL,
  created_us   INTEGER NOT NULL,
  UNIQUE (component_id, worker_name)
);
CREATE TABLE oplog (
  key    INTEGER PRIMARY KEY,
  kind   INTEGER NOT NULL,
  entry  BLOB    NOT NULL,
  worker INTEGER GENERATED ALWAYS AS (key >> 40) VIRTUAL,
  idx    INTEGER GENERATED ALWAYS AS (key & 1099511627775) VIRTUAL
);
CREATE TABLE promises (
  key     INTEGER PRIMARY KEY,
  state   INTEGER NOT NULL,
  payload BLOB
);
)sql";

// Version 2: a promise's state and payload live in the row of the oplog entry that created it,
// so creating a promise writes one row of one b-tree (not two), and a completion touches one.
// The SELECTs read columns both layouts of version 1 have (an earlier one stored worker and idx
// as real columns of a WITHOUT ROWID oplog, and promises had a `pinned` column).
const char* const kV1ToV2 = R"sql(
CREATE TABLE oplog_v2 (
  -- (workers.id << 40) | index (1, 2, 3, ... per worker): an integer key, so appending an entry
  -- is SQLite's cheap append at the right edge of one b-tree, and blob I/O can address a row.
  key     INTEGER PRIMARY KEY,
  kind    INTEGER NOT NULL,        -- GP_OPLOG_* (also inside the entry; checked on read)
  entry   BLOB    NOT NULL,        -- FlatBuffers gp.fb.Entry (core/oplog.fbs)
  -- Create-promise entries only (NULL on every other entry): the promise the entry created.
  state   INTEGER,                 -- 0 pending, 1 completed, 2 deleted
  payload BLOB,                    -- set once completed; kept after deletion, for replay
  -- For people reading the file with the sqlite3 shell; computed, never stored.
  worker  INTEGER GENERATED ALWAYS AS (key >> 40) VIRTUAL,
  idx     INTEGER GENERATED ALWAYS AS (key & 1099511627775) VIRTUAL
);
INSERT INTO oplog_v2 (key, kind, entry, state, payload)
  SELECT (o.worker << 40) | o.idx, o.kind, o.entry,
         CASE WHEN o.kind = 2 THEN coalesce(p.state, 2) END,  -- no row: a deleted pending promise
         p.payload
  FROM oplog AS o LEFT JOIN promises AS p ON p.key = (o.worker << 40) | o.idx
  ORDER BY 1;
DROP TABLE promises;
DROP TABLE oplog;
ALTER TABLE oplog_v2 RENAME TO oplog;
CREATE VIEW promises AS
  SELECT worker, idx, CASE state WHEN 0 THEN 'pending' WHEN 1 THEN 'completed' ELSE 'deleted' END AS state,
         length(payload) AS payload_len, payload
  FROM oplog WHERE state IS NOT NULL;
)sql";

// migrations[v] brings a database from schema version v to v + 1.  Version 0 is "empty".
const char* const kMigrations[] = {kCreateV1, kV1ToV2};
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
