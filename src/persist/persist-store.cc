#include "persist/persist-store.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "base/dirs.h"
#include "config/kmx-config.h"

namespace kmx {
namespace {

// How long a writer waits for another one before reporting "database is locked".
constexpr int kBusyTimeoutMs = 5000;

Failure sql_fail(sqlite3 *db, const std::string &what) {
  int rc = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
  std::string msg = what + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
  int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    return fail(Errc::busy, msg + " (another process holds the store; try again)");
  if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT)
    return fail(Errc::invalid_format, msg + " (the store is damaged or not a kmx store; 'kmx persist check' tells more)");
  if (primary == SQLITE_READONLY || primary == SQLITE_PERM || primary == SQLITE_AUTH)
    return fail(Errc::permission, msg + " (the store or its file system is read-only)");
  if (primary == SQLITE_CANTOPEN) return fail(Errc::io, msg);
  return fail(Errc::io, msg);
}

// A prepared statement, finalized on scope exit.
class Stmt {
public:
  Stmt(sqlite3 *db, const char *sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) s_ = nullptr;
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt &) = delete;
  Stmt &operator=(const Stmt &) = delete;
  bool ok() const { return s_ != nullptr; }
  sqlite3_stmt *get() { return s_; }
  void bind(int i, std::string_view v) { sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
  void bind(int i, i64 v) { sqlite3_bind_int64(s_, i, v); }
  std::string text(int col) {
    const unsigned char *p = sqlite3_column_text(s_, col);
    return p ? std::string(reinterpret_cast<const char *>(p), static_cast<size_t>(sqlite3_column_bytes(s_, col))) : std::string();
  }
  i64 int64(int col) { return sqlite3_column_int64(s_, col); }

private:
  sqlite3 *db_;
  sqlite3_stmt *s_ = nullptr;
};

// Runs a statement to completion; SQLITE_ROW results are ignored.
Status run(sqlite3 *db, Stmt &st, const char *what) {
  if (!st.ok()) return sql_fail(db, what);
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) return sql_fail(db, what);
  return {};
}

// `what` names the step in an error message; the SQL text itself is never shown.
Status exec(sqlite3 *db, const char *sql, const char *what) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return sql_fail(db, what);
  return {};
}

// BEGIN IMMEDIATE takes the write lock up front, so the busy timeout applies to it instead
// of a deadlock-prone upgrade later; the guard rolls back unless commit() succeeded.
class Txn {
public:
  explicit Txn(sqlite3 *db) : db_(db) {}
  Status begin() {
    TRY(exec(db_, "BEGIN IMMEDIATE", "cannot start a transaction"));
    open_ = true;
    return {};
  }
  Status commit() {
    TRY(exec(db_, "COMMIT", "cannot commit"));
    open_ = false;
    return {};
  }
  ~Txn() {
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

private:
  sqlite3 *db_;
  bool open_ = false;
};

const char *kSchema =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS entry(module TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
    " kind TEXT NOT NULL CHECK(kind IN ('param','user')), updated INTEGER NOT NULL,"
    " PRIMARY KEY(module, key)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS snapshot(module TEXT PRIMARY KEY, generation INTEGER NOT NULL,"
    " nparams INTEGER NOT NULL, saved INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS ondemand(module TEXT PRIMARY KEY, alias TEXT NOT NULL,"
    " source TEXT NOT NULL, pid INTEGER NOT NULL, comm TEXT NOT NULL, boot_id TEXT NOT NULL,"
    " loaded INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '1');";

i64 now_seconds() { return static_cast<i64>(std::time(nullptr)); }

}  // namespace

Status exec_sql(sqlite3 *db, const std::string &sql) {
  Txn t(db);
  TRY(t.begin());
  TRY(exec(db, sql.c_str(), "cannot run SQL"));
  return t.commit();
}

Status validate_module_name(std::string_view m) {
  if (m.empty()) return fail(Errc::invalid_argument, "empty module name");
  if (m.size() > 55) return fail(Errc::invalid_argument, "module name '" + std::string(m) + "' is longer than 55 characters");
  for (char c : m) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return fail(Errc::invalid_argument, "invalid module name '" + std::string(m) + "': only letters, digits, '_' and '-' are allowed");
  }
  return {};
}

Status validate_key(std::string_view k) {
  if (k.empty()) return fail(Errc::invalid_argument, "empty key");
  if (k.size() > 255) return fail(Errc::invalid_argument, "key is longer than 255 characters");
  for (unsigned char c : k)
    if (c < 0x20 || c == 0x7f || c == '=' || c == ' ')
      return fail(Errc::invalid_argument, "invalid key '" + std::string(k) + "': no spaces, '=' or control characters");
  return {};
}

namespace {

// Entries about to be written (`kv`: key, value pairs): a valid module name, valid keys, no NUL
// in values.
template <class KV>
Status validate_entries(std::string_view module, const KV &kv) {
  TRY(validate_module_name(module));
  for (const auto &[k, v] : kv) {
    TRY(validate_key(k));
    if (v.find('\0') != std::string::npos) return fail(Errc::invalid_argument, "value of '" + k + "' contains a NUL byte");
  }
  return {};
}

// Inside a transaction: each of `kv` written for `module` by the upsert `sql` (?1 module, ?2 key,
// ?3 value, ?4 `now`); `what` names the operation in an error.
template <class KV>
Status upsert_entries(sqlite3 *db, const char *sql, std::string_view module, const KV &kv, i64 now, const char *what) {
  Stmt st(db, sql);
  if (!st.ok()) return sql_fail(db, what);
  for (const auto &[k, v] : kv) {
    sqlite3_reset(st.get());
    st.bind(1, module);
    st.bind(2, k);
    st.bind(3, v);
    st.bind(4, now);
    TRY(run(db, st, what));
  }
  return {};
}

}  // namespace

PersistStore::PersistStore(PersistStore &&o) noexcept : db_(o.db_), path_(std::move(o.path_)) { o.db_ = nullptr; }

PersistStore &PersistStore::operator=(PersistStore &&o) noexcept {
  if (this != &o) {
    if (db_) sqlite3_close_v2(db_);
    db_ = o.db_;
    path_ = std::move(o.path_);
    o.db_ = nullptr;
  }
  return *this;
}

PersistStore::~PersistStore() {
  if (db_) sqlite3_close_v2(db_);
}

namespace {

// `path` as the path part of a file: URI (RFC 3986: '%', '?' and '#' and bytes outside
// printable ASCII percent-encoded), so that SQLite opens exactly that file.
std::string uri_path(const std::string &path) {
  std::string out;
  for (unsigned char c : path) {
    if (c == '%' || c == '?' || c == '#' || c <= 0x20 || c >= 0x7f) {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// The directory that holds the store (and SQLite's -wal and -shm files beside it).
std::string store_dir_of(const std::string &path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

// The path checks of PersistStore::open (see there); SQLite opens the file only after them.
Status check_store_path(const std::string &path, OpenMode mode, PersistStore::StoreDir dir_policy) {
  if (path.empty()) return fail(Errc::invalid_argument, "empty store path");
  std::string dir = store_dir_of(path);
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode))
      return fail(Errc::permission, "'" + path + "' is a symbolic link: the store must be a regular file (not following it)");
    if (S_ISDIR(st.st_mode))
      return fail(Errc::invalid_argument, "'" + path + "' is a directory: the store is a file, e.g. '" + (path.back() == '/' ? path : path + "/") + "persist.db'");
    if (!S_ISREG(st.st_mode)) return fail(Errc::invalid_argument, "'" + path + "' is not a regular file");
    if (st.st_uid != 0 && st.st_uid != ::geteuid())
      return fail(Errc::permission, "'" + path + "' belongs to uid " + std::to_string(st.st_uid) + ", not to root: refusing to use it");
  } else if (errno != ENOENT) {
    return fail_errno(errno, "'" + path + "': " + std::strerror(errno));
  } else if (mode == OpenMode::read_only) {
    return fail(Errc::not_found, "'" + path + "': no such file");
  } else if (::stat(dir.c_str(), &st) != 0 && errno == ENOENT) {
    if (dir_policy == PersistStore::StoreDir::must_exist)
      return fail(Errc::not_found, "'" + path + "': directory '" + dir + "' does not exist");
    TRY(make_private_dirs(dir));
  }
  if (Status d = check_private_dir(dir); !d) return fail(d.error().code, "'" + path + "': " + d.error().msg);
  return {};
}

}  // namespace

PersistStore::StoreDir store_dir_policy(const std::string &path) {
  return path == kDefaultKmxPersistDb ? PersistStore::StoreDir::create : PersistStore::StoreDir::must_exist;
}

Result<PersistStore> PersistStore::open(const std::string &path, OpenMode mode, StoreDir dir_policy) {
  TRY(check_store_path(path, mode, dir_policy));
  PersistStore s;
  s.path_ = path;
  // On a read-only file system nobody can change the store, and SQLite could not create the
  // -shm file a WAL database needs even for reading: it is opened as immutable (no locks, no
  // -shm). A write there is refused up front, in one line.
  struct statvfs vfs;
  bool read_only_fs = ::statvfs(store_dir_of(path).c_str(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
  if (read_only_fs && mode == OpenMode::read_write)
    return fail(Errc::permission, "'" + path + "': the file system is read-only (the store can be read, not written)");
  int flags = mode == OpenMode::read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
  std::string name = path;
  if (read_only_fs) {
    flags |= SQLITE_OPEN_URI;
    name = "file:" + uri_path(path) + "?immutable=1";
  }
  if (sqlite3_open_v2(name.c_str(), &s.db_, flags, nullptr) != SQLITE_OK) {
    Failure f = sql_fail(s.db_, "'" + path + "': cannot open");
    return f;
  }
  sqlite3_busy_timeout(s.db_, kBusyTimeoutMs);
  sqlite3_extended_result_codes(s.db_, 1);
  if (mode == OpenMode::read_write) {
    // journal_mode is persistent in the file; setting it on every open is cheap and repairs a
    // store created by hand.
    {
      Stmt wal(s.db_, "PRAGMA journal_mode=WAL");
      if (!wal.ok() || sqlite3_step(wal.get()) != SQLITE_ROW)
        return fail(with_context(sql_fail(s.db_, "cannot enable WAL").error, path));
      if (wal.text(0) != "wal") return fail(Errc::unsupported, "'" + path + "': cannot use WAL mode (journal_mode is " + wal.text(0) + ")");
    }
    TRY_CTX(exec(s.db_, "PRAGMA synchronous=FULL", "cannot set synchronous=FULL"), path);
    Txn t(s.db_);
    TRY_CTX(t.begin(), path);
    TRY_CTX(exec(s.db_, kSchema, "cannot create the schema"), path);
    TRY_CTX(t.commit(), path);
  }
  Stmt v(s.db_, "SELECT value FROM meta WHERE key='schema_version'");
  if (!v.ok()) return fail(with_context(sql_fail(s.db_, "not a kmx persist store").error, path));
  int rc = sqlite3_step(v.get());
  if (rc != SQLITE_ROW) return fail(Errc::invalid_format, "'" + path + "': no schema_version in table meta");
  std::string ver = v.text(0);
  if (ver != std::to_string(kPersistSchemaVersion))
    return fail(Errc::unsupported, "'" + path + "': schema version " + ver + " is not supported (this kmx knows version " + std::to_string(kPersistSchemaVersion) + ")");
  return s;
}

Result<std::optional<std::string>> PersistStore::get(std::string_view module, std::string_view key) {
  Stmt st(db_, "SELECT value FROM entry WHERE module=?1 AND key=?2");
  if (!st.ok()) return sql_fail(db_, "get");
  st.bind(1, module);
  st.bind(2, key);
  int rc = sqlite3_step(st.get());
  if (rc == SQLITE_ROW) return std::optional<std::string>(st.text(0));
  if (rc != SQLITE_DONE) return sql_fail(db_, "get");
  return std::optional<std::string>();
}

Status PersistStore::set(std::string_view module, const std::vector<std::pair<std::string, std::string>> &kv) {
  TRY(validate_entries(module, kv));
  Txn t(db_);
  TRY(t.begin());
  TRY(upsert_entries(db_,
                     "INSERT INTO entry(module, key, value, kind, updated) VALUES(?1, ?2, ?3, 'user', ?4) "
                     "ON CONFLICT(module, key) DO UPDATE SET value=excluded.value, updated=excluded.updated",
                     module, kv, now_seconds(), "set"));
  return t.commit();
}

Result<int> PersistStore::remove(std::string_view module, std::string_view key) {
  Txn t(db_);
  TRY(t.begin());
  int n = 0;
  if (key.empty()) {
    Stmt st(db_, "DELETE FROM entry WHERE module=?1");
    st.bind(1, module);
    TRY(run(db_, st, "remove"));
    n = sqlite3_changes(db_);
    Stmt sn(db_, "DELETE FROM snapshot WHERE module=?1");
    sn.bind(1, module);
    TRY(run(db_, sn, "remove"));
  } else {
    Stmt kind(db_, "SELECT kind FROM entry WHERE module=?1 AND key=?2");
    kind.bind(1, module);
    kind.bind(2, key);
    bool was_param = kind.ok() && sqlite3_step(kind.get()) == SQLITE_ROW && kind.text(0) == "param";
    Stmt st(db_, "DELETE FROM entry WHERE module=?1 AND key=?2");
    st.bind(1, module);
    st.bind(2, key);
    TRY(run(db_, st, "remove"));
    n = sqlite3_changes(db_);
    if (was_param) {
      // Keep the invariant: nparams counts the module's param rows.
      Stmt sn(db_, "UPDATE snapshot SET nparams=nparams-1 WHERE module=?1");
      sn.bind(1, module);
      TRY(run(db_, sn, "remove"));
    }
  }
  TRY(t.commit());
  return n;
}

Result<std::vector<PersistEntry>> PersistStore::list(std::string_view module) {
  const char *sql = module.empty() ? "SELECT module, key, value, kind, updated FROM entry ORDER BY module, key"
                                   : "SELECT module, key, value, kind, updated FROM entry WHERE module=?1 ORDER BY key";
  Stmt st(db_, sql);
  if (!st.ok()) return sql_fail(db_, "list");
  if (!module.empty()) st.bind(1, module);
  std::vector<PersistEntry> out;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    PersistEntry e;
    e.module = st.text(0);
    e.key = st.text(1);
    e.value = st.text(2);
    e.kind = st.text(3) == "param" ? EntryKind::param : EntryKind::user;
    e.updated = st.int64(4);
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return sql_fail(db_, "list");
  return out;
}

namespace {

// Inside a transaction: `params` as 'param' rows (replacing same-named rows), then the module's
// snapshot generation bumped, with `nparams_sql` giving the parameter count.
Status upsert_params(sqlite3 *db, std::string_view module, const std::map<std::string, std::string> &params, i64 now) {
  TRY(upsert_entries(db,
                     "INSERT INTO entry(module, key, value, kind, updated) VALUES(?1, ?2, ?3, 'param', ?4) "
                     "ON CONFLICT(module, key) DO UPDATE SET value=excluded.value, kind='param', updated=excluded.updated",
                     module, params, now, "save parameters"));
  Stmt snap(db,
            "INSERT INTO snapshot(module, generation, nparams, saved) VALUES(?1, 1, "
            "(SELECT count(*) FROM entry WHERE module=?1 AND kind='param'), ?2) "
            "ON CONFLICT(module) DO UPDATE SET generation=generation+1, nparams=excluded.nparams, saved=excluded.saved");
  snap.bind(1, module);
  snap.bind(2, now);
  return run(db, snap, "save parameters");
}

}  // namespace

Status PersistStore::save_params(std::string_view module, const std::map<std::string, std::string> &params) {
  TRY(validate_entries(module, params));
  Txn t(db_);
  TRY(t.begin());
  Stmt del(db_, "DELETE FROM entry WHERE module=?1 AND kind='param'");
  del.bind(1, module);
  TRY(run(db_, del, "save parameters"));
  TRY(upsert_params(db_, module, params, now_seconds()));
  return t.commit();
}

Status PersistStore::update_params(std::string_view module, const std::map<std::string, std::string> &params) {
  TRY(validate_entries(module, params));
  if (params.empty()) return {};
  Txn t(db_);
  TRY(t.begin());
  TRY(upsert_params(db_, module, params, now_seconds()));
  return t.commit();
}

Result<std::vector<std::string>> PersistStore::check() {
  std::vector<std::string> problems;
  {
    Stmt st(db_, "PRAGMA integrity_check");
    if (!st.ok()) return sql_fail(db_, "integrity_check");
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      std::string line = st.text(0);
      if (line != "ok") problems.push_back("integrity_check: " + line);
    }
    if (rc != SQLITE_DONE) return sql_fail(db_, "integrity_check");
  }
  {
    Stmt st(db_,
            "SELECT s.module, s.nparams, (SELECT count(*) FROM entry e WHERE e.module=s.module AND e.kind='param') "
            "FROM snapshot s");
    if (!st.ok()) return sql_fail(db_, "check snapshots");
    while (sqlite3_step(st.get()) == SQLITE_ROW) {
      if (st.int64(1) != st.int64(2))
        problems.push_back("module " + st.text(0) + ": snapshot says " + std::to_string(st.int64(1)) + " parameters, store has " + std::to_string(st.int64(2)));
    }
  }
  {
    Stmt st(db_, "SELECT DISTINCT module FROM entry WHERE kind='param' AND module NOT IN (SELECT module FROM snapshot)");
    if (!st.ok()) return sql_fail(db_, "check snapshots");
    while (sqlite3_step(st.get()) == SQLITE_ROW)
      problems.push_back("module " + st.text(0) + ": parameter rows without a snapshot record");
  }
  {
    Stmt st(db_, "SELECT module, key FROM entry");
    if (!st.ok()) return sql_fail(db_, "check entries");
    while (sqlite3_step(st.get()) == SQLITE_ROW) {
      std::string m = st.text(0), k = st.text(1);
      if (!validate_module_name(m)) problems.push_back("invalid module name in store: '" + m + "'");
      if (!validate_key(k)) problems.push_back("module " + m + ": invalid key in store: '" + k + "'");
    }
  }
  return problems;
}

}  // namespace kmx
