#include "daemon/coldplug.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "test-support.h"

using namespace kmx;
namespace fs = std::filesystem;

namespace {

struct FakeSys : test::FakeSysfs {
  FakeSys() : FakeSysfs("kmx-coldplug") { fs::create_directories(root_ / "sys/devices"); }
  void device(const std::string &rel, const std::string &modalias) {
    fs::create_directories(root_ / "sys/devices" / rel);
    std::ofstream(root_ / "sys/devices" / rel / "modalias") << modalias;
  }
};

}  // namespace

TEST(Coldplug, FindsModaliasesInNameOrderWithoutFollowingLinks) {
  FakeSys s;
  s.device("pci0000:00/0000:00:03.0", "pci:v00008086d0000100Esv00008086sd0000001Ebc02sc00i00\n");
  s.device("pci0000:00/0000:00:01.0", "pci:v00008086d00007000sv00000000sd00000000bc06sc01i00\n");
  s.device("platform/serial8250", "platform:serial8250\n");
  s.device("platform/i8042", "platform:i8042\n");
  s.device("virtual/empty", "");  // a bus without aliases
  s.device("pci0000:00/0000:00:01.1", "pci:v00008086d00007000sv00000000sd00000000bc06sc01i00\n");
  // sysfs links back into the tree (driver, subsystem): must not be followed
  fs::create_directory_symlink(s.root_ / "sys/devices/platform", s.root_ / "sys/devices/pci0000:00/0000:00:03.0/subsystem");
  auto scan = scan_modaliases(s.sys());
  ASSERT_TRUE(scan) << scan.error().msg;
  EXPECT_TRUE(scan->problems.empty());
  std::vector<std::string> paths;
  for (const DeviceAlias &d : scan->devices) paths.push_back(d.devpath);
  EXPECT_EQ(paths, (std::vector<std::string>{"/devices/pci0000:00/0000:00:01.0", "/devices/pci0000:00/0000:00:01.1",
                                             "/devices/pci0000:00/0000:00:03.0", "/devices/platform/i8042",
                                             "/devices/platform/serial8250"}));
  EXPECT_EQ(scan->devices[3].modalias, "platform:i8042");
  auto distinct = distinct_aliases(scan->devices);
  EXPECT_EQ(distinct.size(), 4u);
  EXPECT_EQ(distinct[0], "pci:v00008086d00007000sv00000000sd00000000bc06sc01i00");
}

TEST(Coldplug, MissingDevicesDirNamesIt) {
  FakeSys s;
  auto scan = scan_modaliases(s.sys() + "/nope");
  ASSERT_FALSE(scan);
  EXPECT_NE(scan.error().msg.find("/nope/devices"), std::string::npos) << scan.error().msg;
}

TEST(Coldplug, UnreadableModaliasIsAProblemNotAnAbort) {
  FakeSys s;
  s.device("a", "platform:a\n");
  s.device("b", "platform:b\n");
  fs::permissions(s.root_ / "sys/devices/a/modalias", fs::perms::none);
  if (geteuid() != 0) {
    auto scan = scan_modaliases(s.sys());
    ASSERT_TRUE(scan);
    ASSERT_EQ(scan->devices.size(), 1u);
    EXPECT_EQ(scan->problems.size(), 1u);
    return;
  }
  // Root reads mode-000 files: scan as nobody in a child (the tree made traversable), which
  // reports devices * 10 + problems as its exit status.
  for (const auto &d : {s.root_, s.root_ / "sys", s.root_ / "sys/devices", s.root_ / "sys/devices/a", s.root_ / "sys/devices/b"})
    fs::permissions(d, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(s.root_ / "sys/devices/b/modalias", fs::perms::owner_all | fs::perms::others_read);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(99);
    auto scan = scan_modaliases(s.sys());
    _exit(scan ? static_cast<int>(scan->devices.size() * 10 + scan->problems.size()) : 98);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 11) << "devices*10+problems as nobody (99: could not drop to nobody)";
}
