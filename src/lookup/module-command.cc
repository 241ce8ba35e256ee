#include "lookup/module-command.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

namespace kmx {

std::string expand_cmdline_opts(const std::string &command, const std::string &opts) {
  static constexpr std::string_view var = "$CMDLINE_OPTS";
  std::string cmd = command;
  for (size_t at = 0; (at = cmd.find(var, at)) != std::string::npos; at += opts.size()) cmd.replace(at, var.size(), opts);
  return cmd;
}

void CommandControl::cancel() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  for (pid_t pid : running_) ::kill(-pid, SIGTERM);
}

Result<int> run_module_command(const std::string &name, const std::string &command, const CommandOptions &o) {
  // The caller's environment plus MODPROBE_MODULE.
  std::vector<std::string> env_store;
  for (const char *const *e = o.environment; e && *e; ++e)
    if (std::strncmp(*e, "MODPROBE_MODULE=", 16) != 0) env_store.emplace_back(*e);
  env_store.push_back("MODPROBE_MODULE=" + name);
  std::vector<char *> envp;
  for (std::string &s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", cmd = command;
  char *argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
  const bool group = o.own_group || o.timeout_ms > 0 || o.control;
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  short flags = POSIX_SPAWN_SETSIGDEF;  // SIGINT and SIGQUIT at their defaults in the command
  sigset_t def;
  sigemptyset(&def);
  sigaddset(&def, SIGINT);
  sigaddset(&def, SIGQUIT);
  posix_spawnattr_setsigdefault(&attr, &def);
  if (group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attr, 0);
  }
  posix_spawnattr_setflags(&attr, flags);
  pid_t pid = 0;
  int rc;
  if (o.control) {
    // Spawned and registered under the lock: cancel() sees every command that starts.
    std::lock_guard lock(o.control->mu_);
    if (o.control->cancelled_) rc = ECANCELED;
    else if ((rc = posix_spawn(&pid, "/bin/sh", nullptr, &attr, argv, envp.data())) == 0) o.control->running_.insert(pid);
  } else {
    rc = posix_spawn(&pid, "/bin/sh", nullptr, &attr, argv, envp.data());
  }
  posix_spawnattr_destroy(&attr);
  if (rc == ECANCELED) return fail(Errc::busy, "not run: cancelled");
  if (rc != 0) return fail_errno(rc, std::strerror(rc));

  int status = 0;
  if (o.timeout_ms <= 0 && !o.control) {
    // As system(3): the caller ignores SIGINT and SIGQUIT while the command runs (a Ctrl-C
    // reaches the command, which decides), and the command gets their default actions.
    struct sigaction ign{}, old_int{}, old_quit{};
    ign.sa_handler = SIG_IGN;
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    int e = 0;
    while (waitpid(pid, &status, 0) < 0)
      if (errno != EINTR) {
        e = errno;
        break;
      }
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGQUIT, &old_quit, nullptr);
    if (e) return fail_errno(e, std::string("waitpid: ") + std::strerror(e));
    return status;
  }
  // Polled (every 10 ms, on the calling thread) so that the time limit needs no signal; reaped
  // under the control's lock, so that cancel() never signals a group whose leader is gone.
  bool timed_out = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(o.timeout_ms);
  for (;;) {
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT | WNOHANG) < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      return fail_errno(e, std::string("waitid: ") + std::strerror(e));
    }
    if (info.si_pid == pid) {
      std::unique_lock<std::mutex> lock;
      if (o.control) lock = std::unique_lock(o.control->mu_);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      if (o.control) o.control->running_.erase(pid);
      break;
    }
    if (!timed_out && o.timeout_ms > 0 && std::chrono::steady_clock::now() >= deadline) {
      timed_out = true;
      ::kill(-pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (timed_out) return fail(Errc::busy, "still ran after " + std::to_string(o.timeout_ms / 1000) + " s: stopped");
  return status;
}

}  // namespace kmx
