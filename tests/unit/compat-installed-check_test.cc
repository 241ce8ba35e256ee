// Unit tests for kmx check --installed's discovery (compat/installed-check.cc): what is missing
// after the reboot and why, on roots made here.
#include <gtest/gtest.h>

#include <filesystem>

#include "compat/installed-check.h"
#include "test-support.h"

using namespace kmx;
using test::TempDir;
using test::write_file;

namespace {

namespace fs = std::filesystem;

const MissingModule *missing(const InstalledPlan &p, const std::string &rel, const std::string &name) {
  for (const auto &k : p.kernels)
    if (k.release == rel)
      for (const auto &m : k.missing)
        if (m.name == name) return &m;
  return nullptr;
}

// A root with kernels OLD and NEW (empty trees) and DKMS package vpoll/0.1 whose source is an
// absolute link to /usr/src/vpoll-0.1, as DKMS makes it.
struct DkmsRoot {
  TempDir tmp;
  std::string r = tmp.path;
  DkmsRoot() {
    fs::create_directories(r + "/lib/modules/6.1.0-old/kernel");
    fs::create_directories(r + "/lib/modules/6.12.0-new/kernel");
    fs::create_directories(r + "/var/lib/dkms/vpoll/0.1/build");
    fs::create_directories(r + "/usr/src/vpoll-0.1");
    write_file(r + "/usr/src/vpoll-0.1/dkms.conf", "PACKAGE_NAME=vpoll\nBUILT_MODULE_NAME[0]=\"vpoll_test\"\n");
    fs::create_symlink("/usr/src/vpoll-0.1", r + "/var/lib/dkms/vpoll/0.1/source");
    // Installed for OLD: in lib/modules/OLD/updates/dkms (not an ELF file: read by name).
    fs::create_directories(r + "/lib/modules/6.1.0-old/updates/dkms");
    write_file(r + "/lib/modules/6.1.0-old/updates/dkms/vpoll_test.ko", "x");
    fs::create_directories(r + "/var/lib/dkms/vpoll/0.1/6.1.0-old/x86_64/module");
    write_file(r + "/var/lib/dkms/vpoll/0.1/6.1.0-old/x86_64/module/vpoll_test.ko", "x");
  }
  InstalledPlan plan() {
    InstalledRequest req;
    req.root = r;
    auto p = plan_installed_check(req);
    EXPECT_TRUE(p.has_value());
    return p ? std::move(*p) : InstalledPlan{};
  }
};

TEST(InstalledCheck, DkmsNamesComeFromDkmsConfInsideTheRoot) {
  DkmsRoot root;
  auto p = root.plan();
  const MissingModule *m = missing(p, "6.12.0-new", "vpoll_test");
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(m->why.starts_with("built for 6.1.0-old (")) << m->why;
  EXPECT_EQ(m->hint, "dkms install vpoll/0.1 -k 6.12.0-new");
  EXPECT_EQ(missing(p, "6.1.0-old", "vpoll_test"), nullptr);
  // The package's name is not taken for a module name when dkms.conf gives them.
  EXPECT_EQ(missing(p, "6.12.0-new", "vpoll"), nullptr);
}

TEST(InstalledCheck, DkmsBuiltButNotInstalledIsMissing) {
  DkmsRoot root;
  fs::create_directories(root.r + "/var/lib/dkms/vpoll/0.1/6.12.0-new/x86_64/module");
  write_file(root.r + "/var/lib/dkms/vpoll/0.1/6.12.0-new/x86_64/module/vpoll_test.ko", "x");
  auto p = root.plan();
  const MissingModule *m = missing(p, "6.12.0-new", "vpoll_test");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->detail, "DKMS built vpoll/0.1 for 6.12.0-new but did not install it (dkms status: built)");
  EXPECT_EQ(m->hint, "dkms install vpoll/0.1 -k 6.12.0-new");
  for (const auto &k : p.kernels)
    if (k.release == "6.12.0-new") {
      EXPECT_TRUE(k.modules.empty());
    }
}

TEST(InstalledCheck, DkmsFailedBuildQuotesTheCompilerError) {
  DkmsRoot root;
  write_file(root.r + "/var/lib/dkms/vpoll/0.1/build/make.log",
             "DKMS make.log for vpoll-0.1 for kernel 6.12.0-new (x86_64)\n"
             "Fri Dec  4 12:00:00 UTC 2026\n"
             "/var/lib/dkms/vpoll/0.1/build/vpoll.c: In function 'vpoll_open':\n"
             "/var/lib/dkms/vpoll/0.1/build/vpoll.c:40:9: error: implicit declaration of function 'strlcpy' "
             "[-Werror=implicit-function-declaration]\n"
             "make[1]: *** [Makefile:2: vpoll.o] Error 1\n");
  auto p = root.plan();
  const MissingModule *m = missing(p, "6.12.0-new", "vpoll_test");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->detail,
            "DKMS build of vpoll/0.1 for 6.12.0-new failed: /var/lib/dkms/vpoll/0.1/build/vpoll.c:40:9: error: "
            "implicit declaration of function 'strlcpy' [-Werror=implicit-function-declaration]");
  EXPECT_NE(m->hint.find("a newer vpoll may support 6.12.0-new"), std::string::npos) << m->hint;
}

TEST(InstalledCheck, UndeclaredFunctionsInBothQuoteStyles) {
  std::vector<std::string> errors = {
      "a.c:1:2: error: implicit declaration of function 'strlcpy' [-Werror=implicit-function-declaration]",
      "b.c:3:4: error: implicit declaration of function \u2018follow_pfn\u2019; did you mean \u2018follow_pte\u2019?",
      "c.c:5:6: error: 'struct foo' has no member named 'bar'",
      "ERROR: modpost: \"x\" [m.ko] undefined!"};
  EXPECT_EQ(undeclared_functions(errors), (std::vector<std::string>{"strlcpy", "follow_pfn"}));
}

TEST(InstalledCheck, DkmsFailedBuildOfAKnownChangeGetsItsRecipe) {
  DkmsRoot root;
  write_file(root.r + "/var/lib/dkms/vpoll/0.1/build/make.log",
             "DKMS make.log for vpoll-0.1 for kernel 6.12.0-new (x86_64)\n"
             "vpoll.c:40:9: error: implicit declaration of function \u2018strlcpy\u2019; did you mean \u2018strscpy\u2019?\n");
  std::vector<ApiChange> api = {{"strlcpy", "6.8", "d26270061ae6", "use strscpy"}, {"other", "6.9", "x", "y"}};
  InstalledRequest req;
  req.root = root.r;
  req.api_changes = &api;
  auto p = plan_installed_check(req);
  ASSERT_TRUE(p.has_value());
  const MissingModule *m = missing(*p, "6.12.0-new", "vpoll_test");
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(m->hint.starts_with("strlcpy: changed in 6.8 (d26270061ae6): use strscpy (see ")) << m->hint;
}

TEST(InstalledCheck, MissingVerdictNamesTheDevice) {
  MissingModule m{"e1000e", "loaded now", "", "", "/devices/pci0000:00/0000:00:19.0 (pci:v00008086d0000550Fsv0sd0bc02sc00i00)"};
  KernelProfile k;
  k.release = "6.12.0-new";
  LoadVerdict v = missing_verdict(m, k);
  EXPECT_EQ(v.check_id, "M1");
  EXPECT_EQ(v.errno_name, "ENOENT");
  ASSERT_EQ(v.checks.size(), 1u);
  EXPECT_EQ(v.checks[0].detail,
            "loaded now; needed by device /devices/pci0000:00/0000:00:19.0 (pci:v00008086d0000550Fsv0sd0bc02sc00i00)");
  m.device.clear();
  EXPECT_EQ(missing_verdict(m, k).checks[0].detail, "loaded now");
}

}  // namespace
