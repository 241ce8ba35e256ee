// Pending "release when idle" requests (delayed_release_module), kept in the persist database
// so that a daemon restart does not forget them.
//
// Format: one table in the persist store's SQLite file (persist/persist-store.h), created by the
// daemon when missing:
//
//   pending_release(module TEXT PRIMARY KEY, requested INTEGER,   -- unix seconds
//                   boot_id TEXT)                                 -- /proc/sys/kernel/random/boot_id
//
// A request belongs to the boot it was made in: rows of another boot id are ignored on load and
// dropped by the next save (the module an admin meant is gone after a reboot). save replaces the
// whole set in one transaction.
//
// Version history: 1 (first format).
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "daemon/autoclean.h"
#include "persist/persist-store.h"

namespace kmx {

Result<std::vector<PendingRelease>> load_pending_releases(PersistStore &store, const std::string &boot_id);
Status save_pending_releases(PersistStore &store, const std::string &boot_id, const std::vector<PendingRelease> &pending);

}  // namespace kmx
