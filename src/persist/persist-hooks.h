// What kmx's loading tools (modprobe, insmod, rmmod) do besides kmod's work:
// persistent parameters and the on-demand record. One object per tool run.
//
// Rules (they keep the tools kmod-compatible and unsurprising):
// - kmx.conf (config/kmx-config.h) is read on first use; `persist off` disables parameter
//   saving, applying and baselines. The on-demand record is autoclean's input and stays on.
// - The store is opened only when needed and at most once. A missing store file is never
//   created by a load or by forgetting; only a save with something to save, or an on-demand
//   record, creates it.
// - Right after kmx loads a module: a baseline of its writable parameters (persist/param-
//   baseline.h, under /run/kmx/baseline). Right before kmx unloads one: the parameters that
//   differ from the baseline (all writable ones without a baseline) go to the store.
// - On load, stored parameters the load does not name itself are added to its options (the
//   load's own options -- modprobe.d, kernel command line, argv -- win).
// - Nothing here changes a tool's output or exit code. Problems (read-only /var, corrupt
//   store, bad kmx.conf) go to the `report` callback as "FILE: WHAT" (the tools print them as
//   "kmx: persist: FILE: WHAT" on stderr, and only with -v).
// Where kmx.conf and the baselines are (the environment) is the caller's to say: the config
// comes from `config_source`, called on first use.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/kmx-config.h"
#include "kernel/sysfs-module.h"
#include "persist/persist-store.h"

namespace kmx {

// Before an unload, the one rule kmx rmmod, modprobe -r and the daemon share: the module's
// writable parameters that differ from the baseline taken after its load (all of them without
// one) go to the store, which `store` is asked for only when there is something to save (nullptr:
// it cannot be had, nothing is saved). Returns how many were saved; a module that is not loaded
// saves none. Problems that did not stop the save (an unreadable baseline) go to `note`.
Result<size_t> save_params_before_unload(const std::string &baseline_dir, const std::string &sys_root,
                                         const std::string &module, const std::function<PersistStore *()> &store,
                                         const std::function<void(const std::string &where, const Error &)> &note = {});

class PersistHooks {
public:
  using ConfigSource = std::function<Result<KmxConfig>()>;
  using Report = std::function<void(const std::string &)>;
  PersistHooks(KernelRoots roots, ConfigSource config_source, std::string baseline_dir, Report report)
      : roots_(std::move(roots)), config_source_(std::move(config_source)), baseline_dir_(std::move(baseline_dir)),
        report_(std::move(report)) {}
  // Only read the store (modprobe -n -v shows the options a load would get): never opened for
  // writing, so SQLite creates no -wal/-shm files and nothing is recorded.
  void set_read_only(bool v) { read_only_ = v; }

  // The stored parameter words a load of `module` from `path` (nullopt: not known) gets,
  // given the load's own options (persist/module-params.h stored_to_apply).
  std::vector<std::string> stored_words(const std::string &module, const std::optional<std::string> &path,
                                        const std::string &options);
  // After kmx loaded `module`.
  void after_load(const std::string &module);
  // Before kmx unloads `module` (still loaded).
  void before_unload(const std::string &module);
  // After kmx unloaded `module`.
  void after_unload(const std::string &module);

  // On-demand record: `modules` were just loaded because `alias` was asked for.
  void record_on_demand(const std::vector<std::string> &modules, const std::string &alias, const std::string &source,
                        i64 pid, const std::string &comm);
  // An explicit load or an unload: take `module` out of the record (only if the store exists).
  void forget_on_demand(const std::string &module);

private:
  const KmxConfig *config();
  bool persist_enabled();
  // nullptr when the store cannot be used; `create` allows creating a missing file.
  PersistStore *store(bool create);
  void report(const std::string &file, const std::string &what);

  KernelRoots roots_;
  ConfigSource config_source_;
  bool config_loaded_ = false;
  std::optional<KmxConfig> config_;
  std::optional<PersistStore> store_;
  bool store_failed_ = false;
  bool store_read_only_ = false;
  bool read_only_ = false;
  std::string baseline_dir_;
  Report report_;
};

}  // namespace kmx
