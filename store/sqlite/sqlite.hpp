// Thin RAII over the SQLite C API: a connection with a prepared-statement cache, statements
// that reset themselves, and a transaction guard.  SQLite result codes become gp::Error here.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"

namespace gp::sql {

// Maps a SQLite result code to our error kinds and throws with context.
[[noreturn]] void throw_error(sqlite3* db, int rc, const std::string& what);

class Db;

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql);
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, const std::string& v);
  Stmt& bind_blob(int i, const void* data, std::size_t len);
  Stmt& bind_null(int i);
  // Steps once: true while a row is available, false when done.  Throws on error.
  bool step();
  // Runs a statement that returns no rows.
  void exec() { while (step()) {} }
  void reset();
  sqlite3_stmt* raw() const { return stmt_; }

  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string text(int col) const;
  const void* blob(int col) const { return sqlite3_column_blob(stmt_, col); }
  std::size_t bytes(int col) const { return static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)); }

 private:
  friend class Db;
  // A parameter as bound for the current use, kept only by statements that a deferred
  // commit may have to redo (Db::defer_commits); text and blob bytes live in bytes_.
  struct Param {
    int type = 0;           // SQLITE_INTEGER, SQLITE_TEXT, SQLITE_BLOB or SQLITE_NULL; 0 = not bound
    std::int64_t value = 0;  // the integer, or the offset of the bytes
    std::size_t len = 0;
  };
  void keep(int i, int type, std::int64_t value, const void* data = nullptr, std::size_t len = 0);

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  const char* sql_;
  Db* redo_ = nullptr;  // set for a writing statement of a Db with deferred commits
  std::vector<Param> params_;
  std::string bytes_;
};

// A connection.  Not thread-safe by itself: the host serialises use with its mutex.
class Db {
 public:
  Db(const std::string& path, int flags);
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  sqlite3* raw() const { return db_; }
  // The main database's file as SQLite names it: absolute, with symlinks resolved (the name
  // its -wal and -shm files are made from).  Empty for an in-memory database.
  std::string file_name() const;
  void exec(const char* sql);  // one-off statements (pragmas, DDL)
  // A prepared statement kept for the connection's life, keyed by its SQL text's address.  The
  // returned reference resets it when it goes out of scope, so no read stays open by accident.
  class Ref {
   public:
    explicit Ref(Stmt& s) : s_(&s) {}
    Ref(const Ref&) = delete;
    Ref& operator=(const Ref&) = delete;
    ~Ref() { s_->reset(); }
    Stmt* operator->() const { return s_; }
    Stmt& operator*() const { return *s_; }

   private:
    Stmt* s_;
  };
  // Settles a deferred commit first (see defer_commits), so every statement of ours starts at
  // a point where no change is half done or already known to be lost.
  Ref cached(const char* sql);
  std::int64_t pragma_int(const char* pragma);

  // For an in-memory database only: keep one transaction open and commit it once every
  // `every` changed rows.  No other connection can see an in-memory database and nothing of it
  // survives the process, so a commit there buys nothing; it costs about a third of SQLite's
  // work per promise cycle.  Every change stays atomic by itself: a single statement is, and a
  // Txn becomes a savepoint.
  //
  // Out of memory, SQLite may undo the whole open transaction, not just the failed statement.
  // So every write since the last commit is kept with its parameters (a redo log of at most
  // `every` rows and about `max_log_bytes` of text and blobs: a commit comes at whichever bound is
  // reached first), and the next statement first redoes them: the call that ran out of memory fails, as
  // it would have anyway, and nothing an earlier call was told is undone.  A write the log
  // cannot redo (blob I/O: mark_unrecorded) is committed before the next statement runs.
  void defer_commits(std::int64_t every, std::size_t max_log_bytes);
  // Written through something the redo log does not see (blob I/O) in the current change.
  void mark_unrecorded() { unrecorded_ = every_ > 0; }
  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  int changes() const { return sqlite3_changes(db_); }

 private:
  friend class Stmt;
  friend class Txn;
  void settle();   // commits a full deferred transaction; redoes one SQLite undid
  void recover();  // begins again and redoes the log, or throws (the log is kept)
  void begin_deferred();
  void clear_log();
  void watch(Stmt& s);  // a writing statement records each finished use in the redo log
  void record(const Stmt& s);       // a write statement finished: log it
  void truncate_log(std::size_t n);  // a savepoint rolled back: forget its writes

  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, std::unique_ptr<Stmt>> cache_;
  // Deferred commits (in memory): 0 = off.
  std::int64_t every_ = 0;
  std::size_t max_log_bytes_ = 0;
  std::int64_t committed_ = 0;  // sqlite3_total_changes64 at the last commit
  int depth_ = 0;               // Txn savepoints open
  bool unrecorded_ = false;     // an uncommitted write the log cannot redo
  std::string lost_;            // why the database can no longer be trusted, once it cannot
  std::unique_ptr<Stmt> begin_, commit_;
  struct Redo {
    Stmt* stmt;
    std::size_t first_param;  // in redo_params_ (stmt->params_.size() of them)
    std::size_t first_byte;   // in redo_bytes_
  };
  std::vector<Redo> redo_;
  std::vector<Stmt::Param> redo_params_;
  std::string redo_bytes_;
};

// BEGIN IMMEDIATE on construction for writes (so writers queue on the lock up front instead of
// failing on upgrade), plain BEGIN for reads; ROLLBACK on destruction unless commit() ran.
// With deferred commits a write Txn is a savepoint in the open transaction (RELEASE on commit,
// ROLLBACK TO on destruction) and a read Txn does nothing: there is only this connection.
class Txn {
 public:
  enum Mode { write, read };
  explicit Txn(Db& db, Mode mode = write);
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn();
  void commit();

 private:
  Db& db_;
  bool done_ = false;
  bool savepoint_ = false;
  bool noop_ = false;
  std::size_t redo_mark_ = 0;  // the redo log's length when the savepoint began
  bool was_unrecorded_ = false;
};

}  // namespace gp::sql
