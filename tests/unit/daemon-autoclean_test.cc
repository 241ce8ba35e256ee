#include "daemon/autoclean.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "test-support.h"

using namespace kmx;
namespace fs = std::filesystem;

namespace {

OnDemandRecord rec(std::string m, i64 loaded = 100) {
  OnDemandRecord r;
  r.module = std::move(m);
  r.alias = "alias-" + r.module;
  r.source = "kernel";
  r.loaded = loaded;
  return r;
}

ModuleUse use(std::string m, i64 refcnt = 0, std::vector<std::string> holders = {}, bool live = true) {
  return ModuleUse{std::move(m), refcnt, std::move(holders), live};
}

using Names = std::vector<std::string>;

}  // namespace

TEST(Autoclean, ReleasesOnlyAfterAWholeIdlePeriod) {
  Autoclean a(AutocleanConfig{60, {}, {}});
  std::vector<OnDemandRecord> r = {rec("dummy")};
  EXPECT_EQ(a.observe(1000, r, {use("dummy")}), Names{});
  EXPECT_EQ(a.observe(1059, r, {use("dummy")}), Names{});
  EXPECT_EQ(a.idle_for("dummy", 1059), 59);
  EXPECT_EQ(a.observe(1060, r, {use("dummy")}), Names{"dummy"});
}

TEST(Autoclean, UseRestartsTheClock) {
  Autoclean a(AutocleanConfig{60, {}, {}});
  std::vector<OnDemandRecord> r = {rec("dummy")};
  EXPECT_EQ(a.observe(1000, r, {use("dummy")}), Names{});
  EXPECT_EQ(a.observe(1030, r, {use("dummy", 1)}), Names{});  // refcount
  EXPECT_EQ(a.observe(1040, r, {use("dummy")}), Names{});
  EXPECT_EQ(a.observe(1090, r, {use("dummy", 0, {"bridge"})}), Names{});  // holder
  EXPECT_EQ(a.observe(1100, r, {use("dummy")}), Names{});
  EXPECT_EQ(a.observe(1150, r, {use("dummy", 0, {}, false)}), Names{});  // not Live
  EXPECT_EQ(a.observe(1151, r, {use("dummy")}), Names{});
  EXPECT_EQ(a.observe(1211, r, {use("dummy")}), Names{"dummy"});
}

TEST(Autoclean, ExplicitLoadsKeepListAndNeverAreLeftAlone) {
  AutocleanConfig cfg{10, {"kept"}, {{"never", 0}, {"quick", 2}}};
  Autoclean a(cfg);
  std::vector<OnDemandRecord> r = {rec("kept"), rec("never"), rec("quick"), rec("ondemand")};
  std::vector<ModuleUse> u = {use("kept"), use("never"), use("quick"), use("ondemand"), use("explicit")};
  EXPECT_EQ(a.observe(0, r, u), Names{});
  EXPECT_EQ(a.observe(2, r, u), Names{"quick"});
  EXPECT_EQ(a.observe(10, r, u), (Names{"ondemand", "quick"}));
  EXPECT_EQ(a.observe(10000, r, u), (Names{"ondemand", "quick"}));  // "explicit" has no record
}

TEST(Autoclean, NotLoadedIsNotReleased) {
  Autoclean a(AutocleanConfig{0, {}, {}});
  EXPECT_EQ(a.observe(0, {rec("gone")}, {use("other")}), Names{});
}

TEST(Autoclean, ReleaseWhenIdleAppliesToExplicitLoadsAndCancelStopsIt) {
  Autoclean a(AutocleanConfig{5, {"kept"}, {}});
  a.release_when_idle("explicit", 0);
  a.release_when_idle("kept", 0);
  std::vector<ModuleUse> u = {use("explicit"), use("kept")};
  EXPECT_EQ(a.observe(0, {}, u), Names{});
  ASSERT_EQ(a.pending().size(), 2u);
  EXPECT_TRUE(a.cancel("kept"));
  EXPECT_EQ(a.observe(5, {}, u), Names{"explicit"});
  a.released("explicit");
  EXPECT_TRUE(a.pending().empty());
}

TEST(Autoclean, CancelHoldsUntilTheNextOnDemandLoad) {
  Autoclean a(AutocleanConfig{5, {}, {}});
  std::vector<ModuleUse> u = {use("dummy")};
  EXPECT_EQ(a.observe(0, {rec("dummy", 100)}, u), Names{});
  EXPECT_TRUE(a.cancel("dummy"));
  EXPECT_EQ(a.observe(50, {rec("dummy", 100)}, u), Names{});
  EXPECT_EQ(a.observe(60, {rec("dummy", 100)}, u), Names{});
  // Unloaded and loaded on demand again: autoclean applies to the new load.
  EXPECT_EQ(a.observe(70, {rec("dummy", 200)}, u), Names{});
  EXPECT_EQ(a.observe(75, {rec("dummy", 200)}, u), Names{"dummy"});
}

TEST(Autoclean, ReadsUseFromFakeProcAndSys) {
  test::TempDir tmp("kmx-autoclean");
  fs::path root = tmp.path;
  fs::create_directories(root / "proc");
  std::ofstream(root / "proc/modules") << "bridge 200000 0 - Live 0x0\n"
                                          "stp 16384 1 bridge, Live 0x0\n"
                                          "dummy 16384 0 - Live 0x0\n"
                                          "going 16384 0 - Unloading 0x0\n";
  fs::create_directories(root / "sys/module/dummy/holders");
  std::ofstream(root / "sys/module/dummy/refcnt") << "2\n";
  fs::create_directories(root / "sys/module/bridge/holders/br_netfilter");
  KernelRoots kr;
  kr.proc = (root / "proc").string();
  kr.sys = (root / "sys").string();
  auto uses = read_module_uses(kr);
  ASSERT_TRUE(uses) << uses.error().msg;
  ASSERT_EQ(uses->size(), 4u);
  EXPECT_EQ((*uses)[0].holders, Names{"br_netfilter"});
  EXPECT_EQ((*uses)[1].holders, Names{"bridge"});
  EXPECT_EQ((*uses)[2].refcnt, 2);  // sysfs wins
  EXPECT_FALSE((*uses)[3].live);
  for (const ModuleUse &u : *uses) EXPECT_TRUE(module_in_use(u)) << u.name;
}

TEST(AutocleanNetLinks, ModuleNameOrRtnlAliasKindCounts) {
  std::vector<OnDemandRecord> recs(2);
  recs[0].module = "8021q";
  recs[0].alias = "rtnl-link-vlan";
  recs[1].module = "dummy";
  recs[1].alias = "rtnl-link-dummy";
  std::vector<std::string> kinds{"vlan", "dummy", "vlan", "bridge"};
  EXPECT_EQ(count_net_links("8021q", recs, kinds), 2);
  EXPECT_EQ(count_net_links("dummy", recs, kinds), 1);
  EXPECT_EQ(count_net_links("bridge", {}, kinds), 1);  // kind named like the module
  EXPECT_EQ(count_net_links("tun", recs, kinds), 0);
  ModuleUse u;
  u.name = "dummy";
  EXPECT_FALSE(module_in_use(u));
  u.net_links = 1;
  EXPECT_TRUE(module_in_use(u));
}
