// A thin RAII layer over the SQLite C API for the run store: a connection and prepared
// statements with typed bind/column helpers. Every SQLite failure becomes an InputError naming
// the database file. Not an ORM and not a general database API.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace lossgap::sql {

class Db {
 public:
  // Opens (create = true: creates when missing) the database at path. Throws InputError.
  // one_thread: the caller never uses the connection from two threads at once, so SQLite's
  // per-call connection mutex is left out (SQLITE_OPEN_NOMUTEX): bulk reads are faster.
  Db(const std::filesystem::path& path, bool create, bool one_thread = false);
  ~Db();
  Db(Db&&) noexcept;
  Db& operator=(Db&&) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements without results. Throws InputError.
  void exec(std::string_view sql);
  // The single integer a query returns (e.g. a PRAGMA), or nullopt if it returns no row.
  std::optional<int64_t> query_int(std::string_view sql);
  int64_t last_insert_rowid() const;

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }
  [[noreturn]] void fail(const std::string& what) const;  // throws InputError(path, what + sqlite message)

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

class Stmt {
 public:
  Stmt(Db& db, std::string_view sql);
  ~Stmt();
  Stmt(Stmt&&) noexcept;
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Parameters are 1-based, as in SQL (?1, ?2, ...).
  Stmt& bind(int i, int64_t v);
  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::string_view v);
  Stmt& bind_null(int i);
  Stmt& bind(int i, const std::optional<int64_t>& v) { return v ? bind(i, *v) : bind_null(i); }

  // Steps once: true when a row is available, false when done. Throws InputError.
  bool step();
  // Steps to completion (for statements without results), then resets for reuse.
  void run();
  void reset();  // resets and clears bindings

  // Columns are 0-based.
  int64_t col_int(int i) const;
  double col_double(int i) const;
  std::string col_text(int i) const;
  bool col_is_null(int i) const;

 private:
  Db* db_;
  sqlite3_stmt* st_ = nullptr;
};

// BEGIN IMMEDIATE on construction; commit() commits; destruction without commit() rolls back
// (so an exception inside the transaction leaves the database as before it).
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();  // rolls back unless committed
  void commit();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace lossgap::sql
