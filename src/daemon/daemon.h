// `kmx daemon`: kerneld revived. One process, one main thread, one poll loop over
//   * the kernel's uevent netlink socket (hotplug: ACTION=add with MODALIAS loads a module),
//   * the control socket (daemon/control.h: status, release, release-when-idle, cancel),
//   * a stop descriptor (the tool's signalfd for SIGTERM/SIGINT) and a reload one (SIGHUP),
// plus a one-second tick that runs autoclean (daemon/autoclean.h) and checks whether depmod
// replaced the indexes. At start it coldplugs: every modalias under /sys/devices, loaded like
// udev's `modprobe -b ALIAS` through one AliasLoader (indexes mapped once). The requests waiting
// at a time form one batch, resolved on the main thread and loaded by a small worker pool
// (one more worker than online CPUs, --jobs): independent modules load concurrently, as
// udev's workers do, dependencies first, each module once.
//
// Requests for the same alias are merged (daemon/request-queue.h): a storm of identical uevents
// costs one lookup, and each module is loaded once. When the kernel reports that it dropped
// uevents (ENOBUFS on the netlink socket) the daemon says so and rescans /sys/devices, so no
// device is left without its driver.
//
// Every module the daemon loads goes into the on-demand record (source "uevent"); autoclean
// releases those idle for the idle period, saving their writable parameters first. Pending
// release-when-idle requests live in the store (daemon/pending-releases.h) and survive a restart.
//
// Under a service manager (daemon/sd-notify.h) it says READY=1 once coldplug is done and it
// listens, RELOADING=1 then READY=1 around a reload, STOPPING=1 when it stops.
//
// Nothing here prints or exits: one line per action goes to the `log` callback.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "daemon/alias-loader.h"
#include "daemon/autoclean.h"
#include "daemon/control.h"

namespace kmx {

struct DaemonOptions {
  LoaderOptions loader;            // roots, module dir, modprobe.d, dry run
  AutocleanConfig autoclean;
  std::string db_path;             // persist store; "" for none (no records, no autoclean)
  i64 store_retry_ms = 30000;      // a store that cannot be opened is tried again this often
  std::string notify_socket;       // the service manager's ($NOTIFY_SOCKET); "" for none
  bool persist = true;             // save parameters before autoclean unloads, apply on load
  std::string control_socket = kDefaultControlSocket;
  std::string uevent_socket;       // test hook: a Unix datagram socket instead of netlink
  int uevent_rcvbuf = 128 * 1024 * 1024;  // as udev: enough for a storm while we load
  bool coldplug = true;
  bool coldplug_only = false;      // exit after coldplug (no sockets)
  bool autoclean_enabled = true;
  i64 tick_ms = 1000;
  bool verbose = false;            // also log modules already present / aliases without a module
  unsigned jobs = 0;               // load workers (daemon/load-scheduler.h); 0: online CPUs + 1
  // Settings reread at each reload (SIGHUP): the tool rereads kmx.conf and applies its own
  // command-line overrides. Autoclean's idle periods and keep list, the command timeout and
  // `persist` take effect at once (idle timers and pending releases are kept); a new store
  // path or control socket needs a restart, and says so. An error keeps the old settings.
  std::function<Result<DaemonOptions>()> reread;
};

class Daemon {
public:
  using Log = std::function<void(const std::string &)>;
  Daemon(DaemonOptions opt, Log log);
  ~Daemon();
  Daemon(const Daemon &) = delete;
  Daemon &operator=(const Daemon &) = delete;

  // Run until `stop_fd` becomes readable (or, with coldplug_only, until coldplug is done).
  // Whenever `reload_fd` (the tool's SIGHUP signalfd; -1 for none) becomes readable, what it
  // holds is read and discarded, kmx.conf (DaemonOptions::reread) and modprobe.d are reread,
  // the indexes reopened, and an unavailable store tried again.
  Status run(int stop_fd, int reload_fd = -1);

  const DaemonCounters &counters() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kmx
