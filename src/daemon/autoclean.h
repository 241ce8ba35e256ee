// Autoclean: which modules loaded on demand have been unused for the whole idle period and
// may be released (the old kerneld's autoclean, with release_module / delayed_release_module /
// cancel_release_module as explicit requests).
//
// A module is in use while its refcount is not 0, it has holders (/sys/module/NAME/holders or
// the users column of /proc/modules), a device is bound to one of its drivers, or it is not Live. Only modules in the on-demand record
// (persist/ondemand.h) or with a pending "release when idle" request are candidates; the keep
// list and a per-module idle of 0 exclude a module for good. The idle clock of a module starts
// at the first observation that finds it unused and restarts whenever it is found in use, so a
// module is released only after `idle` seconds of consecutive observations of non-use.
//
// The state machine is pure: observe() takes the time and what the kernel shows and returns the
// modules to release now; the caller unloads them (saving parameters first) and reports back.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "persist/ondemand.h"
#include "kernel/sysfs-module.h"

namespace kmx {

struct AutocleanConfig {
  i64 idle_seconds = 60;
  std::set<std::string> keep;               // never released by autoclean
  std::map<std::string, i64> module_idle;   // per-module idle period; 0 = never
};

// What the kernel shows about one loaded module.
struct ModuleUse {
  std::string name;
  i64 refcnt = 0;  // -1: the kernel cannot unload modules
  std::vector<std::string> holders;
  bool live = true;
  // Devices bound to the module's drivers (/sys/module/NAME/drivers/*/ links other than
  // "module"): a PCI or USB driver has refcnt 0 while it drives hardware, and unloading it
  // would take the device away.
  i64 bound_devices = 0;
  // Network links of a kind this module provides (kernel/net-links.h): the module's name, or
  // KIND of an "rtnl-link-KIND" alias it was loaded for on demand. Unloading it deletes them.
  i64 net_links = 0;
};

// How many of `kinds` (one per existing link) name a link type `module` provides.
i64 count_net_links(const std::string &module, const std::vector<OnDemandRecord> &records,
                    const std::vector<std::string> &kinds);

// /proc/modules plus /sys/module/NAME/{refcnt,holders} (sysfs wins where present, as kmod),
// bound devices, and network links by kind (with `records` for the rtnl-link aliases; no
// links are counted when the netlink query fails).
Result<std::vector<ModuleUse>> read_module_uses(const KernelRoots &r, const std::vector<OnDemandRecord> &records = {});

bool module_in_use(const ModuleUse &u);

struct PendingRelease {
  std::string module;
  i64 requested = 0;
};

class Autoclean {
public:
  explicit Autoclean(AutocleanConfig cfg) : cfg_(std::move(cfg)) {}

  // One observation at time `now`. Returns the modules to release, sorted.
  std::vector<std::string> observe(i64 now, const std::vector<OnDemandRecord> &records, const std::vector<ModuleUse> &uses);

  // delayed_release_module: release MODULE once it is idle for the idle period, even if it was
  // not loaded on demand (an admin asking for it is explicit consent).
  void release_when_idle(const std::string &module, i64 now);
  // cancel_release_module: drop a pending request and keep autoclean off MODULE until it is
  // loaded on demand again. Returns whether anything was pending or tracked.
  bool cancel(const std::string &module);
  // After the caller unloaded (or failed to unload) a module.
  void released(const std::string &module);

  // Seconds the module has been idle, -1 when not tracked.
  i64 idle_for(const std::string &module, i64 now) const;
  std::vector<PendingRelease> pending() const;
  i64 idle_period(const std::string &module) const;
  const AutocleanConfig &config() const { return cfg_; }
  // New settings (kmx.conf reread): idle timers and pending releases stay as they are.
  void reconfigure(AutocleanConfig cfg) { cfg_ = std::move(cfg); }

private:
  AutocleanConfig cfg_;
  std::map<std::string, i64> idle_since_;
  std::map<std::string, i64> pending_;        // module -> time requested
  std::map<std::string, i64> cancelled_;      // module -> load time of the record when cancelled
};

}  // namespace kmx
