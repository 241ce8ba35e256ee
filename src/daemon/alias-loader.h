// The daemon's loader: resolves an alias (a device's modalias, or any name modprobe takes) and
// loads what it names the way udev's kmod builtin does, i.e. `modprobe -b ALIAS`
// (kmod_module_probe_insert_module with KMOD_PROBE_APPLY_BLACKLIST): the modules the lookup
// returns, each with its dependencies and softdeps in kmod's probe-list order; a blacklisted
// module named by the lookup is skipped, a module already in the kernel is left alone, install
// commands run (with the module name only in $MODPROBE_MODULE, never in the command text), and
// a `forbid` line refuses the whole load.
//
// The indexes are mapped once (one ProbeContext) and reopened when depmod replaces them: every
// reload_if_changed() compares the inode, size and mtime of the .bin files with those seen at
// open (kmod_validate_resources does the same per context), and of modprobe.d's directories and
// files, so a new blacklist or forbid line reaches the next hotplug event without a restart.
//
// In dry-run mode nothing reaches the kernel and no command runs; a module that "would load" is
// remembered, so each is reported once, as if it had been loaded.
//
// load_batch() resolves every alias first (serially: the ProbeContext is one thread's) into a
// load chain, then loads the chains on a worker pool (daemon/load-scheduler.h): independent
// modules load concurrently, dependencies before their users, each module once per batch.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/modprobe-config.h"
#include "kernel/sysfs-module.h"
#include "daemon/load-scheduler.h"
#include "lookup/module-command.h"
#include "lookup/probe.h"

namespace kmx {

class PersistStore;

struct LoaderOptions {
  KernelRoots roots;
  std::string moddir;                  // /lib/modules/RELEASE (absolute)
  ModprobeConfigSources config;        // modprobe.d sources; module_dir is set from moddir
  bool dry_run = false;
  PersistStore *store = nullptr;       // stored parameters applied on load when set
  std::string baseline_dir;            // parameter baselines written after a load; "" for none
  i64 command_timeout_ms = 180000;     // an install command running longer is killed (SIGKILL to its group)
};

struct LoadOutcome {
  bool found = false;                  // the lookup named at least one module
  std::vector<std::string> inserted;   // modules this call loaded (or would load), in order
  std::vector<std::string> commands;   // modules whose install command ran (or would run)
  std::vector<std::string> blacklisted;
  std::vector<std::string> errors;     // one line per failed module
};

class AliasLoader {
public:
  using Log = std::function<void(const std::string &)>;
  AliasLoader(LoaderOptions opt, Log log);
  ~AliasLoader();

  // Read modprobe.d and open the indexes (again).
  void open();
  // Reread modprobe.d and reopen the indexes when any index file or modprobe.d changed since
  // open(); returns what changed, nullopt when nothing did.
  std::optional<std::string> reload_if_changed();
  i64 generation() const { return generation_; }
  // What to watch for changes (daemon/file-watch.h): the module directory, each modprobe.d
  // path, and the directories of the targets of symlinked configuration files.
  std::vector<std::string> watch_paths() const;

  LoadOutcome load(const std::string &alias);
  // One outcome per alias, in order; jobs as run_load_chains (0: online CPUs + 1). A module
  // several aliases need is loaded (and reported) once, in the outcome of the alias whose
  // worker reached it first.
  std::vector<LoadOutcome> load_batch(const std::vector<std::string> &aliases, unsigned jobs);

  // load_batch() in two halves, for a caller that loads off its main thread: resolve() uses
  // the indexes and must run on the thread that calls open() and reload_if_changed(), never
  // while an execute() is running; execute() touches no index and may run on any thread.
  struct Batch;
  std::shared_ptr<Batch> resolve(const std::vector<std::string> &aliases);
  std::vector<LoadOutcome> execute(Batch &batch, unsigned jobs);

  // Stop for good (the daemon is exiting): running install commands get SIGTERM (their whole
  // process group), steps not yet started fail; a finit_module in progress completes.
  void cancel();

  const LoaderOptions &options() const { return opt_; }
  void set_store(PersistStore *store) { opt_.store = store; }
  // kmx.conf reread: for commands started from now on.
  void set_command_timeout_ms(i64 ms) { opt_.command_timeout_ms = ms; }

  // The identity of a file at one moment (device, inode, size, mtime).
  struct Stamp;

private:
  struct Work;
  struct Plan;
  Plan plan(const std::string &alias);
  Status run_step(const Work &w);
  std::vector<Stamp> index_stamps() const;
  std::vector<Stamp> config_stamps() const;
  bool in_kernel(ProbeModule *m);
  bool in_kernel(const std::string &name);  // live or coming (or, in a dry run, "loaded")

  LoaderOptions opt_;
  Log log_;
  std::unique_ptr<ModprobeConfig> cfg_;
  std::unique_ptr<ProbeContext> ctx_;
  std::vector<Stamp> seen_index_, seen_config_;
  std::mutex log_mu_;  // log_ from worker threads
  std::mutex simulated_mu_;
  CommandControl commands_;           // install commands now running; cancel() stops them
  std::set<std::string> simulated_;  // dry run: modules that would be loaded
  i64 generation_ = 0;
};

}  // namespace kmx
