#include "lookup/load-engine.h"

#include <sys/wait.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "base/strings.h"
#include "lookup/module-command.h"

namespace kmx {

ProbePlan plan_probe(ProbeContext &ctx, ProbeModule *mod, const PlanRequest &req,
                     const std::function<bool(ProbeModule *)> &in_kernel) {
  ProbePlan plan;
  const unsigned flags = req.flags;
  if (!(flags & PROBE_IGNORE_LOADED) && in_kernel(mod)) {
    plan.outcome = ProbePlan::Outcome::already_loaded;
    return plan;
  }
  // libkmod's order of the three blacklist flags: alias-only (when the module came from an
  // alias), all, then the plain flag.
  unsigned bl = 0;
  if ((mod->alias && (bl = flags & PROBE_APPLY_BLACKLIST_ALIAS_ONLY)) || (bl = flags & PROBE_APPLY_BLACKLIST_ALL) ||
      (bl = flags & PROBE_APPLY_BLACKLIST)) {
    if (ctx.is_blacklisted(mod)) {
      plan.outcome = ProbePlan::Outcome::blacklisted;
      plan.blacklist_flag = bl;
      return plan;
    }
  }
  // The probe list's modules carry their visited/required/ignorecmd flags only until the next
  // probe_list(): everything a step needs is copied out now.
  std::vector<ProbeModule *> list = ctx.probe_list(mod, flags & PROBE_IGNORE_COMMAND);
  bool before_target = true;
  plan.steps.reserve(list.size());
  for (ProbeModule *m : list) {
    PlanStep s;
    s.name = m->name;
    s.target = m == mod;
    if (s.target) before_target = false;
    s.early = before_target;
    s.required = m->required;
    const std::string *cmd = ctx.install_command(m);
    if (cmd && !m->ignorecmd) s.command = *cmd;
    if (const std::string *path = ctx.path(m)) s.path = *path;
    if (!(flags & PROBE_IGNORE_LOADED) || !s.path) s.builtin = ctx.is_builtin(m);
    std::string own = ctx.options(m);
    const std::optional<std::string> *extra = s.target ? &req.extra : nullptr;
    if (!own.empty()) s.options = own + " " + (extra && *extra ? **extra : std::string());
    else if (extra && *extra) s.options = **extra;
    if (!req.listing && ctx.is_forbidden(m)) s.forbidden = ProbeContext::forbidden_reason(m, mod);
    plan.steps.push_back(std::move(s));
  }
  return plan;
}

namespace {

StepResult failure(int err, std::string message, int priority = LOG_PRIO_ERR, std::string cause = {}) {
  return {err, std::move(message), priority, std::move(cause)};
}

// A word that means the same to a shell wherever $CMDLINE_OPTS stands in the command text:
// unquoted, inside double quotes or inside single quotes. No quoting can promise that (a
// single-quoted word is live again inside the author's double quotes), so a stored word must
// not need any.
bool shell_inert(std::string_view w) {
  for (char c : w)
    if (!std::isalnum(static_cast<unsigned char>(c)) && !std::strchr("_-.,:=+/@%", c)) return false;
  return !w.empty();
}

// The stored words, then the load's own options (kmod's text, kept whole).
std::string join_words(std::vector<std::string> words, const std::string &options) {
  if (!options.empty()) words.push_back(options);
  return join(words, " ");
}

}  // namespace

std::string insert_options(const std::vector<std::string> &stored_words, const std::string &options) {
  return join_words(stored_words, options);
}

std::string command_options(const std::vector<std::string> &stored_words, const std::string &options) {
  std::vector<std::string> inert;
  for (const std::string &w : stored_words)
    if (shell_inert(w)) inert.push_back(w);
  return join_words(inert, options);
}

std::string forbidden_message(const PlanStep &step) {
  return "could not insert '" + step.name + "': " + step.forbidden.value_or("");
}

StepResult execute_step(const PlanStep &step, bool dry_run, const LoadEffects &fx) {
  std::vector<std::string> stored;
  if (fx.stored && !step.forbidden && (step.command || step.path)) stored = fx.stored(step, step.options);
  if (step.command) {
    std::string options = command_options(stored, step.options);
    if (fx.show) fx.show(step, options);
    if (step.forbidden) return failure(-EPERM, forbidden_message(step));
    if (dry_run) return {};
    std::string cmd = expand_cmdline_opts(*step.command, options);
    Result<int> r = fx.run_command(step.name, cmd);
    if (!r && r.error().code == Errc::busy)
      return failure(-EBUSY, "install command '" + cmd + "' for module " + step.name + " " + r.error().msg, LOG_PRIO_ERR);
    if (!r) {
      int e = r.error().sys_errno ? r.error().sys_errno : EINVAL;
      return failure(-EINVAL, "Could not run install command '" + cmd + "' for module " + step.name + ": " + std::strerror(e),
              LOG_PRIO_ERR);
    }
    // libkmod looks at WEXITSTATUS() only, as system(3)'s callers usually do.
    if (WEXITSTATUS(*r))
      return failure(-EINVAL,
              "Error running install command '" + cmd + "' for module " + step.name + ": retcode " +
                  std::to_string(WEXITSTATUS(*r)),
              LOG_PRIO_ERR);
    return {};
  }
  std::string options = insert_options(stored, step.options);
  if (fx.show) fx.show(step, options);
  if (step.forbidden) return failure(-EPERM, forbidden_message(step));
  if (dry_run) return {};
  if (!step.path) return failure(-ENOENT, "could not find module by name='" + step.name + "'", LOG_PRIO_ERR);
  Status st = fx.insert(step, options);
  if (!st) {
    int e = st.error().sys_errno ? st.error().sys_errno : st.error().to_errno();
    return failure(-e, "Failed to insert module '" + *step.path + "': " + std::strerror(e), LOG_PRIO_INFO, st.error().msg);
  }
  if (fx.loaded) fx.loaded(step);
  return {};
}

int execute_probe(const ProbePlan &plan, unsigned flags, const LoadEffects &fx,
                  const std::function<void(int, const std::string &)> &log) {
  switch (plan.outcome) {
  case ProbePlan::Outcome::already_loaded: return (flags & PROBE_FAIL_ON_LOADED) ? -EEXIST : 0;
  case ProbePlan::Outcome::blacklisted: return static_cast<int>(plan.blacklist_flag);
  case ProbePlan::Outcome::load: break;
  }
  int err = 0;
  for (const PlanStep &s : plan.steps) {
    if (!(flags & PROBE_IGNORE_LOADED) && (s.builtin || fx.in_kernel(s))) {
      err = -EEXIST;
    } else {
      StepResult r = execute_step(s, flags & PROBE_DRY_RUN, fx);
      err = r.err;
      if (!r.ok() && log) log(r.priority, r.message);
      if (s.forbidden) return err;  // a forbidden module stops the whole load
    }
    if (err == -EEXIST && s.target && (flags & PROBE_FAIL_ON_LOADED)) break;
    if (err == -EEXIST || !s.required) err = 0;
    else if (err < 0) break;
  }
  return err;
}

}  // namespace kmx
