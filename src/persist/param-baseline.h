// Parameter baselines: what a module's writable parameters were right after kmx loaded it, so
// that the unload saves only the parameters that changed at runtime instead of
// freezing every default into the store.
//
// Where: one file per module, <dir>/<module>.json, dir /run/kmx/baseline by default ($KMX_BASELINE_DIR
// overrides it for tests). Not in the SQLite store, on purpose: a baseline describes one load in
// one boot (tmpfs /run forgets it at reboot, as it should), and writing it must never create the
// store, which only a save with something to save may do.
//
// Format (JSON, written by temp file + rename, mode 0600):
//   {"version":1, "module":"dummy", "sysfs_ino":12345, "params":{"numdummies":"1", ...}}
// sysfs_ino is st_ino of /sys/module/<module> when the baseline was taken. kernfs gives every new
// directory a fresh inode number (idr_alloc_cyclic), so a baseline whose inode differs from the
// module's current directory belongs to an earlier load (the module was unloaded and reloaded by
// another tool meanwhile) and is ignored.
//
// Version history: 1 (first format).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "base/result.h"
#include "base/types.h"

namespace kmx {

inline constexpr const char *kDefaultBaselineDir = "/run/kmx/baseline";

struct ParamBaseline {
  std::string module;
  u64 sysfs_ino = 0;
  std::map<std::string, std::string> params;
};

// Snapshot the module's writable parameters now (right after a load) into <dir>/<module>.json,
// creating dir (0700) when missing. A module without writable parameters gets no file.
Status write_baseline(const std::string &dir, const std::string &sys_root, const std::string &module);

// The module's baseline, nullopt when there is none or it belongs to another load (inode
// mismatch, or the module is not loaded). A file that does not parse is Errc::invalid_format.
Result<std::optional<ParamBaseline>> read_baseline(const std::string &dir, const std::string &sys_root,
                                                   const std::string &module);

// Remove the module's baseline (after its unload); a missing file is fine.
Status remove_baseline(const std::string &dir, const std::string &module);

// What to save before unloading: the writable parameters whose value differs from the
// baseline (a key missing from the baseline counts as changed), or all of them without one.
std::map<std::string, std::string> changed_params(const std::optional<ParamBaseline> &baseline,
                                                  const std::map<std::string, std::string> &current);

// The unload path's question in one call: MODULE's writable parameters read now from sys_root,
// compared by changed_params() with its baseline in `dir` ("" = no baselines kept). A baseline
// that cannot be read counts as none; why goes to `baseline_error` when given. Errors: reading
// the parameters (Errc::not_found when the module is not loaded).
Result<std::map<std::string, std::string>> params_changed_since_load(const std::string &dir, const std::string &sys_root,
                                                                    const std::string &module,
                                                                    std::optional<Error> *baseline_error = nullptr);

}  // namespace kmx
