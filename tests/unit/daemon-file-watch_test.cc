// FileWatch (daemon/file-watch.h): events for files written, renamed and removed in watched
// directories, a directory that appears later, and silence when nothing changes.
#include "daemon/file-watch.h"

#include <poll.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "test-support.h"

using namespace kmx;
namespace fs = std::filesystem;

namespace {

// Waits up to 2 s for the watch to have something to read, then drains it.
bool changed(FileWatch &w) {
  struct pollfd p = {w.fd(), POLLIN, 0};
  if (::poll(&p, 1, 2000) <= 0) return false;
  return w.drain();
}

// No event that counts within 100 ms (uncounted ones may wake the descriptor).
bool quiet(FileWatch &w) {
  struct pollfd p = {w.fd(), POLLIN, 0};
  return ::poll(&p, 1, 100) == 0 || !w.drain();
}

}  // namespace

TEST(FileWatch, SeesWritesRenamesAndRemovalsInWatchedDirectories) {
  test::TempDir t("kmx-watch");
  fs::create_directories(t.path + "/mods");
  test::write_file(t.path + "/mods/modules.dep.bin", "old");
  auto w = FileWatch::open({t.path + "/mods", t.path + "/mods/modules.dep.bin"});
  ASSERT_TRUE(w) << w.error().msg;
  EXPECT_EQ(w->watched(), std::vector<std::string>{t.path + "/mods"});
  EXPECT_TRUE(quiet(*w));
  // depmod's way: a temporary file renamed over the index
  test::write_file(t.path + "/mods/.tmp", "new");
  ASSERT_TRUE(changed(*w));
  fs::rename(t.path + "/mods/.tmp", t.path + "/mods/modules.dep.bin");
  EXPECT_TRUE(changed(*w));
  EXPECT_TRUE(quiet(*w));
  fs::remove(t.path + "/mods/modules.dep.bin");
  EXPECT_TRUE(changed(*w));
  // reading a file is not a change
  test::write_file(t.path + "/mods/x", "x");
  ASSERT_TRUE(changed(*w));
  (void)test::slurp(t.path + "/mods/x");
  EXPECT_TRUE(quiet(*w));
}

TEST(FileWatch, FollowsADirectoryCreatedLater) {
  test::TempDir t("kmx-watch");
  std::string conf = t.path + "/etc/modprobe.d";
  fs::create_directories(t.path + "/etc");
  auto w = FileWatch::open({conf});
  ASSERT_TRUE(w) << w.error().msg;
  EXPECT_EQ(w->watched(), std::vector<std::string>{t.path + "/etc"});
  fs::create_directories(conf);
  ASSERT_TRUE(changed(*w));
  EXPECT_EQ(w->watched(), std::vector<std::string>{conf});
  // a file written in the new directory is seen: the watch moved into it
  test::write_file(conf + "/blacklist.conf", "blacklist e1000\n");
  EXPECT_TRUE(changed(*w));
  // and when it goes away, its parent is watched again
  fs::remove_all(conf);
  ASSERT_TRUE(changed(*w));
  EXPECT_EQ(w->watched(), std::vector<std::string>{t.path + "/etc"});
  EXPECT_TRUE(quiet(*w));
  // the rest of the parent is not watched: another file there is no change
  test::write_file(t.path + "/etc/hostname", "lab\n");
  EXPECT_TRUE(quiet(*w));
}

TEST(FileWatch, AFileCountsOnlyItsOwnEvents) {
  test::TempDir t("kmx-watch");
  test::write_file(t.path + "/target.conf", "options a b=1\n");
  auto w = FileWatch::open({t.path + "/target.conf"});
  ASSERT_TRUE(w) << w.error().msg;
  EXPECT_EQ(w->watched(), std::vector<std::string>{t.path});
  test::write_file(t.path + "/other", "x");
  EXPECT_TRUE(quiet(*w));
  test::write_file(t.path + "/target.conf", "options a b=2\n");
  EXPECT_TRUE(changed(*w));
}
