// The loading engine's counterpart for removal (lookup/load-engine.h loads): what taking a
// module out of the kernel means, for kmx modprobe -r, kmx rmmod and the daemon's autoclean.
//
// unload_with() is libkmod's kmod_module_remove_module() with kmx's persistence around the
// delete_module(2) call: `before` while the module is still loaded (its changed parameters
// are saved), `after` once it has left (its baseline and on-demand record go). While the
// kernel answers EAGAIN (the module is busy and O_NONBLOCK asked not to wait), the call is
// retried with a growing pause until `wait` has passed (modprobe --wait).
//
// execute_remove() is kmod 30's modprobe -r for one module (tools/modprobe.c rmmod_do_module):
//   post softdeps (last first), then with --remove-holders the holders (stop at the first
//   failure), the module itself (its remove command, or an unload refused while its refcount
//   is not zero), the dependencies it leaves unused, then its pre softdeps (last first).
//   A softdep, holder or dependency that is builtin or not loaded is skipped quietly.
// Messages are modprobe's texts; each goes to `log` with its priority, and the lines that
// modprobe -v prints ("rmmod NAME", "remove COMMAND") go to `show`. The kernel, sysfs and the
// shell are effects passed in, so every rule is unit-testable without a kernel.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "lookup/load-engine.h"
#include "lookup/probe.h"

namespace kmx {

using UnloadClock = std::chrono::steady_clock;

// What an unload does outside the process. `remove` is required; the others may be empty.
struct UnloadEffects {
  // delete_module(2) with these flags (O_NONBLOCK, | O_TRUNC when forced); its errno in the
  // error (kernel/module-load.h unload_module).
  std::function<Status(const std::string &name, unsigned flags)> remove;
  // Before the call, the module still loaded.
  std::function<void(const std::string &name)> before;
  // After the module left the kernel.
  std::function<void(const std::string &name)> after;
  // The pause between two tries of a busy module, and the clock its deadline is read from
  // (std::this_thread::sleep_for and UnloadClock::now when empty).
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<UnloadClock::time_point()> now;
};

// kmod_module_remove_module() between `before` and `after`; 0 or -errno.
int unload_with(const std::string &name, unsigned flags, std::chrono::milliseconds wait, const UnloadEffects &fx);

struct RemoveRequest {
  bool dry_run = false;          // -n: shown, not done
  bool first_time = false;       // --first-time: a module not loaded is an error
  bool force = false;            // -f: O_TRUNC
  bool ignore_commands = false;  // -i: no remove commands, no softdeps
  bool ignore_loaded = false;    // --ignore-loaded: no loaded/builtin/refcount checks
  bool remove_holders = false;   // --remove-holders
  std::chrono::milliseconds wait{0};  // --wait
  int log_priority = LOG_PRIO_CRIT;   // of modprobe's LOG() lines: CRIT, or WARNING with -a
};

struct RemoveEffects {
  UnloadEffects unload;
  // kmod_module_get_initstate() of a module that is not builtin: 0 live, 1 coming, 2 going,
  // or -errno (-ENOENT when it is not loaded).
  std::function<int(const std::string &name)> initstate;
  // The module's reference count, or -errno.
  std::function<int(const std::string &name)> refcnt;
  // The modules that hold it (/sys/module/NAME/holders).
  std::function<std::vector<std::string>(const std::string &name)> holders;
  // Runs an expanded remove command; its wait status, or an error (the shell did not start).
  std::function<Result<int>(const std::string &name, const std::string &command)> run_command;
  // modprobe -v's lines (with their newline); empty when nothing is shown.
  std::function<void(const std::string &line)> show;
};

// modprobe -r of `mod`; 0 or -errno as kmod's rmmod_do_module() returns it.
int execute_remove(ProbeContext &ctx, ProbeModule *mod, const RemoveRequest &req, const RemoveEffects &fx,
                   const std::function<void(int priority, const std::string &message)> &log);

}  // namespace kmx
