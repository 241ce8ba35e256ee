#include "lookup/remove-engine.h"

#include <fcntl.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "lookup/module-command.h"

namespace kmx {

int unload_with(const std::string &name, unsigned flags, std::chrono::milliseconds wait, const UnloadEffects &fx) {
  auto now = [&] { return fx.now ? fx.now() : UnloadClock::now(); };
  const auto deadline = now() + wait;
  std::chrono::milliseconds pause{1};
  if (fx.before) fx.before(name);
  for (;;) {
    Status st = fx.remove(name, flags);
    int err = st ? 0 : -st.error().to_errno();
    if (err == 0) {
      if (fx.after) fx.after(name);
      return 0;
    }
    if (err != -EAGAIN || wait.count() == 0 || now() >= deadline) return err;
    if (fx.sleep) fx.sleep(pause);
    else std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds{1000});
  }
}

namespace {

class Remover {
public:
  Remover(ProbeContext &ctx, const RemoveRequest &req, const RemoveEffects &fx,
          const std::function<void(int, const std::string &)> &log)
      : ctx_(ctx), req_(req), fx_(fx), log_(log) {}

  enum { REMOVE_HOLDERS = 1, IGNORE_BUILTIN = 2 };

  int module(ProbeModule *mod, int flags) {
    std::vector<ProbeModule *> pre, post;
    const std::string *cmd = nullptr;
    if (!req_.ignore_commands) {
      ctx_.softdeps(mod, pre, post);
      cmd = ctx_.remove_command(mod);
    }
    if (!cmd && !req_.ignore_loaded) {
      if (ctx_.is_builtin(mod)) {
        if (flags & IGNORE_BUILTIN) return 0;
        say(req_.log_priority, "Module " + mod->name + " is builtin.");
        return -ENOENT;
      }
      if (fx_.initstate(mod->name) < 0) {
        if (!req_.first_time) return 0;
        say(req_.log_priority, "Module " + mod->name + " is not in kernel.");
        return -ENOENT;
      }
    }
    list(post, false);
    if (flags & REMOVE_HOLDERS) {
      std::vector<ProbeModule *> holders;
      for (const std::string &n : fx_.holders(mod->name)) holders.push_back(ctx_.from_name(n));
      if (int err = list(holders, true); err < 0) return err;
    }
    if (!cmd && !req_.ignore_loaded && req_.wait.count() == 0 && fx_.refcnt(mod->name) > 0) {
      say(req_.log_priority, "Module " + mod->name + " is in use.");
      return -EBUSY;
    }
    int err = cmd ? command(mod, *cmd) : unload(mod);
    if (err < 0) return err;
    if (!cmd)
      for (ProbeModule *d : ctx_.dependencies(mod))
        if (fx_.refcnt(d->name) == 0) unload(d);
    list(pre, false);
    return err;
  }

private:
  void say(int priority, const std::string &message) const {
    if (log_) log_(priority, message + "\n");
  }
  void show(const std::string &line) const {
    if (fx_.show) fx_.show(line);
  }

  // Softdeps and holders, last first; quiet about the ones that are builtin or not loaded.
  int list(const std::vector<ProbeModule *> &mods, bool stop_on_errors) {
    for (auto it = mods.rbegin(); it != mods.rend(); ++it) {
      int err = module(*it, IGNORE_BUILTIN);
      if (err < 0 && stop_on_errors) return err;
    }
    return 0;
  }

  int command(ProbeModule *mod, const std::string &text) {
    std::string cmd = expand_cmdline_opts(text, "");
    show("remove " + cmd + "\n");
    if (req_.dry_run) return 0;
    // system(3)'s answer as kmod reads it: -1 when the shell could not start.
    Result<int> r = fx_.run_command(mod->name, cmd);
    if (r && WEXITSTATUS(*r) == 0) return 0;
    say(req_.log_priority, "Error running remove command for " + mod->name);
    return r ? -WEXITSTATUS(*r) : -1;
  }

  int unload(ProbeModule *m) {
    show("rmmod " + m->name + "\n");
    if (req_.dry_run) return 0;
    unsigned flags = O_NONBLOCK | (req_.force ? O_TRUNC : 0);
    int err = unload_with(m->name, flags, req_.wait, fx_.unload);
    const bool waited = req_.wait.count() != 0;
    if (err < 0 && !waited) say(LOG_PRIO_ERR, "could not remove '" + m->name + "': " + std::strerror(-err));
    if (err == -EEXIST) {
      if (!req_.first_time) err = 0;
      else say(req_.log_priority, "Module " + m->name + " is not in kernel.");
    }
    if (err < 0 && waited) say(LOG_PRIO_ERR, "could not remove '" + m->name + "': " + std::strerror(-err));
    return err;
  }

  ProbeContext &ctx_;
  const RemoveRequest &req_;
  const RemoveEffects &fx_;
  const std::function<void(int, const std::string &)> &log_;
};

}  // namespace

int execute_remove(ProbeContext &ctx, ProbeModule *mod, const RemoveRequest &req, const RemoveEffects &fx,
                   const std::function<void(int, const std::string &)> &log) {
  Remover r(ctx, req, fx, log);
  return r.module(mod, req.remove_holders ? Remover::REMOVE_HOLDERS : 0);
}

}  // namespace kmx
