// Shared bits of the kmod-compatible tools: kmod's message shape ("prog: ERROR: ...").
#pragma once

#include <fmt/core.h>

#include <cstdio>
#include <string>

#include "base/result.h"
#include "config/kmx-config.h"
#include "persist/persist-hooks.h"
#include "persist/param-baseline.h"

namespace kmx {

// kmod's log prefix uses the invoked tool's short name.
template <typename... Args>
void log_error(const char *prog, fmt::format_string<Args...> f, Args &&...args) {
  std::string msg = fmt::format(f, std::forward<Args>(args)...);
  std::fprintf(stderr, "%s: ERROR: %s", prog, msg.c_str());
}

template <typename... Args>
void log_warning(const char *prog, fmt::format_string<Args...> f, Args &&...args) {
  std::string msg = fmt::format(f, std::forward<Args>(args)...);
  std::fprintf(stderr, "%s: WARNING: %s", prog, msg.c_str());
}

// kmod's log (tools/log.c), for the tools with -s and -v: a message of syslog priority `prio`
// shows when prio <= `priority` (each -v raises it); "PROG: LEVEL: MSG" on stderr, or
// "LEVEL: MSG" to syslog with -s (the caller opens and closes syslog). MSG carries its own
// newline, as kmod's format strings do.
struct KmodLog {
  const char *prog = "";
  bool use_syslog = false;
  int priority = 3;  // LOG_ERR

  bool shows(int prio) const { return prio <= priority; }
  void write(int prio, const std::string &msg) const;
  template <typename... Args>
  void say(int prio, fmt::format_string<Args...> f, Args &&...args) const {
    if (shows(prio)) write(prio, fmt::format(f, std::forward<Args>(args)...));
  }
};

// strerror() of the errno an Error maps to, as kmod prints it.
std::string error_string(const Error &e);

// /lib/modules/<release> under an optional root, as kmod computes it for -b/-k.
std::string module_dir(const std::string &root, const std::string &kversion);

// A usage error of a kmx-only tool: "PROG: ERROR: MSG", then its usage text, on stderr;
// returns 2, the exit code of every kmx-only tool for a usage error.
int kmx_usage_error(const char *prog, const std::string &msg, const char *usage);

// The environment is read here, in the tools, and nowhere below:
// kmx.conf from $KMX_CONFIG (default /etc/kmx/kmx.conf), its persist-db overridden by
// $KMX_PERSIST_DB when set and not empty;
Result<KmxConfig> load_kmx_config_from_env();
// the parameter baselines' directory, $KMX_BASELINE_DIR or /run/kmx/baseline.
std::string baseline_dir_from_env();

// The persistence hooks of a loading tool (persist/persist-hooks.h) with the tools'
// environment: kmx.conf from $KMX_CONFIG, baselines in $KMX_BASELINE_DIR, problems printed as
// "kmx: persist: FILE: WHAT" on stderr when `verbose`.
PersistHooks make_persist_hooks(const KernelRoots &roots, bool verbose);

// --version of every kmx tool (the kmod tools' features line, as kmod prints it), then 0.
int print_kmx_version();
// --version of the kmod tools (kmod, depmod, modprobe, insmod, rmmod, lsmod, modinfo): kmod's
// first line, which scripts test, and kmx named on the second.
int print_kmod_version();

// The running kernel's release (uname -r).
std::string running_release();

// Where kmx keeps its caches, one rule for every tool (depmod's module metadata, kmx check's
// tree facts and kernel-image certificates): $KMX_CACHE_DIR when set (set and empty: no
// cache); with an image root (-b ROOT), ROOT/var/cache/kmx, so that building an image neither
// reads nor leaves host state; otherwise /var/cache/kmx for root and $XDG_CACHE_HOME/kmx or
// ~/.cache/kmx for other users. Never the module directory: a cache there would outlive the
// kernel package that owns the directory. "" means no cache. The library takes the directory
// as a parameter and never chooses one itself.
std::string kmx_cache_dir(const std::string &root = "");

}  // namespace kmx
