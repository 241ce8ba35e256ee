#include "persist/module-params.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "elf-builder.h"
#include "test-support.h"

using namespace kmx;
namespace fs = std::filesystem;

namespace {

using FakeSys = test::FakeSysfsTest;

PersistEntry entry(std::string key, std::string value, EntryKind kind) {
  // Constructed in place: assigning a short literal trips GCC 12's -Wrestrict false positive.
  return PersistEntry{std::string("m"), std::move(key), std::move(value), kind, 0};
}

}  // namespace

TEST_F(FakeSys, ReadsOnlyWritableParameters) {
  param("dummy", "numdummies", "1\n", 0444);
  param("dummy", "debug", "Y\n", 0644);
  param("dummy", "name", "two words\n", 0600);
  auto p = read_writable_params(sys(), "dummy");
  ASSERT_TRUE(p) << p.error().msg;
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ(p->at("debug"), "Y");
  EXPECT_EQ(p->at("name"), "two words");
}

TEST_F(FakeSys, ModuleWithoutParametersHasNone) {
  fs::create_directories(root_ / "sys/module/plain");
  auto p = read_writable_params(sys(), "plain");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->empty());
}

TEST_F(FakeSys, NotLoadedIsNotFound) {
  auto p = read_writable_params(sys(), "absent");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, Errc::not_found);
}

TEST_F(FakeSys, DashedNameFindsUnderscoredDirectory) {
  param("snd_hda_intel", "power_save", "1\n", 0644);
  auto p = read_writable_params(sys(), "snd-hda-intel");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->size(), 1u);
}

TEST_F(FakeSys, SaveThenApplyRoundTrip) {
  param("dummy", "debug", "7\n", 0644);
  param("dummy", "ro", "1\n", 0444);
  auto store = PersistStore::open((root_ / "persist.db").string(), OpenMode::read_write);
  ASSERT_TRUE(store);
  ASSERT_TRUE(save_module_params(*store, sys(), "dummy"));
  auto stored = store->list("dummy");
  ASSERT_TRUE(stored);
  auto words = params_to_apply(*stored, "", {});
  ASSERT_EQ(words.size(), 1u);
  EXPECT_EQ(words[0], "debug=7");
  EXPECT_TRUE(params_to_apply(*stored, "debug=1", {}).empty());
}

TEST(OptionNames, KernelSyntax) {
  auto n = option_names("  a=1 b-c=\"x y\" flag \"q=z w\" e=\"\"  ");
  std::vector<std::string> want = {"a", "b_c", "flag", "q", "e"};
  EXPECT_EQ(n, want);
  EXPECT_TRUE(option_names("").empty());
}

TEST(ParamsToApply, LoadOptionsWinAndUserKeysNeedADeclaredParameter) {
  std::vector<PersistEntry> stored = {
      entry("debug", "3", EntryKind::param),
      entry("power-save", "1", EntryKind::param),
      entry("label", "two words", EntryKind::param),
      entry("note", "not a parameter", EntryKind::user),
      entry("level", "4", EntryKind::user),
  };
  auto words = params_to_apply(stored, "power_save=0", {"debug", "level", "label", "power_save"});
  std::vector<std::string> want = {"debug=3", "label=\"two words\"", "level=4"};
  EXPECT_EQ(words, want);
  // Without the module's declared parameters, only saved parameters are applied.
  words = params_to_apply(stored, "", {});
  want = {"debug=3", "power-save=1", "label=\"two words\""};
  EXPECT_EQ(words, want);
}

// The rule every loader shares (kmx modprobe, the daemon, kmx persist apply): 'user' entries
// reach a load when the module file declares them, all of them when the file is unknown.
TEST_F(FakeSys, StoredToApplyReadsTheModulesDeclaredParameters) {
  test::ElfBuilder b;
  b.add(".modinfo", test::nul_strings({"parmtype=numdummies:int", "parm=numdummies:Number of dummy devices", "license=GPL", "name=dummy"}));
  test::Image img = b.build();
  test::TempFile ko(img.bytes);
  ASSERT_TRUE(ko.ok());
  EXPECT_EQ(declared_params(ko.path()), std::vector<std::string>{"numdummies"});
  auto store = PersistStore::open((root_ / "persist.db").string(), OpenMode::read_write);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->set("dummy", {{"numdummies", "16"}, {"note", "not a parameter"}}));
  using Words = std::vector<std::string>;
  auto words = stored_to_apply(*store, "dummy", ko.path(), "");
  ASSERT_TRUE(words) << words.error().msg;
  EXPECT_EQ(*words, Words{"numdummies=16"});
  words = stored_to_apply(*store, "dummy", ko.path(), "numdummies=2");
  ASSERT_TRUE(words);
  EXPECT_EQ(*words, Words{});
  words = stored_to_apply(*store, "dummy", std::nullopt, "x=1");
  ASSERT_TRUE(words);
  EXPECT_EQ(*words, (Words{"note=\"not a parameter\"", "numdummies=16"}));
  words = stored_to_apply(*store, "other", ko.path(), "y=2");
  ASSERT_TRUE(words);
  EXPECT_EQ(*words, Words{});
}
