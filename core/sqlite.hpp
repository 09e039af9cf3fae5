// Thin RAII over the SQLite C API: a connection with a prepared-statement cache, statements
// that reset themselves, and a transaction guard.  SQLite result codes become gp::Error here.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "error.hpp"

namespace gp::sql {

// Maps a SQLite result code to our error kinds and throws with context.
[[noreturn]] void throw_error(sqlite3* db, int rc, const std::string& what);

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

  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string text(int col) const;
  const void* blob(int col) const { return sqlite3_column_blob(stmt_, col); }
  std::size_t bytes(int col) const { return static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  const char* sql_;
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
  Ref cached(const char* sql);
  std::int64_t pragma_int(const char* pragma);
  std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  int changes() const { return sqlite3_changes(db_); }

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, std::unique_ptr<Stmt>> cache_;
};

// BEGIN IMMEDIATE on construction for writes (so writers queue on the lock up front instead of
// failing on upgrade), plain BEGIN for reads; ROLLBACK on destruction unless commit() ran.
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
};

}  // namespace gp::sql
