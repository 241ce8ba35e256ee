#include "daemon/alias-loader.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <climits>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <type_traits>

#include "base/diag.h"
#include "kernel/module-load.h"
#include "lookup/load-engine.h"
#include "lookup/module-command.h"
#include "persist/module-params.h"
#include "persist/param-baseline.h"
#include "persist/persist-store.h"


namespace kmx {

struct AliasLoader::Stamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = -1;
  i64 mtime_ns = 0;
  bool operator==(const Stamp &) const = default;
};

namespace {

// The files a ProbeContext reads; depmod replaces each by rename, so a new inode shows up.
const char *const kIndexFiles[] = {"modules.dep.bin", "modules.alias.bin", "modules.symbols.bin",
                                   "modules.builtin.bin", "modules.builtin.alias.bin", "modules.softdep"};

}  // namespace

AliasLoader::AliasLoader(LoaderOptions opt, Log log) : opt_(std::move(opt)), log_(std::move(log)) {
  opt_.config.module_dir = opt_.moddir;
}

AliasLoader::~AliasLoader() = default;

// The loader owns the install commands it runs (cancel() signals them) and its logging lock:
// one owner, never a copy.
static_assert(!std::is_copy_constructible_v<AliasLoader> && !std::is_copy_assignable_v<AliasLoader>);

namespace {

AliasLoader::Stamp stamp_of(const std::string &path) {
  AliasLoader::Stamp s;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    s.dev = st.st_dev;
    s.ino = st.st_ino;
    s.size = st.st_size;
    s.mtime_ns = static_cast<i64>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  }
  return s;
}

}  // namespace

std::vector<AliasLoader::Stamp> AliasLoader::index_stamps() const {
  std::vector<Stamp> out;
  for (const char *f : kIndexFiles) out.push_back(stamp_of(opt_.moddir + "/" + f));
  return out;
}

// The modprobe.d paths (under the configured root) and the files read from them now.
std::vector<std::string> AliasLoader::config_dirs() const {
  const std::vector<std::string> &paths =
      opt_.config.config_paths.empty() ? default_modprobe_config_paths() : opt_.config.config_paths;
  std::vector<std::string> out;
  for (const std::string &p : paths) out.push_back(opt_.config.root + p);
  return out;
}

std::vector<std::string> AliasLoader::config_files() const {
  Diag quiet([](const DiagMessage &) {});
  std::vector<std::string> out;
  for (const ModprobeConfigFile &f : list_modprobe_config_files(opt_.config, quiet)) out.push_back(f.path);
  return out;
}

// Each modprobe.d path (a directory's mtime changes when a file is added, removed or renamed
// into it) and each file read from them (an edit in place changes its size or mtime).
std::vector<AliasLoader::Stamp> AliasLoader::config_stamps() const {
  std::vector<Stamp> out;
  for (const std::string &p : config_dirs()) out.push_back(stamp_of(p));
  for (const std::string &f : config_files()) out.push_back(stamp_of(f));
  return out;
}

// The module directory, the modprobe.d paths, and the targets of symlinked configuration files.
std::vector<std::string> AliasLoader::watch_paths() const {
  std::vector<std::string> out{opt_.moddir};
  for (std::string &p : config_dirs()) out.push_back(std::move(p));
  for (const std::string &f : config_files()) {
    char real[PATH_MAX];
    if (::realpath(f.c_str(), real) && f != real) out.push_back(real);
  }
  return out;
}

void AliasLoader::open() {
  // Stamps first: a depmod that finishes between the stat and the open is seen next time.
  seen_index_ = index_stamps();
  seen_config_ = config_stamps();
  ctx_.reset();
  Diag diag([&](const DiagMessage &m) {
    if (log_) log_("config: " + m.msg);
  });
  cfg_ = std::make_unique<ModprobeConfig>(load_modprobe_config(opt_.config, diag));
  ctx_ = std::make_unique<ProbeContext>(opt_.moddir, *cfg_, [this](const std::string &w) {
    if (log_) log_("index: " + w);
  });
  generation_++;
}

std::optional<std::string> AliasLoader::reload_if_changed() {
  std::optional<std::string> what;
  if (!ctx_) what = "nothing was open";
  else if (index_stamps() != seen_index_) what = "indexes changed on disk";
  else if (config_stamps() != seen_config_) what = "modprobe.d changed on disk";
  if (what) open();
  return what;
}

bool AliasLoader::in_kernel(ProbeModule *m) { return ctx_->is_builtin(m) || in_kernel(m->name); }

bool AliasLoader::in_kernel(const std::string &name) {
  if (opt_.dry_run) {
    std::lock_guard lock(simulated_mu_);
    if (simulated_.count(name)) return true;
  }
  auto st = module_initstate(opt_.roots, name);
  // Coming counts as present: another loader is finishing it, and a second finit_module would
  // only wait for it and return EEXIST.
  return st && (*st == InitState::live || *st == InitState::coming);
}

// One step of a plan: the engine's step (lookup/load-engine.h), copied out of the ProbeContext,
// and its stored parameter words, read while planning on the loader's thread (the store is one
// SQLite connection; the steps run on the worker pool).
struct AliasLoader::Work {
  PlanStep step;
  std::vector<std::string> stored;
};

struct AliasLoader::Plan {
  bool found = false;
  std::vector<std::string> blacklisted;
  std::vector<std::string> errors;  // found while planning (forbid lines)
  LoadChain chain;
  std::vector<Work> work;           // one per chain step
};

// udev's `modprobe -b ALIAS`: each module of the lookup planned by the engine with
// PROBE_APPLY_BLACKLIST; what is already in the kernel is left out, a forbidden module ends its
// load with the engine's message.
AliasLoader::Plan AliasLoader::plan(const std::string &alias) {
  Plan p;
  if (!ctx_) open();
  auto found = ctx_->lookup(alias);
  if (!found || found->empty()) return p;
  p.found = true;
  size_t segment = 0;
  PlanRequest req{PROBE_APPLY_BLACKLIST, std::nullopt, false};
  for (ProbeModule *mod : *found) {
    segment++;
    ProbePlan plan = plan_probe(*ctx_, mod, req, [this](ProbeModule *m) { return in_kernel(m); });
    if (plan.outcome == ProbePlan::Outcome::blacklisted) p.blacklisted.push_back(mod->name);
    for (PlanStep &s : plan.steps) {
      if (s.builtin || in_kernel(s.name)) continue;
      if (s.forbidden) {
        p.errors.push_back(forbidden_message(s));
        break;
      }
      // Everything the list puts before the module itself (dependencies, pre-softdeps) may
      // load ahead of the chain (load-scheduler.h), except what an install command stands in for.
      u64 cost = 0;
      struct stat st;
      if (!s.command && s.path && ::stat(s.path->c_str(), &st) == 0) cost = static_cast<u64>(st.st_size);
      p.chain.steps.push_back({s.name, segment, s.required, s.early && !s.command, cost});
      std::vector<std::string> stored;
      if (opt_.store && !opt_.dry_run) {
        Result<std::vector<std::string>> words = stored_to_apply(*opt_.store, s.name, s.path, s.options);
        if (words) stored = std::move(*words);
        else if (log_) log_("cannot read stored parameters of " + s.name + ": " + words.error().msg);
      }
      p.work.push_back({std::move(s), std::move(stored)});
    }
  }
  return p;
}

void AliasLoader::cancel() { commands_.cancel(); }

// Runs on any worker thread: touches no ProbeContext.
Status AliasLoader::run_step(const Work &w) {
  if (commands_.cancelled()) return fail(Errc::busy, "not loaded: the daemon is stopping");
  LoadEffects fx;
  fx.stored = [&w](const PlanStep &, const std::string &) { return w.stored; };
  // Its own process group (cancel() stops the shell and whatever it started), killed after
  // kmx.conf's command-timeout.
  fx.run_command = [this](const std::string &name, const std::string &cmd) -> Result<int> {
    CommandOptions o;
    o.timeout_ms = opt_.command_timeout_ms;
    o.environment = opt_.environment;
    o.control = &commands_;
    Result<int> r = run_module_command(name, cmd, o);
    if (!r && r.error().code == Errc::busy && commands_.cancelled()) return fail(Errc::busy, "not run: the daemon is stopping");
    if (!r && r.error().code == Errc::busy) return fail(Errc::busy, r.error().msg + " (command-timeout in kmx.conf)");
    return r;
  };
  fx.insert = [this](const PlanStep &s, const std::string &options) -> Status {
    auto r = load_module_file(opt_.roots, *s.path, options, {});
    if (!r && r.error().sys_errno == EEXIST) return {};  // loaded by someone else meanwhile
    if (!r) return fail(r.error());
    return {};
  };
  // As kmx modprobe does: the unload saves only what changed at runtime.
  fx.loaded = [this](const PlanStep &s) {
    if (opt_.baseline_dir.empty()) return;
    if (Status b = write_baseline(opt_.baseline_dir, opt_.roots.sys, s.name); !b && log_) {
      std::lock_guard lock(log_mu_);
      log_("parameter baseline of " + s.name + ": " + b.error().msg);
    }
  };
  StepResult r = execute_step(w.step, opt_.dry_run, fx);
  // The daemon's log names the module and the kernel's own account ("dummy: finit_module: ...").
  if (!r.ok()) return fail_errno(-r.err, r.cause.empty() ? r.message : w.step.name + ": " + r.cause);
  if (opt_.dry_run) {
    std::lock_guard lock(simulated_mu_);
    simulated_.insert(w.step.name);
  }
  return {};
}

struct AliasLoader::Batch {
  std::vector<Plan> plans;
  std::vector<LoadChain> chains;
};

LoadOutcome AliasLoader::load(const std::string &alias) { return std::move(load_batch({alias}, 1).front()); }

std::vector<LoadOutcome> AliasLoader::load_batch(const std::vector<std::string> &aliases, unsigned jobs) {
  std::shared_ptr<Batch> b = resolve(aliases);
  return execute(*b, jobs);
}

std::shared_ptr<AliasLoader::Batch> AliasLoader::resolve(const std::vector<std::string> &aliases) {
  auto b = std::make_shared<Batch>();
  b->plans.reserve(aliases.size());
  for (const std::string &a : aliases) b->plans.push_back(plan(a));
  b->chains.reserve(b->plans.size());
  for (Plan &p : b->plans) b->chains.push_back(std::move(p.chain));
  return b;
}

std::vector<LoadOutcome> AliasLoader::execute(Batch &b, unsigned jobs) {
  std::vector<Plan> &plans = b.plans;
  std::vector<LoadChain> &chains = b.chains;
  std::vector<ChainResult> results =
      run_load_chains(chains, jobs, [&](size_t c, size_t s) { return run_step(plans[c].work[s]); });
  std::vector<LoadOutcome> outs(plans.size());
  for (size_t c = 0; c < plans.size(); c++) {
    LoadOutcome &out = outs[c];
    Plan &p = plans[c];
    out.found = p.found;
    out.blacklisted = std::move(p.blacklisted);
    out.errors = std::move(p.errors);
    size_t e = 0;
    for (size_t s = 0; s < chains[c].steps.size(); s++) {
      const PlanStep &w = p.work[s].step;
      switch (results[c].steps[s]) {
      case StepOutcome::loaded:
        (w.command ? out.commands : out.inserted).push_back(w.name);
        break;
      case StepOutcome::failed:
        out.errors.push_back(results[c].errors[e++].msg);
        break;
      default:
        break;
      }
    }
  }
  return outs;
}

}  // namespace kmx
