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

void Stmt::keep(int i, int type, std::int64_t value, const void* data, std::size_t len) {
  if (i < 1 || static_cast<std::size_t>(i) > params_.size()) return;
  auto& p = params_[static_cast<std::size_t>(i - 1)];
  p.type = type;
  p.value = value;
  p.len = len;
  if (type == SQLITE_TEXT || type == SQLITE_BLOB) {
    p.value = static_cast<std::int64_t>(bytes_.size());
    bytes_.append(static_cast<const char*>(data), len);
  }
}

Stmt& Stmt::bind(int i, std::int64_t v) {
  check_bind(db_, sqlite3_bind_int64(stmt_, i, v));
  if (redo_) keep(i, SQLITE_INTEGER, v);
  return *this;
}

Stmt& Stmt::bind(int i, const std::string& v) {
  check_bind(db_, sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  if (redo_) keep(i, SQLITE_TEXT, 0, v.data(), v.size());
  return *this;
}

Stmt& Stmt::bind_blob(int i, const void* data, std::size_t len) {
  // A zero-length blob must still be a BLOB, not NULL, so pass a non-null pointer.
  static const char kEmpty = 0;
  check_bind(db_, sqlite3_bind_blob64(stmt_, i, len ? data : &kEmpty, len, SQLITE_STATIC));
  if (redo_) keep(i, SQLITE_BLOB, 0, data, len);
  return *this;
}

Stmt& Stmt::bind_null(int i) {
  check_bind(db_, sqlite3_bind_null(stmt_, i));
  if (redo_) keep(i, SQLITE_NULL, 0);
  return *this;
}

bool Stmt::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) {
    if (redo_) redo_->record(*this);
    return false;
  }
  const std::string what = std::string("running ") + sql_;
  sqlite3_reset(stmt_);
  throw_error(db_, rc, what);
}

void Stmt::reset() {
  // Bindings are kept: every use binds all of its parameters again, and blobs are bound
  // SQLITE_STATIC only for the duration of one use.
  sqlite3_reset(stmt_);
  if (redo_) {
    bytes_.clear();
    for (auto& p : params_) p.type = 0;
  }
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
  // Statements must be finalized before the connection closes (which rolls back a deferred
  // transaction: an in-memory database is discarded anyway).
  cache_.clear();
  begin_.reset();
  commit_.reset();
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
  if (every_ > 0) settle();
  auto& slot = cache_[sql];
  if (!slot) {
    slot = std::make_unique<Stmt>(db_, sql);
    if (every_ > 0) watch(*slot);
  }
  return Ref(*slot);
}

void Db::watch(Stmt& s) {
  if (sqlite3_stmt_readonly(s.raw())) return;
  s.redo_ = this;
  s.params_.resize(static_cast<std::size_t>(sqlite3_bind_parameter_count(s.raw())));
}

std::int64_t Db::pragma_int(const char* pragma) {
  Stmt s(db_, pragma);
  return s.step() ? s.int64(0) : 0;
}

void Db::defer_commits(std::int64_t every, std::size_t max_log_bytes) {
  if (every <= 0 || every_ > 0) return;
  max_log_bytes_ = max_log_bytes;
  begin_ = std::make_unique<Stmt>(db_, "BEGIN");
  commit_ = std::make_unique<Stmt>(db_, "COMMIT");
  every_ = every;
  for (auto& [sql, stmt] : cache_) watch(*stmt);
  begin_deferred();
}

void Db::begin_deferred() {
  committed_ = sqlite3_total_changes64(db_);
  begin_->exec();
  begin_->reset();
}

void Db::clear_log() {
  redo_.clear();
  redo_params_.clear();
  redo_bytes_.clear();
  unrecorded_ = false;
}

void Db::record(const Stmt& s) {
  redo_.push_back({const_cast<Stmt*>(&s), redo_params_.size(), redo_bytes_.size()});
  for (auto p : s.params_) {
    if (p.type == 0) unrecorded_ = true;  // a binding left from an earlier use: not ours to redo
    if (p.type == SQLITE_TEXT || p.type == SQLITE_BLOB) {
      const auto at = redo_bytes_.size();
      redo_bytes_.append(s.bytes_, static_cast<std::size_t>(p.value), p.len);
      p.value = static_cast<std::int64_t>(at);
    }
    redo_params_.push_back(p);
  }
}

void Db::truncate_log(std::size_t n) {
  if (n >= redo_.size()) return;
  redo_params_.resize(redo_[n].first_param);
  redo_bytes_.resize(redo_[n].first_byte);
  redo_.resize(n);
}

void Db::settle() {
  if (!lost_.empty()) throw Error(Errc::io, lost_);
  if (sqlite3_get_autocommit(db_)) {
    // SQLite ended the open transaction itself, after an error (out of memory).
    if (depth_ > 0) {
      throw Error(Errc::no_memory, "out of memory: SQLite undid the open transaction in the middle of this change");
    }
    recover();
    return;
  }
  if (depth_ > 0) return;  // inside a change: commit only between changes
  // A change the log cannot redo is committed before anything else can fail.
  if (!unrecorded_ && sqlite3_total_changes64(db_) - committed_ < every_ && redo_bytes_.size() < max_log_bytes_) return;
  // A statement still stepping (a caller's loop over rows) can make COMMIT fail; the
  // transaction then stays open, and the next statement tries again.
  const int rc = sqlite3_step(commit_->raw());
  sqlite3_reset(commit_->raw());
  if (rc == SQLITE_DONE) {
    clear_log();
    begin_deferred();
  }
}

void Db::recover() {
  if (unrecorded_) {
    lost_ = "this in-memory database lost a change it cannot redo when SQLite undid its open transaction (out of "
            "memory); its contents can no longer be trusted: open a new host";
    throw Error(Errc::io, lost_);
  }
  begin_deferred();  // throws if even that fails; the log is kept for the next try
  for (const auto& r : redo_) {
    sqlite3_stmt* q = r.stmt->raw();
    const auto n = r.stmt->params_.size();
    for (std::size_t k = 0; k < n; ++k) {
      const auto& p = redo_params_[r.first_param + k];
      const int i = static_cast<int>(k + 1);
      if (p.type == SQLITE_INTEGER) {
        sqlite3_bind_int64(q, i, p.value);
      } else if (p.type == SQLITE_TEXT) {
        sqlite3_bind_text64(q, i, redo_bytes_.data() + p.value, p.len, SQLITE_STATIC, SQLITE_UTF8);
      } else if (p.type == SQLITE_BLOB) {
        sqlite3_bind_blob64(q, i, redo_bytes_.data() + p.value, p.len, SQLITE_STATIC);
      } else {
        sqlite3_bind_null(q, i);
      }
    }
    const int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc == SQLITE_DONE) continue;
    const std::string why = sqlite3_errstr(rc);
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    if ((rc & 0xff) == SQLITE_NOMEM) {
      throw Error(Errc::no_memory, "out of memory: SQLite undid the open transaction of this in-memory database, "
                                   "and its latest " + std::to_string(redo_.size()) +
                                   " changes are kept to be redone by the next call");
    }
    lost_ = "this in-memory database could not redo its latest changes after SQLite undid its open transaction (" +
            why + "); its contents can no longer be trusted: open a new host";
    throw Error(Errc::io, lost_);
  }
}

Txn::Txn(Db& db, Mode mode) : db_(db) {
  if (db_.every_ > 0) {
    if (mode == read) {
      noop_ = true;  // one connection: every read already sees one consistent state
      return;
    }
    db_.cached("SAVEPOINT gp_txn")->exec();
    ++db_.depth_;
    savepoint_ = true;
    redo_mark_ = db_.redo_.size();
    was_unrecorded_ = db_.unrecorded_;
    return;
  }
  db_.cached(mode == write ? "BEGIN IMMEDIATE" : "BEGIN")->exec();
}

Txn::~Txn() {
  if (done_ || noop_) return;
  if (savepoint_) {
    // Fails only if SQLite already undid the whole transaction; settle() redoes the log next.
    sqlite3_exec(db_.raw(), "ROLLBACK TO gp_txn; RELEASE gp_txn", nullptr, nullptr, nullptr);
    --db_.depth_;
    db_.truncate_log(redo_mark_);
    db_.unrecorded_ = was_unrecorded_;
    return;
  }
  sqlite3_exec(db_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Txn::commit() {
  if (noop_) {
    done_ = true;
    return;
  }
  if (savepoint_) {
    db_.cached("RELEASE gp_txn")->exec();  // if it fails, the destructor rolls back instead
    --db_.depth_;
    done_ = true;
    return;
  }
  db_.cached("COMMIT")->exec();
  done_ = true;
}

}  // namespace gp::sql
