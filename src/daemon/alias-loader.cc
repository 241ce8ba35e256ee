#include "daemon/alias-loader.h"
#include "lookup/module-command.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "base/diag.h"
#include "kernel/module-load.h"
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

// Each modprobe.d path (a directory's mtime changes when a file is added, removed or renamed
// into it) and each file read from them (an edit in place changes its size or mtime).
std::vector<AliasLoader::Stamp> AliasLoader::config_stamps() const {
  std::vector<Stamp> out;
  const std::vector<std::string> &paths =
      opt_.config.config_paths.empty() ? default_modprobe_config_paths() : opt_.config.config_paths;
  for (const std::string &p : paths) out.push_back(stamp_of(opt_.config.root + p));
  Diag quiet([](const DiagMessage &) {});
  for (const ModprobeConfigFile &f : list_modprobe_config_files(opt_.config, quiet)) out.push_back(stamp_of(f.path));
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

bool AliasLoader::in_kernel(ProbeModule *m) {
  if (ctx_->is_builtin(m)) return true;
  if (opt_.dry_run) {
    std::lock_guard lock(simulated_mu_);
    if (simulated_.count(m->name)) return true;
  }
  auto st = module_initstate(opt_.roots, m->name);
  // Coming counts as present: another loader is finishing it, and a second finit_module would
  // only wait for it and return EEXIST.
  return st && (*st == InitState::live || *st == InitState::coming);
}

Status AliasLoader::run_install(const std::string &name, const std::string &command, const std::string &options) {
  std::string cmd = expand_cmdline_opts(command, options);
  // Its own process group (cancel() stops the shell and whatever it started), killed after
  // kmx.conf's command-timeout.
  CommandOptions o;
  o.timeout_ms = opt_.command_timeout_ms;
  o.control = &commands_;
  auto r = run_module_command(name, cmd, o);
  if (!r && r.error().code == Errc::busy && commands_.cancelled())
    return fail(Errc::busy, "not loaded: the daemon is stopping");
  if (!r && r.error().code == Errc::busy)
    return fail(Errc::busy, "install command '" + cmd + "' for module " + name + " " + r.error().msg +
                                " (command-timeout in kmx.conf)");
  if (!r) return fail_errno(r.error().sys_errno, "could not run install command '" + cmd + "' for module " + name + ": " + r.error().msg);
  int status = *r;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return fail(Errc::invalid_argument, "install command '" + cmd + "' for module " + name + " failed (status " +
                                            std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)) + ")");
  return {};
}

// One module of a plan: what run_step() needs, copied out of the ProbeContext (its flags are
// reset by the next probe_list()).
struct AliasLoader::Work {
  std::string name;
  std::optional<std::string> path;     // nullopt: not in modules.dep
  std::optional<std::string> command;  // the install command to run instead of loading
  std::string options;
};

struct AliasLoader::Plan {
  bool found = false;
  std::vector<std::string> blacklisted;
  std::vector<std::string> errors;  // found while planning (forbid lines)
  LoadChain chain;
  std::vector<Work> work;           // one per chain step
};

AliasLoader::Plan AliasLoader::plan(const std::string &alias) {
  Plan p;
  if (!ctx_) open();
  auto found = ctx_->lookup(alias);
  if (!found || found->empty()) return p;
  p.found = true;
  size_t segment = 0;
  for (ProbeModule *mod : *found) {
    segment++;
    if (in_kernel(mod)) continue;
    if (ctx_->is_blacklisted(mod)) {
      p.blacklisted.push_back(mod->name);
      continue;
    }
    std::vector<ProbeModule *> list = ctx_->probe_list(mod, false);
    // Everything the list puts before the module itself (dependencies, pre-softdeps) may load
    // ahead of the chain (load-scheduler.h), except what an install command stands in for.
    bool before_mod = true;
    for (ProbeModule *m : list) {
      if (m == mod) before_mod = false;
      if (in_kernel(m)) continue;
      if (ctx_->is_forbidden(m)) {
        p.errors.push_back(m->name + ": " + ProbeContext::forbidden_reason(m, mod));
        break;
      }
      Work w;
      w.name = m->name;
      w.options = ctx_->options(m);
      const std::string *cmd = ctx_->install_command(m);
      if (cmd && !m->ignorecmd) w.command = *cmd;
      else if (const std::string *path = ctx_->path(m)) w.path = *path;
      // Stored parameters join a real insert only, as with kmx modprobe: never an install
      // command's $CMDLINE_OPTS, whose text reaches a shell.
      if (opt_.store && !opt_.dry_run && w.path) {
        if (Result<std::string> with = options_with_stored(*opt_.store, m->name, *w.path, w.options)) w.options = std::move(*with);
        else if (log_) log_("cannot read stored parameters of " + m->name + ": " + with.error().msg);
      }
      u64 cost = 0;
      struct stat st;
      if (w.path && ::stat(w.path->c_str(), &st) == 0) cost = static_cast<u64>(st.st_size);
      p.chain.steps.push_back({m->name, segment, m->required, before_mod && !w.command, cost});
      p.work.push_back(std::move(w));
    }
  }
  return p;
}

void AliasLoader::cancel() { commands_.cancel(); }

// Runs on any worker thread: touches no ProbeContext.
Status AliasLoader::run_step(const Work &w) {
  if (commands_.cancelled()) return fail(Errc::busy, "not loaded: the daemon is stopping");
  if (w.command) {
    if (!opt_.dry_run) TRY(run_install(w.name, *w.command, w.options));
  } else if (!w.path) {
    return fail(Errc::not_found, "could not find module by name='" + w.name + "'");
  } else if (!opt_.dry_run) {
    auto r = load_module_file(opt_.roots, *w.path, w.options, {});
    if (!r && r.error().sys_errno == EEXIST) r = LoadResult{};  // loaded by someone else meanwhile
    if (!r) return fail(r.error());
    // As kmx modprobe does: the unload saves only what changed at runtime.
    if (!opt_.baseline_dir.empty())
      if (Status b = write_baseline(opt_.baseline_dir, opt_.roots.sys, w.name); !b && log_) {
        std::lock_guard lock(log_mu_);
        log_("parameter baseline of " + w.name + ": " + b.error().msg);
      }
  }
  if (opt_.dry_run) {
    std::lock_guard lock(simulated_mu_);
    simulated_.insert(w.name);
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
      const Work &w = p.work[s];
      switch (results[c].steps[s]) {
      case StepOutcome::loaded:
        (w.command ? out.commands : out.inserted).push_back(w.name);
        break;
      case StepOutcome::failed:
        out.errors.push_back(w.name + ": " + results[c].errors[e++].msg);
        break;
      default:
        break;
      }
    }
  }
  return outs;
}

}  // namespace kmx
