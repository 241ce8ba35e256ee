// Unit tests for modprobe.d's command runner (lookup/module-command.cc), shared by modprobe and
// the daemon: $CMDLINE_OPTS expansion, MODPROBE_MODULE, wait status, the time limit that kills
// the whole process group, and cancel() from another thread.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "lookup/module-command.h"
#include "test-support.h"

using namespace kmx;

namespace {

std::string slurp(const std::string &path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A pipe whose write end is fd 9, without FD_CLOEXEC so that commands inherit it (the shell
// writes to it with >&9); returns the read end, or -1.
int pipe_at_fd9() {
  int p[2];
  if (::fcntl(9, F_GETFD) != -1 || ::pipe2(p, O_CLOEXEC) != 0) return -1;
  if (::dup2(p[1], 9) != 9) {
    ::close(p[0]);
    p[0] = -1;
  }
  ::close(p[1]);
  return p[0];
}

}  // namespace

TEST(ModuleCommand, ExpandsEveryCmdlineOpts) {
  EXPECT_EQ(expand_cmdline_opts("modprobe --ignore-install x $CMDLINE_OPTS; echo $CMDLINE_OPTS", "a=1"),
            "modprobe --ignore-install x a=1; echo a=1");
  // Options that contain the variable's name are inserted once, not expanded again.
  EXPECT_EQ(expand_cmdline_opts("f $CMDLINE_OPTS", "$CMDLINE_OPTS"), "f $CMDLINE_OPTS");
  EXPECT_EQ(expand_cmdline_opts("no options here", "a=1"), "no options here");
}

TEST(ModuleCommand, NameOnlyThroughTheEnvironment) {
  test::TempDir dir;
  std::string out = dir.path + "/out";
  auto r = run_module_command("dum'my", "printf '%s' \"$MODPROBE_MODULE\" > " + out + "; exit 3");
  ASSERT_TRUE(r) << r.error().msg;
  ASSERT_TRUE(WIFEXITED(*r));
  EXPECT_EQ(WEXITSTATUS(*r), 3);
  EXPECT_EQ(slurp(out), "dum'my");
}

TEST(ModuleCommand, TimeLimitKillsTheProcessGroup) {
  // Every process of the command inherits the write end of a pipe as fd 9; the shell's child
  // writes "survived" to it once its sleep ends. Reading the pipe to its end waits exactly until
  // the last of them is gone, so a child that outlives the time limit (the limit not enforced,
  // or only the shell killed) is read here, however long anything takes.
  const int from_command = pipe_at_fd9();
  ASSERT_GE(from_command, 0);
  CommandOptions o;
  o.timeout_ms = 300;
  auto r = run_module_command("x", "(sleep 5; echo survived >&9) & wait", o);
  ::close(9);
  std::string late;
  char buf[64];
  for (ssize_t n; (n = ::read(from_command, buf, sizeof buf)) != 0;) {
    if (n > 0) late.append(buf, static_cast<size_t>(n));
    else if (errno != EINTR) break;
  }
  ::close(from_command);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::busy);
  EXPECT_EQ(late, "");
}

TEST(ModuleCommand, CancelStopsRunningAndRefusesNew) {
  CommandControl control;
  CommandOptions o;
  o.control = &control;
  // The command says it runs through a pipe (fd 9); cancel() follows that, not a delay. Once
  // the command is gone and fd 9 closed here, the reader sees the end of the pipe either way.
  const int from_command = pipe_at_fd9();
  ASSERT_GE(from_command, 0);
  std::thread t([&] {
    char c;
    ssize_t n;
    while ((n = ::read(from_command, &c, 1)) < 0 && errno == EINTR) {
    }
    if (n == 1) control.cancel();
  });
  auto r = run_module_command("x", "echo started >&9; sleep 5", o);
  ::close(9);
  t.join();
  ::close(from_command);
  ASSERT_TRUE(r) << r.error().msg;  // it ran, and was stopped by SIGTERM
  EXPECT_TRUE(WIFSIGNALED(*r));
  EXPECT_EQ(WTERMSIG(*r), SIGTERM);
  auto again = run_module_command("x", "true", o);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::busy);
}
