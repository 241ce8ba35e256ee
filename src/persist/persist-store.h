// PersistStore: module state that outlives an unload (kerneld's set_persist/get_persist),
// kept in one SQLite database, by default /var/lib/kmx/persist.db.
//
// Format (SQLite 3, journal_mode=WAL, synchronous=FULL, foreign keys off):
//
//   meta(key TEXT PRIMARY KEY, value TEXT)            -- 'schema_version' = '1'
//   entry(module TEXT, key TEXT, value TEXT,
//         kind TEXT CHECK(kind IN ('param','user')),
//         updated INTEGER,                             -- unix seconds
//         PRIMARY KEY(module, key)) WITHOUT ROWID
//   snapshot(module TEXT PRIMARY KEY, generation INTEGER, nparams INTEGER, saved INTEGER)
//   ondemand(module TEXT PRIMARY KEY, alias TEXT, source TEXT, pid INTEGER, comm TEXT,
//            boot_id TEXT, loaded INTEGER)             -- see persist/ondemand.h
//
// kind 'param' rows come from a snapshot of /sys/module/NAME/parameters taken before an
// unload; 'user' rows were set by hand (kmx persist set) and may name keys that are not
// parameters. A snapshot replaces all 'param' rows of its module in one transaction and
// records how many it wrote in snapshot.nparams, so "count of param rows == nparams" is an
// invariant that check() verifies together with PRAGMA integrity_check. Every write is one
// transaction; WAL keeps the file consistent when a writer is killed at any point.
//
// Version history: 1 (first).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/types.h"

struct sqlite3;

namespace kmx {

inline constexpr int kPersistSchemaVersion = 1;

enum class EntryKind { param, user };

struct PersistEntry {
  std::string module;
  std::string key;
  std::string value;
  EntryKind kind = EntryKind::user;
  i64 updated = 0;
};

enum class OpenMode { read_only, read_write };

// Module names as kmod normalises them ('-' -> '_'); keys may be any non-empty text without
// control characters; values any text without NUL. Errc::invalid_argument with a message
// saying which rule was broken.
Status validate_module_name(std::string_view module);
Status validate_key(std::string_view key);

class PersistStore {
public:
  PersistStore(PersistStore &&o) noexcept;
  PersistStore &operator=(PersistStore &&o) noexcept;
  ~PersistStore();

  // The one way to open a store, for every caller. Before SQLite sees the path:
  //   * the path must not be a symbolic link (whoever planted it would choose the file) nor a
  //     directory, and an existing file must be a regular file owned by root or the caller;
  //   * its directory must exist and be private (base/dirs.h: check_private_dir), since the
  //     -wal and -shm files SQLite creates beside the store are protected only by it. With
  //     StoreDir::create (the built-in default location), a missing directory is created with
  //     mode 0700; with StoreDir::must_exist it is Errc::not_found.
  // read_write creates the file and the schema when missing; read_only on a missing file is
  // Errc::not_found. A database of a newer schema version is refused (Errc::unsupported); a file
  // that is not a store is Errc::invalid_format; a locked one Errc::busy; a read-only one
  // Errc::permission. Every message is one line naming the path.
  enum class StoreDir { must_exist, create };
  static Result<PersistStore> open(const std::string &path, OpenMode mode, StoreDir dir = StoreDir::must_exist);

  Result<std::optional<std::string>> get(std::string_view module, std::string_view key);
  // Set several keys of one module in one transaction (kind 'user').
  Status set(std::string_view module, const std::vector<std::pair<std::string, std::string>> &kv);
  // Returns the number of rows removed; key empty removes the whole module.
  Result<int> remove(std::string_view module, std::string_view key);
  // All entries, or one module's, ordered by module then key.
  Result<std::vector<PersistEntry>> list(std::string_view module = {});
  // Replace the module's 'param' rows by `params` atomically (a 'user' row of the same key
  // becomes a 'param' row) and bump its snapshot generation.
  Status save_params(std::string_view module, const std::map<std::string, std::string> &params);
  // Upsert only `params` as 'param' rows, keeping the module's other rows (the parameters that
  // did not change during the last load keep their stored value), and bump the snapshot
  // generation; nparams is recounted. Nothing is written when `params` is empty.
  Status update_params(std::string_view module, const std::map<std::string, std::string> &params);
  // PRAGMA integrity_check plus the store's own invariants; one line per problem.
  Result<std::vector<std::string>> check();

  sqlite3 *db() { return db_; }
  const std::string &path() const { return path_; }

private:
  PersistStore() = default;
  sqlite3 *db_ = nullptr;
  std::string path_;
};

// StoreDir::create for the built-in default location (config/kmx-config.h: kDefaultKmxPersistDb),
// which kmx sets up itself; StoreDir::must_exist for a path an administrator chose.
PersistStore::StoreDir store_dir_policy(const std::string &path);

// Run `sql` in one transaction (BEGIN IMMEDIATE ... COMMIT); rolled back on error.
Status exec_sql(sqlite3 *db, const std::string &sql);

}  // namespace kmx
