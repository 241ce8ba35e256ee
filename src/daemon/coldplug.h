// Coldplug: the devices that existed before the daemon started, found by their `modalias`
// attribute files under /sys/devices (what `udevadm trigger --action=add` replays as uevents;
// the MODALIAS of such a uevent is the content of that file).
//
// A modalias file holds one line, e.g. "pci:v00008086d0000100Esv00008086sd0000001Ebc02sc00i00\n"
// (drivers/base/core.c, dev_uevent()/modalias_show() of each bus). Empty files (devices of a
// bus without aliases) are skipped. The walk never follows symlinks (sysfs links subsystem,
// driver and firmware_node back into the tree), visits directories in name order so the result
// does not depend on readdir order, and is bounded in depth and in file size.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace kmx {

struct DeviceAlias {
  std::string devpath;   // relative to the sysfs root, "/devices/..."
  std::string modalias;  // without the trailing newline
};

struct ColdplugScan {
  std::vector<DeviceAlias> devices;  // in walk order
  std::vector<std::string> problems; // unreadable files or directories, one line each
};

// Every non-empty modalias file under <sys_root>/devices. A missing <sys_root>/devices is
// Errc::not_found; anything unreadable further down goes to `problems` and the walk goes on.
Result<ColdplugScan> scan_modaliases(const std::string &sys_root);

// The distinct aliases of `devices`, in first-seen order.
std::vector<std::string> distinct_aliases(const std::vector<DeviceAlias> &devices);

}  // namespace kmx
