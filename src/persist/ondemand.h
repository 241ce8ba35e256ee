// The on-demand record: which modules kmx loaded because something asked for them (the kernel
// through /proc/sys/kernel/modprobe, a uevent, or `kmx modprobe --autoclean`), for which alias,
// when, and by whom where that can be known. Autoclean only ever releases modules in this
// record; a module an admin loads explicitly is taken out of it.
//
// Stored in the persist database's `ondemand` table (persist/persist-store.h) with the boot id
// of the kernel (/proc/sys/kernel/random/boot_id), so records from an earlier boot are ignored
// (and dropped at the next write) instead of making autoclean release a module an admin loaded
// after a reboot.
//
// Requester: the kernel runs its modprobe as a usermode helper with no link to the task that
// triggered request_module(), so for source "kernel" pid is 0 and comm "kernel"; a uevent
// names no process either; `kmx modprobe --autoclean` records its parent process.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "kernel/sysfs-module.h"
#include "persist/persist-store.h"

namespace kmx {

struct OnDemandRecord {
  std::string module;
  std::string alias;   // what was asked for (fs-ext4, net-pf-38, a modalias, or the name)
  std::string source;  // "kernel", "uevent" or "modprobe"
  i64 pid = 0;         // 0: not known
  std::string comm;    // /proc/PID/comm of the requester, or "kernel"/"uevent"
  std::string boot_id;
  i64 loaded = 0;      // unix seconds
};

// /proc/sys/kernel/random/boot_id without its newline; "" when unreadable.
std::string current_boot_id(const KernelRoots &r);

// /proc/PID/comm of a process, "" when gone.
std::string process_comm(const KernelRoots &r, i64 pid);

// Whether process `pid` is a kernel thread, i.e. how kmx modprobe knows the kernel ran it
// (request_module() -> call_usermodehelper: the helper's parent is a kworker, or kthreadd with
// UMH_WAIT_EXEC). /proc/PID/stat's flags field (the 9th) carries PF_KTHREAD (0x00200000) on every
// kernel; when stat cannot be read, an empty /proc/PID/cmdline of a live process is the sign
// (user processes always have argv[0]; zombies too lose theirs, but a parent waiting for us is
// not a zombie). pid 0 (no parent in our namespace) counts as the kernel.
bool is_kernel_thread(const KernelRoots &r, i64 pid);

// Record (or refresh) modules loaded on demand, in one transaction; drops records of other
// boots. Records with an invalid module name are not written: the others are, and the error
// names the invalid ones.
Status record_on_demand(PersistStore &store, std::span<const OnDemandRecord> recs);
Status record_on_demand(PersistStore &store, const OnDemandRecord &rec);

// Take a module out of the record (explicit load, or it was unloaded). Returns whether it was in.
Result<bool> forget_on_demand(PersistStore &store, const std::string &module);

// The records of boot `boot_id` ("" : of every boot), ordered by module.
Result<std::vector<OnDemandRecord>> on_demand_records(PersistStore &store, const std::string &boot_id);

}  // namespace kmx
