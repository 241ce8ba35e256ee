#include "daemon/pending-releases.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "test-support.h"

using namespace kmx;
namespace fs = std::filesystem;

namespace {

struct Store {
  test::TempDir tmp{"kmx-pending"};
  fs::path dir = tmp.path;
  PersistStore open() {
    auto s = PersistStore::open((dir / "p.db").string(), OpenMode::read_write);
    EXPECT_TRUE(s) << s.error().msg;
    return std::move(*s);
  }
};

}  // namespace

TEST(PendingReleases, SurviveReopenAndStayInTheirBoot) {
  Store st;
  {
    PersistStore s = st.open();
    auto empty = load_pending_releases(s, "boot-a");  // creates the table
    ASSERT_TRUE(empty) << empty.error().msg;
    EXPECT_TRUE(empty->empty());
    ASSERT_TRUE(save_pending_releases(s, "boot-a", {{"dummy", 100}, {"nls_utf8", 120}}));
  }
  PersistStore s = st.open();
  auto got = load_pending_releases(s, "boot-a");
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].module, "dummy");
  EXPECT_EQ((*got)[0].requested, 100);
  EXPECT_EQ((*got)[1].module, "nls_utf8");
  // Another boot sees none of them, and its save replaces the set.
  auto other = load_pending_releases(s, "boot-b");
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->empty());
  ASSERT_TRUE(save_pending_releases(s, "boot-b", {{"tun", 5}}));
  EXPECT_TRUE(load_pending_releases(s, "boot-a")->empty());
  ASSERT_EQ(load_pending_releases(s, "boot-b")->size(), 1u);
  ASSERT_TRUE(save_pending_releases(s, "boot-b", {}));
  EXPECT_TRUE(load_pending_releases(s, "boot-b")->empty());
}

TEST(PendingReleases, RowsWithBadModuleNamesAreSkipped) {
  Store st;
  PersistStore s = st.open();
  ASSERT_TRUE(load_pending_releases(s, "b"));
  ASSERT_EQ(sqlite3_exec(s.db(), "INSERT INTO pending_release VALUES('a/b', 1, 'b'), ('ok_mod', 2, 'b')", nullptr, nullptr, nullptr),
            SQLITE_OK);
  auto got = load_pending_releases(s, "b");
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].module, "ok_mod");
}
