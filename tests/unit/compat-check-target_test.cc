// Unit tests for kmx check's targets (compat/check-target.cc): which specs the options name,
// the release of a --history headers path, and what a loaded module adds to the target.
#include <gtest/gtest.h>

#include <filesystem>

#include "compat/check-target.h"
#include "test-support.h"

using namespace kmx;
using test::TempDir;

namespace {

TargetRequest request(std::vector<std::string> targets, std::string basedir, std::string release) {
  TargetRequest r;
  r.targets = std::move(targets);
  r.basedir = std::move(basedir);
  r.release = std::move(release);
  r.running_release = "6.12.1-test";
  return r;
}

}  // namespace

TEST(CheckTarget, SpecsFromTheOptions) {
  TempDir t;
  std::filesystem::create_directories(t.path + "/lib/modules/6.1.0-9-amd64");
  struct Case {
    TargetRequest req;
    std::string spec, release;
  } cases[] = {
      {request({"/a", "/b/Module.symvers"}, "", ""), "/a,/b/Module.symvers", ""},
      {request({"/a"}, "", "6.1.0-9-amd64"), "/a", "6.1.0-9-amd64"},           // -k picks under the -t root
      {request({}, t.path, ""), t.path, ""},                                    // the root's only release
      {request({}, t.path, "6.1.0-9-amd64"), t.path, "6.1.0-9-amd64"},          // ROOT/lib/modules/REL exists
      {request({}, t.path, "7.0"), t.path + "/lib/modules/7.0", "7.0"},         // else the module tree itself
      {request({}, "", "0.0.0-kmx-test"), "/lib/modules/0.0.0-kmx-test", "0.0.0-kmx-test"},  // no /lib/modules/REL
  };
  for (const auto &c : cases) {
    CheckTargets got = check_target_specs(c.req);
    ASSERT_EQ(got.specs.size(), 1u);
    EXPECT_EQ(got.specs[0], c.spec);
    EXPECT_EQ(got.release, c.release) << c.spec;
    EXPECT_FALSE(got.running);
  }
  // Extra files join the spec, or every --kernels spec.
  TargetRequest extra = request({"/a"}, "", "");
  extra.extra = {"/s/Module.symvers", "/s/config"};
  EXPECT_EQ(check_target_specs(extra).specs, std::vector<std::string>{"/a,/s/Module.symvers,/s/config"});
  extra.kernels = {"/k1", "/k2"};
  EXPECT_EQ(check_target_specs(extra).specs,
            (std::vector<std::string>{"/k1,/s/Module.symvers,/s/config", "/k2,/s/Module.symvers,/s/config"}));
  // No option: the running kernel's module tree under the release it was given.
  CheckTargets running = check_target_specs(request({}, "", ""));
  EXPECT_TRUE(running.running);
  EXPECT_EQ(running.release, "6.12.1-test");
  ASSERT_EQ(running.specs.size(), 1u);
  EXPECT_TRUE(running.specs[0].starts_with("/lib/modules/6.12.1-test")) << running.specs[0];
}

TEST(CheckTarget, LoadErrorsNameTheSpec) {
  TargetRequest r = request({"/nonexistent/kmx-target"}, "", "");
  auto t = load_check_targets(r);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().msg.find("/nonexistent/kmx-target"), std::string::npos) << t.error().msg;
}

TEST(CheckTarget, ReleaseFromHeadersPath) {
  EXPECT_EQ(release_from_headers_path("/usr/src/linux-headers-6.1.0-9-amd64/Module.symvers"), "6.1.0-9-amd64");
  EXPECT_EQ(release_from_headers_path("x/linux-headers-6.12.1/./scripts/../Module.symvers"), "6.12.1");
  EXPECT_EQ(release_from_headers_path("/usr/src/linux-headers-6.1/linux-headers-6.1.0-9-amd64/Module.symvers"),
            "6.1.0-9-amd64");  // the nearest
  EXPECT_EQ(release_from_headers_path("/srv/Module.symvers"), "");
  EXPECT_EQ(release_from_headers_path(""), "");
}

TEST(CheckTarget, HistoryProfileTakesItsReleaseFromTheHeadersDirectory) {
  TempDir t;
  std::string dir = t.path + "/usr/src/linux-headers-6.1.0-9-amd64";
  test::write_file(dir + "/Module.symvers", "0x12345678\tfollow_pte\tvmlinux\tEXPORT_SYMBOL_GPL\t\n");
  auto p = load_history_profile(dir + "/Module.symvers", "");
  ASSERT_TRUE(p) << p.error().msg;
  EXPECT_EQ(p->release, "6.1.0-9-amd64");
  EXPECT_EQ(p->major, 6);
  EXPECT_EQ(p->minor, 1);
  EXPECT_TRUE(p->exports.contains("follow_pte"));
  test::write_file(t.path + "/other/Module.symvers", "0x12345678\tfollow_pte\tvmlinux\tEXPORT_SYMBOL_GPL\t\n");
  auto bare = load_history_profile(t.path + "/other/Module.symvers", "");
  ASSERT_TRUE(bare) << bare.error().msg;
  EXPECT_EQ(bare->major, 0);
}

TEST(CheckTarget, LoadedModuleAddsItsNameLicenceAndExports) {
  std::vector<KernelProfile> profiles(2);
  profiles[0].exports["shared"] = KernelExport{"vmlinux", ExportLicense::gpl, "", 0x1};
  ModuleInfo m;
  m.modinfo = {{"license", "Proprietary"}, {"name", "out-of-tree"}};
  m.exports = {{"shared", ExportLicense::plain, "", 0x2}, {"own_helper", ExportLicense::gpl, "NS", 0x3}};
  TargetState s;
  add_loaded_module(m, "/x/out-of-tree.ko", s, profiles);
  EXPECT_TRUE(s.loaded.contains("out_of_tree"));
  EXPECT_TRUE(s.proprietary.contains("out_of_tree"));
  for (const auto &p : profiles) {
    ASSERT_TRUE(p.exports.contains("own_helper"));
    EXPECT_EQ(p.exports.at("own_helper").owner, "out_of_tree");
    EXPECT_EQ(p.exports.at("own_helper").ns, "NS");
    EXPECT_EQ(p.exports.at("own_helper").crc, 0x3u);
  }
  // The kernel's own export of a name wins.
  EXPECT_EQ(profiles[0].exports.at("shared").owner, "vmlinux");
  EXPECT_EQ(profiles[1].exports.at("shared").owner, "out_of_tree");
  // A GPL module without a name in .modinfo: named from its path, not proprietary.
  ModuleInfo gpl;
  gpl.modinfo = {{"license", "GPL"}};
  add_loaded_module(gpl, "/x/dm-foo.ko.xz", s, profiles);
  EXPECT_TRUE(s.loaded.contains("dm_foo"));
  EXPECT_FALSE(s.proprietary.contains("dm_foo"));
}

TEST(CheckTarget, LoadedListAddsNamesAndProprietaryTaint) {
  TargetState s;
  s.loaded.insert("earlier");
  // A malformed line: the error names the file and the line; nothing of the list is added.
  auto bad = add_loaded_list("ok 1 0 - Live 0x0\nnvidia 56falsely 0 - Live 0x0 (POE)\n", "/tmp/mods", s);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().msg, "/tmp/mods: /proc/modules:2: size '56falsely' is not a number");
  EXPECT_EQ(s.loaded, std::set<std::string>{"earlier"});

  ASSERT_TRUE(add_loaded_list("nvidia 56 0 - Live 0x0 (POE)\n"
                              "kmx_lab_a 16384 1 kmx_lab_b, Live 0x0 (OE)\n"
                              "ext4 1 2 - Live 0x0\n",
                              "/proc/modules", s));
  EXPECT_EQ(s.loaded, (std::set<std::string>{"earlier", "ext4", "kmx_lab_a", "nvidia"}));
  EXPECT_EQ(s.proprietary, std::set<std::string>{"nvidia"});
}
