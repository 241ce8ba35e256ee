// ProbeContext (lookup/probe.h): libkmod's lookup order, module identity (name vs
// name\alias keys), dependency order, probe lists with softdeps, options and commands.
// Fixture indexes are built with IndexBuilder in a temporary module directory.
#include "lookup/probe.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test-support.h"

using namespace kmx;
namespace fs = std::filesystem;

namespace {

class Probe : public ::testing::Test {
protected:
  void SetUp() override {
    // modules.dep: a needs b and c (c loads first: kmod reverses the line), b needs c.
    write_index("modules.dep.bin", {{"a", "kernel/a.ko: kernel/b.ko kernel/c.ko"},
                                    {"b", "kernel/b.ko: kernel/c.ko"},
                                    {"c", "kernel/c.ko:"},
                                    {"d", "kernel/d.ko:"}});
    write_index("modules.alias.bin", {{"pci:v1*", "a"}, {"pci:v12*", "d"}, {"dup", "b"}});
    write_index("modules.symbols.bin", {{"symbol:c_fn", "c"}});
    write_index("modules.builtin.bin", {{"bi", ""}});
    write_index("modules.builtin.alias.bin", {{"bialias", "bi2"}});
  }

  void write_index(const std::string &name, const std::vector<std::pair<std::string, std::string>> &kv) {
    ASSERT_TRUE(test::write_index((dir_ / name).string(), kv)) << name;
  }
  ModprobeConfig config(const std::string &text) {
    ModprobeConfig cfg;
    Diag diag;
    parse_modprobe_config_text(cfg, text, "t.conf", diag);
    return cfg;
  }
  static std::vector<std::string> names(const std::vector<ProbeModule *> &v) {
    std::vector<std::string> out;
    for (auto *m : v) out.push_back(m->name);
    return out;
  }

  test::TempDir tmp_{"kmx-probe"};
  fs::path dir_{tmp_.path};
};

}  // namespace

TEST_F(Probe, LookupOrderAndIdentity) {
  ModprobeConfig cfg = config("alias myalias d\ninstall inst echo\n");
  ProbeContext ctx(dir_, cfg);
  // config alias first: a module keyed by name\pattern, with the pattern as its alias
  auto v = ctx.lookup("myalias");
  ASSERT_TRUE(v);
  ASSERT_EQ(names(*v), std::vector<std::string>{"d"});
  EXPECT_EQ((*v)[0]->key, "d\\myalias");
  EXPECT_EQ(*(*v)[0]->alias, "myalias");
  // a name: the plain object, path from modules.dep
  auto a = ctx.lookup("a");
  ASSERT_TRUE(a);
  EXPECT_EQ((*a)[0]->key, "a");
  EXPECT_FALSE((*a)[0]->alias);
  EXPECT_EQ(*ctx.path((*a)[0]), (dir_ / "kernel/a.ko").string());
  // index aliases: every matching pattern's value (search_wild order), keyed name\alias
  auto p = ctx.lookup("pci:v123");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->size(), 2u);
  for (auto *m : *p) EXPECT_EQ(*m->alias, "pci:v123");
  // symbols only with the prefix, commands by exact name, builtins last
  EXPECT_EQ(names(*ctx.lookup("symbol:c_fn")), std::vector<std::string>{"c"});
  auto inst = ctx.lookup("inst");
  ASSERT_EQ(inst->size(), 1u);
  EXPECT_EQ(*ctx.install_command((*inst)[0]), "echo");
  auto bi = ctx.lookup("bi");
  ASSERT_EQ(bi->size(), 1u);
  EXPECT_TRUE(ctx.is_builtin((*bi)[0]));
  auto bia = ctx.lookup("bialias");
  ASSERT_EQ(names(*bia), std::vector<std::string>{"bi2"});
  EXPECT_TRUE(ctx.is_builtin((*bia)[0]));
  EXPECT_TRUE(ctx.lookup("nothing")->empty());
  EXPECT_FALSE(ctx.lookup("bad]alias"));  // kmod: -EINVAL
  // '-' becomes '_' outside brackets before any lookup
  ModprobeConfig cfg2 = config("alias my_alias d\n");
  ProbeContext ctx2(dir_, cfg2);
  EXPECT_EQ(names(*ctx2.lookup("my-alias")), std::vector<std::string>{"d"});
}

TEST_F(Probe, DependenciesInLoadOrder) {
  ModprobeConfig cfg;
  ProbeContext ctx(dir_, cfg);
  ProbeModule *a = ctx.from_name("a");
  EXPECT_EQ(names(ctx.dependencies(a)), (std::vector<std::string>{"c", "b"}));
  EXPECT_EQ(names(ctx.probe_list(a, false)), (std::vector<std::string>{"c", "b", "a"}));
}

TEST_F(Probe, SoftdepsAndLoops) {
  ModprobeConfig cfg = config("softdep a pre: d post: myalias\nalias myalias b\nsoftdep d pre: a\n");
  ProbeContext ctx(dir_, cfg);
  ProbeModule *a = ctx.from_name("a");
  // deps of a (c, b), then a's pre (d, whose own pre a is already visited), a, a's post: the
  // alias object b\myalias is a different module from b, so b appears twice, as in kmod.
  auto list = ctx.probe_list(a, false);
  EXPECT_EQ(names(list), (std::vector<std::string>{"c", "b", "d", "a", "c", "b"}));
  EXPECT_TRUE(a->ignorecmd);   // it has softdeps
  EXPECT_TRUE(a->required);
  EXPECT_FALSE(ctx.from_name("d")->required);
  // ignorecmd: a alone, without its softdeps
  EXPECT_EQ(names(ctx.probe_list(a, true)), (std::vector<std::string>{"c", "b", "a"}));
}

TEST_F(Probe, OptionsCommandsBlacklistForbid) {
  ModprobeConfig cfg = config(
      "options d x=1\noptions myalias y=2\noptions d\talso=3\nalias myalias d\n"
      "install d* echo first\ninstall d echo second\nremove d echo rm\nblacklist d\nforbid c\n");
  ProbeContext ctx(dir_, cfg);
  ProbeModule *plain = ctx.from_name("d");
  EXPECT_EQ(ctx.options(plain), "x=1 also=3");
  ProbeModule *aliased = (*ctx.lookup("myalias"))[0];
  EXPECT_EQ(ctx.options(aliased), "x=1 y=2 also=3");
  EXPECT_EQ(*ctx.install_command(plain), "echo first");  // first fnmatch() match
  EXPECT_EQ(*ctx.remove_command(plain), "echo rm");
  EXPECT_TRUE(ctx.is_blacklisted(plain));
  EXPECT_TRUE(ctx.is_forbidden(ctx.from_name("c")));
  EXPECT_FALSE(ctx.is_forbidden(plain));
}

TEST_F(Probe, CorruptAndMissingIndexes) {
  {
    std::ofstream(dir_ / "modules.alias.bin") << "garbage, not an index";
    std::ofstream(dir_ / "modules.symbols.bin");  // empty: silent, as kmod's depmod can write it
    fs::remove(dir_ / "modules.dep.bin");
  }
  ModprobeConfig cfg;
  std::vector<std::string> warnings;
  ProbeContext ctx(dir_, cfg, [&](const std::string &w) { warnings.push_back(w); });
  EXPECT_TRUE(ctx.lookup("pci:v1")->empty());
  EXPECT_TRUE(ctx.lookup("symbol:c_fn")->empty());
  EXPECT_TRUE(ctx.lookup("a")->empty());  // no modules.dep.bin: not found, as in libkmod
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("modules.alias.bin"), std::string::npos);
}
