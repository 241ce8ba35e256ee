// Unit tests for parameter baselines (persist/param-baseline.cc) and the save of changed
// parameters (PersistStore::update_params), against a fake sysfs root.
#include "persist/param-baseline.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "persist/module-params.h"
#include "persist/persist-store.h"
#include "test-support.h"

using namespace kmx;
namespace fs = std::filesystem;

namespace {

class Baseline : public test::FakeSysfsTest {
protected:
  // What the tools do before an unload.
  std::map<std::string, std::string> to_save(const std::string &mod) {
    auto cur = read_writable_params(sys(), mod);
    EXPECT_TRUE(cur) << cur.error().msg;
    auto b = read_baseline(dir(), sys(), mod);
    EXPECT_TRUE(b) << b.error().msg;
    return changed_params(*b, *cur);
  }
  std::string dir() const { return (root_ / "run/kmx/baseline").string(); }
};

}  // namespace

TEST_F(Baseline, OnlyChangedParametersAreSaved) {
  param("kmx_lab_a", "level", "1\n");
  param("kmx_lab_a", "tag", "none\n");
  param("kmx_lab_a", "answer", "42\n", 0444);
  ASSERT_TRUE(write_baseline(dir(), sys(), "kmx_lab_a"));
  struct stat st;
  ASSERT_EQ(::stat(dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(to_save("kmx_lab_a").empty());
  param("kmx_lab_a", "level", "5\n");
  EXPECT_EQ(to_save("kmx_lab_a"), (std::map<std::string, std::string>{{"level", "5"}}));
}

TEST_F(Baseline, NoBaselineSavesEveryWritableParameter) {
  param("dummy", "a", "1\n");
  param("dummy", "b", "x y\n", 0600);
  param("dummy", "ro", "2\n", 0444);
  EXPECT_EQ(to_save("dummy"), (std::map<std::string, std::string>{{"a", "1"}, {"b", "x y"}}));
}

TEST_F(Baseline, BaselineOfAnotherLoadIsIgnored) {
  param("m", "a", "1\n");
  ASSERT_TRUE(write_baseline(dir(), sys(), "m"));
  // Unloaded and loaded again by another tool: a new /sys/module/m directory (new inode).
  fs::rename(root_ / "sys/module/m", root_ / "old-m");
  param("m", "a", "1\n");
  auto b = read_baseline(dir(), sys(), "m");
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->has_value());
  EXPECT_EQ(to_save("m"), (std::map<std::string, std::string>{{"a", "1"}}));
}

TEST_F(Baseline, ModuleWithoutWritableParametersGetsNoFile) {
  param("plain", "ro", "1\n", 0444);
  ASSERT_TRUE(write_baseline(dir(), sys(), "plain"));
  EXPECT_FALSE(fs::exists(dir()));
}

TEST_F(Baseline, DashedNameAndRemove) {
  param("snd_x", "p", "1\n");
  ASSERT_TRUE(write_baseline(dir(), sys(), "snd-x"));
  EXPECT_TRUE(fs::exists(dir() + "/snd_x.json"));
  auto b = read_baseline(dir(), sys(), "snd-x");
  ASSERT_TRUE(b && b->has_value());
  EXPECT_EQ((*b)->params.at("p"), "1");
  ASSERT_TRUE(remove_baseline(dir(), "snd-x"));
  EXPECT_FALSE(fs::exists(dir() + "/snd_x.json"));
  EXPECT_TRUE(remove_baseline(dir(), "snd-x"));  // already gone: fine
}

TEST_F(Baseline, CorruptFileIsAnErrorNamingIt) {
  param("m", "a", "1\n");
  fs::create_directories(dir());
  for (const char *text : {"not json", "[]", "{\"version\":2,\"sysfs_ino\":1,\"params\":{}}",
                           "{\"version\":1,\"params\":{}}", "{\"version\":1,\"sysfs_ino\":1,\"params\":{\"a\":1}}"}) {
    std::ofstream(dir() + "/m.json") << text;
    auto b = read_baseline(dir(), sys(), "m");
    ASSERT_FALSE(b) << text;
    EXPECT_EQ(b.error().code, Errc::invalid_format);
    EXPECT_NE(b.error().msg.find(dir() + "/m.json"), std::string::npos) << b.error().msg;
  }
}

TEST_F(Baseline, HostileNamesAreRefused) {
  EXPECT_FALSE(write_baseline(dir(), sys(), "../../etc/passwd"));
  EXPECT_FALSE(read_baseline(dir(), sys(), "a/b"));
  EXPECT_FALSE(remove_baseline(dir(), ""));
}

TEST_F(Baseline, UpdateParamsKeepsUnchangedStoredValues) {
  auto store = PersistStore::open((root_ / "p.db").string(), OpenMode::read_write);
  ASSERT_TRUE(store) << store.error().msg;
  ASSERT_TRUE(store->update_params("m", {{"a", "1"}, {"b", "2"}}));
  ASSERT_TRUE(store->set("m", {{"note", "hand-made"}}));
  // The next load applied a=1 b=2; only b changed at runtime.
  ASSERT_TRUE(store->update_params("m", {{"b", "3"}}));
  ASSERT_TRUE(store->update_params("m", {}));  // nothing to save: no write
  auto l = store->list("m");
  ASSERT_TRUE(l);
  ASSERT_EQ(l->size(), 3u);
  EXPECT_EQ((*l)[0].key, "a");
  EXPECT_EQ((*l)[0].value, "1");
  EXPECT_EQ((*l)[1].key, "b");
  EXPECT_EQ((*l)[1].value, "3");
  EXPECT_EQ((*l)[2].kind, EntryKind::user);
  auto problems = store->check();
  ASSERT_TRUE(problems);
  EXPECT_TRUE(problems->empty()) << (*problems)[0];
  EXPECT_FALSE(store->update_params("m", {{"bad key", "1"}}));
  EXPECT_FALSE(store->update_params("m", {{"k", std::string("a\0b", 3)}}));
}
