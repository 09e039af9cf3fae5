#include "sqlite.hpp"

namespace gp::sql {

void throw_error(sqlite3* db, int rc, const std::string& what) {
  const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const std::string text = what + ": " + (msg ? msg : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      throw Error(Errc::busy, text + " (the database stayed locked longer than the busy timeout)");
    case SQLITE_CORRUPT:
      throw Error(Errc::corrupt, text);
    case SQLITE_NOTADB:
      throw Error(Errc::schema, text);
    case SQLITE_NOMEM:
      throw Error(Errc::no_memory, text);
    case SQLITE_TOOBIG:
      throw Error(Errc::too_big, text);
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
    case SQLITE_ERROR:
      throw Error(Errc::internal, text);
    default:  // READONLY, CANTOPEN, IOERR, FULL, PERM, ...
      throw Error(Errc::io, text);
  }
}

Stmt::Stmt(sqlite3* db, const char* sql) : db_(db), sql_(sql) {
  const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) throw_error(db, rc, std::string("preparing ") + sql);
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

static void check_bind(sqlite3* db, int rc) {
  if (rc != SQLITE_OK) throw_error(db, rc, "binding a parameter");
}

Stmt& Stmt::bind(int i, std::int64_t v) {
  check_bind(db_, sqlite3_bind_int64(stmt_, i, v));
  return *this;
}

Stmt& Stmt::bind(int i, const std::string& v) {
  check_bind(db_, sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  return *this;
}

Stmt& Stmt::bind_blob(int i, const void* data, std::size_t len) {
  // A zero-length blob must still be a BLOB, not NULL, so pass a non-null pointer.
  static const char kEmpty = 0;
  check_bind(db_, sqlite3_bind_blob64(stmt_, i, len ? data : &kEmpty, len, SQLITE_STATIC));
  return *this;
}

Stmt& Stmt::bind_null(int i) {
  check_bind(db_, sqlite3_bind_null(stmt_, i));
  return *this;
}

bool Stmt::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const std::string what = std::string("running ") + sql_;
  sqlite3_reset(stmt_);
  throw_error(db_, rc, what);
}

void Stmt::reset() {
  // Bindings are kept: every use binds all of its parameters again, and blobs are bound
  // SQLITE_STATIC only for the duration of one use.
  sqlite3_reset(stmt_);
}

std::string Stmt::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
}

Db::Db(const std::string& path, int flags) {
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw Error(Errc::io, "cannot open database '" + path + "': " + msg);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Db::~Db() {
  cache_.clear();  // statements must be finalized before the connection closes
  sqlite3_close_v2(db_);
}

std::string Db::file_name() const {
  const char* name = sqlite3_db_filename(db_, "main");
  return name ? name : "";
}

void Db::exec(const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    sqlite3_free(err);
    throw_error(db_, rc, std::string("running ") + sql);
  }
}

Db::Ref Db::cached(const char* sql) {
  auto& slot = cache_[sql];
  if (!slot) slot = std::make_unique<Stmt>(db_, sql);
  return Ref(*slot);
}

std::int64_t Db::pragma_int(const char* pragma) {
  Stmt s(db_, pragma);
  return s.step() ? s.int64(0) : 0;
}

Txn::Txn(Db& db, Mode mode) : db_(db) { db_.cached(mode == write ? "BEGIN IMMEDIATE" : "BEGIN")->exec(); }

Txn::~Txn() {
  if (!done_) sqlite3_exec(db_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Txn::commit() {
  db_.cached("COMMIT")->exec();
  done_ = true;
}

}  // namespace gp::sql
