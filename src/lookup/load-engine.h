// The loading engine: libkmod's kmod_module_probe_insert_module() as a plan and its execution,
// the one home of "what loading a module means" for kmx modprobe (serially, in kmod's order and
// with kmod's messages) and the daemon (plans run on its worker pool, daemon/load-scheduler.h).
//
// plan_probe() turns one module of a lookup into the steps of its load: libkmod's probe list
// (dependencies, pre softdeps, the module, post softdeps), each step with what stands in for it
// (the install command, or the file to insert), its options (modprobe.d and the kernel command
// line, then the caller's own for the module asked for), whether it is required, and why a
// `forbid` line refuses it. Planning reads the ProbeContext and asks the caller whether the
// module is already in the kernel; it changes nothing.
//
// execute_step() runs one step with its effects passed in (LoadEffects): stored parameters are
// joined to the options (all of them for an insert, only shell-inert ones for an install
// command's $CMDLINE_OPTS), the command goes to the command runner, the file to the kernel.
// execute_probe() runs a whole plan with kmod's rules: a step already in the kernel counts as
// EEXIST and is skipped, a failed required step ends the load, a failed soft one does not, a
// forbidden module ends the load with its message. Messages are libkmod's texts; the caller
// decides where they go (modprobe prints them by priority, the daemon logs them).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "lookup/probe.h"

namespace kmx {

// libkmod's KMOD_PROBE_* flags (libkmod.h), same values.
enum ProbeFlag : unsigned {
  PROBE_FORCE_VERMAGIC = 0x1,
  PROBE_FORCE_MODVERSION = 0x2,
  PROBE_IGNORE_COMMAND = 0x4,
  PROBE_IGNORE_LOADED = 0x8,
  PROBE_DRY_RUN = 0x10,
  PROBE_FAIL_ON_LOADED = 0x20,
  PROBE_APPLY_BLACKLIST_ALL = 0x10000,
  PROBE_APPLY_BLACKLIST = 0x20000,
  PROBE_APPLY_BLACKLIST_ALIAS_ONLY = 0x40000,
};

// syslog priorities of libkmod's messages.
enum LogPriority : int { LOG_PRIO_CRIT = 2, LOG_PRIO_ERR = 3, LOG_PRIO_WARNING = 4, LOG_PRIO_INFO = 6 };

struct PlanStep {
  std::string name;
  std::optional<std::string> path;     // the file to insert; nullopt: not in modules.dep
  std::optional<std::string> command;  // the install command that stands in for the insert (unexpanded)
  std::string options;                 // the load's own options, without stored values
  bool required = true;                // a dependency or the module itself; a softdep is not
  bool target = false;                 // the module the plan was made for
  bool early = false;                  // listed before the target (a dependency or pre softdep)
  bool builtin = false;                // known only when the plan needed it (see plan_probe)
  std::optional<std::string> forbidden;  // why a forbid line refuses it: the load stops here
};

struct ProbePlan {
  enum class Outcome { load, already_loaded, blacklisted };
  Outcome outcome = Outcome::load;
  unsigned blacklist_flag = 0;  // the PROBE_APPLY_BLACKLIST* flag that applied (libkmod returns it)
  std::vector<PlanStep> steps;
};

struct PlanRequest {
  unsigned flags = 0;                // PROBE_*
  std::optional<std::string> extra;  // the caller's options for the target (modprobe's argv)
  bool listing = false;              // --show-depends: forbidden modules are listed, not refused
};

// kmod_module_probe_insert_module()'s decisions for `mod`. in_kernel(m): live (or being loaded)
// or builtin; asked for `mod` only, and not with PROBE_IGNORE_LOADED. A step's `builtin` is filled
// in when the executor needs it (no PROBE_IGNORE_LOADED) or when the step has no file.
ProbePlan plan_probe(ProbeContext &ctx, ProbeModule *mod, const PlanRequest &req,
                     const std::function<bool(ProbeModule *)> &in_kernel);

// What a load does outside the process. Each may be empty: no stored values, nothing shown,
// nothing to record. in_kernel, run_command and insert are needed by a real (not dry) run.
struct LoadEffects {
  // Live or being loaded (builtin steps are known from the plan).
  std::function<bool(const PlanStep &)> in_kernel;
  // Stored parameter words ("KEY=VALUE", values with spaces double-quoted for the kernel) for
  // the step, given its own options.
  std::function<std::vector<std::string>(const PlanStep &, const std::string &options)> stored;
  // Called before a step runs (dry runs included), with the options it gets: modprobe -v's lines.
  std::function<void(const PlanStep &, const std::string &options)> show;
  // Runs an expanded install command; its wait status, or an error (busy: timed out or cancelled).
  std::function<Result<int>(const std::string &name, const std::string &command)> run_command;
  // finit_module() of the step's file with these options.
  std::function<Status(const PlanStep &, const std::string &options)> insert;
  // After a successful insert.
  std::function<void(const PlanStep &)> loaded;
};

struct StepResult {
  int err = 0;           // 0, or -errno as libkmod returns it
  std::string message;   // libkmod's line for a failure (no trailing newline)
  int priority = LOG_PRIO_ERR;
  std::string cause;     // the kernel's (or the loader's) own account of a failed insert
  bool ok() const { return err == 0; }
};

// The options a step's install command gets as $CMDLINE_OPTS: the stored words a shell reads
// as plain text wherever the command puts $CMDLINE_OPTS (letters, digits and _-.,:=+/@%; their
// values come from sysfs or a user, never from configuration, and no quoting is safe both
// inside and outside the command's own quotes), then the step's own options exactly as kmod
// passes them. A stored word with anything else reaches the kernel on an insert, not a shell.
std::string command_options(const std::vector<std::string> &stored_words, const std::string &options);
// The options a step's insert gets: stored words first, so that the load's own value of a
// parameter, parsed last by the kernel, wins.
std::string insert_options(const std::vector<std::string> &stored_words, const std::string &options);

// libkmod's line for a step that a forbid line refuses (step.forbidden set).
std::string forbidden_message(const PlanStep &step);

// One step: stored values, show, then the command or the insert (neither when dry_run).
StepResult execute_step(const PlanStep &step, bool dry_run, const LoadEffects &fx);

// A whole plan in kmod's order with kmod's rules; each failure's message goes to `log`.
// Returns 0 or -errno as kmod_module_probe_insert_module() does (the blacklist flag when the
// plan is `blacklisted`, -EEXIST for an already loaded module with PROBE_FAIL_ON_LOADED).
int execute_probe(const ProbePlan &plan, unsigned flags, const LoadEffects &fx,
                  const std::function<void(int priority, const std::string &message)> &log);

}  // namespace kmx
