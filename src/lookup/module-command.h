// modprobe.d's install and remove commands, run as libkmod runs them: `/bin/sh -c COMMAND` with
// $CMDLINE_OPTS replaced by the module's options and MODPROBE_MODULE=NAME in the environment
// (the name never enters the command text). One home for modprobe and the daemon.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <mutex>
#include <set>
#include <string>

#include "base/result.h"

namespace kmx {

// COMMAND with every $CMDLINE_OPTS replaced by `opts`.
std::string expand_cmdline_opts(const std::string &command, const std::string &opts);

struct CommandOptions;

// Lets another thread stop the commands a runner started (the daemon's shutdown): cancel()
// sends SIGTERM to the process group of each running command and refuses new ones.
class CommandControl {
public:
  void cancel();
  bool cancelled() const { return cancelled_; }

private:
  friend Result<int> run_module_command(const std::string &, const std::string &, const CommandOptions &);
  std::mutex mu_;           // guards running_ and the spawn/reap of commands
  std::set<pid_t> running_;  // process groups now running
  std::atomic<bool> cancelled_{false};
};

struct CommandOptions {
  // Kill the command's process group (SIGKILL) after this long; 0 waits for ever.
  int timeout_ms = 0;
  // The command gets its own process group (so that it and what it started can be stopped);
  // implied by a timeout or a control.
  bool own_group = false;
  CommandControl *control = nullptr;
  // The command's environment (MODPROBE_MODULE is set over it): the tool's own, which only
  // src/tools reads (`environ`) and passes down; nullptr: MODPROBE_MODULE alone.
  const char *const *environment = nullptr;
};

// Runs an already expanded command for module `name`. Returns its wait status (as system(3)
// does); an error when it could not be started (errno), was cancelled (busy) or ran past the
// timeout (busy, after it was killed).
Result<int> run_module_command(const std::string &name, const std::string &command, const CommandOptions &opts = {});

}  // namespace kmx
