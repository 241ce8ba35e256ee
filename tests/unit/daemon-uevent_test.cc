#include "daemon/uevent.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <type_traits>

#include "test-support.h"

using namespace kmx;
using namespace std::string_literals;

namespace {

Result<Uevent> parse(const std::string &s) { return parse_uevent(ByteView(std::string_view(s))); }

const std::string kAdd = "add@/devices/pci0000:00/0000:00:03.0\0ACTION=add\0DEVPATH=/devices/pci0000:00/0000:00:03.0\0"s
                         "SUBSYSTEM=pci\0MODALIAS=pci:v00008086d0000100Esv00008086sd0000001Ebc02sc00i00\0SEQNUM=1234\0"s;

}  // namespace

TEST(Uevent, ParsesKernelAdd) {
  auto ev = parse(kAdd);
  ASSERT_TRUE(ev) << ev.error().msg;
  EXPECT_EQ(ev->action, "add");
  EXPECT_EQ(ev->devpath, "/devices/pci0000:00/0000:00:03.0");
  EXPECT_EQ(ev->subsystem, "pci");
  EXPECT_EQ(ev->modalias, "pci:v00008086d0000100Esv00008086sd0000001Ebc02sc00i00");
  EXPECT_EQ(ev->seqnum, 1234);
  EXPECT_EQ(ev->env.size(), 5u);
}

TEST(Uevent, LastEntryWithoutNulAndNoModalias) {
  std::string m("remove@/devices/virtual/net/d0\0ACTION=remove\0SUBSYSTEM=net\0SEQNUM=7", 67);
  auto ev = parse(m);
  ASSERT_TRUE(ev) << ev.error().msg;
  EXPECT_EQ(ev->action, "remove");
  EXPECT_EQ(ev->modalias, "");
  EXPECT_EQ(ev->seqnum, 7);
}

TEST(Uevent, OtherValuesMayHoldControlCharacters) {
  auto ev = parse("change@/devices/virtual/input/input3\0NAME=\"Power\tButton\"\0MODALIAS=input:b0019\0"s);
  ASSERT_TRUE(ev) << ev.error().msg;
  EXPECT_EQ(ev->env[0].second, "\"Power\tButton\"");
  EXPECT_EQ(ev->modalias, "input:b0019");
}

TEST(Uevent, CpuModaliasTrailingNewlineIsDropped) {
  auto ev = parse("add@/devices/system/cpu/cpu0\0ACTION=add\0MODALIAS=cpu:type:x86,ven0002fam000Fmod006B:feature:,0000\n\0SEQNUM=5\0"s);
  ASSERT_TRUE(ev) << ev.error().msg;
  EXPECT_EQ(ev->modalias, "cpu:type:x86,ven0002fam000Fmod006B:feature:,0000");
}

TEST(Uevent, ValueMayHoldEquals) {
  std::string m("add@/d\0MODALIAS=of:Nx=y\0", 24);
  auto ev = parse(m);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->modalias, "of:Nx=y");
}

TEST(Uevent, RefusesMalformed) {
  struct Case {
    std::string msg;
    const char *error;
  };
  const Case cases[] = {
      {"add@/devices/x", "uevent without a NUL after its header"},
      {"add/devices/x\0"s, "uevent header has no '@'"},
      {"@/devices/x\0"s, "uevent header has an empty action"},
      {"add@devices\0"s, "uevent devpath does not start with '/'"},
      {"add@\0"s, "uevent devpath does not start with '/'"},
      {"add@/x\0NOEQUALS\0"s, "uevent entry 1 is not KEY=VALUE"},
      {"add@/x\0A=1\0=v\0"s, "uevent entry 2 is not KEY=VALUE"},
      {"add@/x\0ACTION=remove\0"s, "uevent ACTION=remove differs from its header's 'add'"},
      {"add@/x\0DEVPATH=/y\0"s, "uevent DEVPATH differs from its header's"},
      {"add@/x\0SEQNUM=12a\0"s, "uevent SEQNUM '12a' is not a decimal number"},
      {"add@/x\0SEQNUM=\0"s, "uevent SEQNUM '' is not a decimal number"},
      {"add@/x\0MODALIAS=a\nb\0"s, "uevent MODALIAS holds a control character"},
      {"add@/x\0K\tY=v\0"s, "uevent entry 1 has a control character in its key"},
      {"libudev\0\xfe\xed\xca\xfe"s, "uevent from udev (libudev header), not from the kernel"},
      {std::string(9000, 'a'), "uevent of 9000 bytes (at most 8192)"},
  };
  for (const Case &c : cases) {
    auto ev = parse(c.msg);
    ASSERT_FALSE(ev) << c.error;
    EXPECT_EQ(ev.error().msg, c.error);
  }
}

TEST(UeventSource, UnixTestSocketDeliversInOrder) {
  std::string path = (std::filesystem::temp_directory_path() / ("kmx-uevent-" + std::to_string(getpid()))).string();
  auto src = UeventSource::open_unix(path, 1 << 20);
  ASSERT_TRUE(src) << src.error().msg;
  int out = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(out, 0);
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  for (int i = 0; i < 3; i++) {
    std::string m = "add@/devices/d" + std::to_string(i) + "\0MODALIAS=x\0"s;
    ASSERT_EQ(sendto(out, m.data(), m.size(), 0, reinterpret_cast<sockaddr *>(&addr), sizeof addr), static_cast<ssize_t>(m.size()));
  }
  std::string buf;
  for (int i = 0; i < 3; i++) {
    auto r = src->receive(buf);
    ASSERT_TRUE(r);
    ASSERT_EQ(*r, UeventSource::Recv::message);
    auto ev = parse(buf);
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->devpath, "/devices/d" + std::to_string(i));
  }
  auto r = src->receive(buf);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, UeventSource::Recv::empty);
  ::close(out);
  { UeventSource gone = std::move(*src); }
  EXPECT_FALSE(std::filesystem::exists(path));
}

// A source owns its socket and its path: moving another source onto it closes and unlinks what
// it held, and the moved-from source no longer owns anything.
TEST(UeventSource, MoveAssignmentReleasesWhatItHeld) {
  static_assert(!std::is_copy_constructible_v<UeventSource> && !std::is_copy_assignable_v<UeventSource>);
  test::TempDir dir;
  // Paths too long for std::string's inline buffer: a string destroyed and then assigned to
  // would free its heap buffer twice.
  const std::string a = dir.path + "/uevent-source-first-of-two", b = dir.path + "/uevent-source-second-of-two";
  auto first = UeventSource::open_unix(a, 1 << 16);
  ASSERT_TRUE(first) << first.error().msg;
  auto second = UeventSource::open_unix(b, 1 << 16);
  ASSERT_TRUE(second) << second.error().msg;
  const int old_fd = first->fd(), new_fd = second->fd();
  *first = std::move(*second);
  EXPECT_EQ(::fcntl(old_fd, F_GETFD), -1);
  EXPECT_FALSE(std::filesystem::exists(a));
  EXPECT_EQ(first->fd(), new_fd);
  EXPECT_EQ(second->fd(), -1);
  { UeventSource moved_from = std::move(*second); }
  EXPECT_TRUE(std::filesystem::exists(b));
}
