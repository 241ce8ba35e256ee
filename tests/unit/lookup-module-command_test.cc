// Unit tests for modprobe.d's command runner (lookup/module-command.cc), shared by modprobe and
// the daemon: $CMDLINE_OPTS expansion, MODPROBE_MODULE, wait status, the time limit that kills
// the whole process group, and cancel() from another thread.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
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
  test::TempDir dir;
  std::string mark = dir.path + "/late";
  CommandOptions o;
  o.timeout_ms = 300;
  auto start = std::chrono::steady_clock::now();
  // The child of the shell (sleep, then touch) must die with it.
  auto r = run_module_command("x", "(sleep 2; touch " + mark + ") & wait", o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::busy);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  EXPECT_FALSE(std::filesystem::exists(mark));
}

TEST(ModuleCommand, CancelStopsRunningAndRefusesNew) {
  CommandControl control;
  CommandOptions o;
  o.control = &control;
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    control.cancel();
  });
  auto r = run_module_command("x", "sleep 5", o);
  t.join();
  ASSERT_TRUE(r) << r.error().msg;  // it ran, and was stopped by SIGTERM
  EXPECT_TRUE(WIFSIGNALED(*r));
  EXPECT_EQ(WTERMSIG(*r), SIGTERM);
  auto again = run_module_command("x", "true", o);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::busy);
}
