#include "daemon/pending-releases.h"

#include <sqlite3.h>

namespace kmx {
namespace {

constexpr const char *kCreate =
    "CREATE TABLE IF NOT EXISTS pending_release(module TEXT PRIMARY KEY, requested INTEGER, boot_id TEXT)";

Failure db_fail(sqlite3 *db, const std::string &what) { return fail(Errc::io, what + ": " + sqlite3_errmsg(db)); }

}  // namespace

Result<std::vector<PendingRelease>> load_pending_releases(PersistStore &store, const std::string &boot_id) {
  sqlite3 *db = store.db();
  if (sqlite3_exec(db, kCreate, nullptr, nullptr, nullptr) != SQLITE_OK) return db_fail(db, "create pending_release table");
  sqlite3_stmt *st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT module, requested FROM pending_release WHERE boot_id=?1 ORDER BY module", -1, &st,
                         nullptr) != SQLITE_OK)
    return db_fail(db, "read pending releases");
  sqlite3_bind_text(st, 1, boot_id.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<PendingRelease> out;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const unsigned char *m = sqlite3_column_text(st, 0);
    PendingRelease p;
    p.module = m ? reinterpret_cast<const char *>(m) : "";
    p.requested = sqlite3_column_int64(st, 1);
    // A row written by something else than kmx is skipped rather than trusted.
    if (validate_module_name(p.module)) out.push_back(std::move(p));
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return db_fail(db, "read pending releases");
  return out;
}

Status save_pending_releases(PersistStore &store, const std::string &boot_id, const std::vector<PendingRelease> &pending) {
  sqlite3 *db = store.db();
  if (sqlite3_exec(db, kCreate, nullptr, nullptr, nullptr) != SQLITE_OK) return db_fail(db, "create pending_release table");
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return db_fail(db, "save pending releases");
  bool ok = sqlite3_exec(db, "DELETE FROM pending_release", nullptr, nullptr, nullptr) == SQLITE_OK;
  sqlite3_stmt *st = nullptr;
  if (ok) ok = sqlite3_prepare_v2(db, "INSERT INTO pending_release(module, requested, boot_id) VALUES(?1,?2,?3)", -1, &st, nullptr) == SQLITE_OK;
  for (size_t i = 0; ok && i < pending.size(); i++) {
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, pending[i].module.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, pending[i].requested);
    sqlite3_bind_text(st, 3, boot_id.c_str(), -1, SQLITE_TRANSIENT);
    ok = sqlite3_step(st) == SQLITE_DONE;
  }
  sqlite3_finalize(st);
  if (!ok || sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    Failure f = db_fail(db, "save pending releases");
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return f;
  }
  return {};
}

}  // namespace kmx
