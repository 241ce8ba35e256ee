#include "persist/ondemand.h"

#include <sqlite3.h>

#include <cstdlib>

#include "base/mapped-file.h"

namespace kmx {
namespace {

std::string first_line(std::string s) {
  auto nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  return s;
}

Failure db_fail(sqlite3 *db, const std::string &what) {
  return fail(Errc::io, what + ": " + sqlite3_errmsg(db));
}

}  // namespace

std::string current_boot_id(const KernelRoots &r) {
  auto t = read_file(r.proc + "/sys/kernel/random/boot_id");
  return t ? first_line(*t) : std::string();
}

std::string process_comm(const KernelRoots &r, i64 pid) {
  if (pid <= 0) return {};
  auto t = read_file(r.proc + "/" + std::to_string(pid) + "/comm");
  return t ? first_line(*t) : std::string();
}

bool is_kernel_thread(const KernelRoots &r, i64 pid) {
  if (pid == 0) return true;
  if (pid < 0) return false;
  std::string base = r.proc + "/" + std::to_string(pid);
  if (auto stat = read_file(base + "/stat")) {
    // "pid (comm) state ppid ..." -- comm may hold spaces and parentheses: skip to the last ')'.
    auto close = stat->rfind(')');
    if (close == std::string::npos) return false;
    std::string rest = stat->substr(close + 1);
    // Fields after comm: state(3) ppid(4) pgrp(5) session(6) tty_nr(7) tpgid(8) flags(9).
    size_t pos = 0;
    for (int field = 3; field <= 9; field++) {
      while (pos < rest.size() && rest[pos] == ' ') pos++;
      size_t end = rest.find(' ', pos);
      if (end == std::string::npos) end = rest.size();
      if (field == 9) {
        std::string flags = rest.substr(pos, end - pos);
        if (flags.empty() || flags.size() > 20 || flags.find_first_not_of("0123456789") != std::string::npos) return false;
        return (std::strtoull(flags.c_str(), nullptr, 10) & 0x00200000ULL) != 0;
      }
      pos = end;
    }
    return false;
  }
  auto cmdline = read_file(base + "/cmdline");
  return cmdline && cmdline->empty();
}

Status record_on_demand(PersistStore &store, std::span<const OnDemandRecord> recs) {
  // Names are checked first; the valid records are written in one transaction (one fsync for a
  // whole coldplug batch), and the invalid ones are reported after it.
  std::vector<const OnDemandRecord *> valid;
  std::string invalid;
  for (const OnDemandRecord &r : recs) {
    if (Status v = validate_module_name(r.module); v) valid.push_back(&r);
    else invalid += (invalid.empty() ? "" : "; ") + v.error().msg;
  }
  if (!valid.empty()) {
    sqlite3 *db = store.db();
    std::string what = "record on-demand load of " + valid.front()->module +
                       (valid.size() > 1 ? " and " + std::to_string(valid.size() - 1) + " more" : "");
    const char *sql =
        "INSERT INTO ondemand(module, alias, source, pid, comm, boot_id, loaded) VALUES(?1,?2,?3,?4,?5,?6,?7) "
        "ON CONFLICT(module) DO UPDATE SET alias=excluded.alias, source=excluded.source, pid=excluded.pid, "
        "comm=excluded.comm, boot_id=excluded.boot_id, loaded=excluded.loaded";
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return db_fail(db, what);
    sqlite3_stmt *st = nullptr;
    bool ok = sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK;
    for (size_t i = 0; ok && i < valid.size(); i++) {
      const OnDemandRecord &rec = *valid[i];
      sqlite3_reset(st);
      sqlite3_bind_text(st, 1, rec.module.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 2, rec.alias.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 3, rec.source.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(st, 4, rec.pid);
      sqlite3_bind_text(st, 5, rec.comm.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 6, rec.boot_id.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(st, 7, rec.loaded);
      ok = sqlite3_step(st) == SQLITE_DONE;
    }
    sqlite3_finalize(st);
    if (ok) {
      // Records of other boots go at every write (the boot of the last record is this boot).
      st = nullptr;
      ok = sqlite3_prepare_v2(db, "DELETE FROM ondemand WHERE boot_id != ?1", -1, &st, nullptr) == SQLITE_OK;
      if (ok) {
        sqlite3_bind_text(st, 1, valid.back()->boot_id.c_str(), -1, SQLITE_TRANSIENT);
        ok = sqlite3_step(st) == SQLITE_DONE;
      }
      sqlite3_finalize(st);
    }
    if (ok) ok = sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK;
    if (!ok) {
      Failure f = db_fail(db, what);
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return f;
    }
  }
  if (!invalid.empty()) return fail(Errc::invalid_argument, invalid);
  return {};
}

Status record_on_demand(PersistStore &store, const OnDemandRecord &rec) {
  return record_on_demand(store, std::span<const OnDemandRecord>(&rec, 1));
}

Result<bool> forget_on_demand(PersistStore &store, const std::string &module) {
  sqlite3 *db = store.db();
  sqlite3_stmt *st = nullptr;
  if (sqlite3_prepare_v2(db, "DELETE FROM ondemand WHERE module=?1", -1, &st, nullptr) != SQLITE_OK)
    return db_fail(db, "forget on-demand load");
  sqlite3_bind_text(st, 1, module.c_str(), -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return db_fail(db, "forget on-demand load of " + module);
  return sqlite3_changes(db) > 0;
}

Result<std::vector<OnDemandRecord>> on_demand_records(PersistStore &store, const std::string &boot_id) {
  sqlite3 *db = store.db();
  sqlite3_stmt *st = nullptr;
  if (sqlite3_prepare_v2(db,
                         "SELECT module, alias, source, pid, comm, boot_id, loaded FROM ondemand WHERE ?1 = '' OR boot_id=?1 ORDER BY module",
                         -1, &st, nullptr) != SQLITE_OK)
    return db_fail(db, "read on-demand record");
  sqlite3_bind_text(st, 1, boot_id.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<OnDemandRecord> out;
  auto col = [&](int i) {
    const unsigned char *p = sqlite3_column_text(st, i);
    return p ? std::string(reinterpret_cast<const char *>(p)) : std::string();
  };
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    OnDemandRecord r;
    r.module = col(0);
    r.alias = col(1);
    r.source = col(2);
    r.pid = sqlite3_column_int64(st, 3);
    r.comm = col(4);
    r.boot_id = col(5);
    r.loaded = sqlite3_column_int64(st, 6);
    out.push_back(std::move(r));
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return db_fail(db, "read on-demand record");
  return out;
}

}  // namespace kmx
