// Unit tests for the loader checks (compat/load-check.cc) on synthetic modules and kernels.
// The verdicts and lines themselves are proven against real kernels by the VM lab
// (tests/vm/scenarios/check-*.sh); these pin the order and the version/state switches.
#include <gtest/gtest.h>

#include <cerrno>

#include "compat/load-check.h"

using namespace kmx;

namespace {

KernelProfile kernel(const std::string &release, u64 size) {
  KernelProfile k;
  k.release = release;
  parse_release(release, k.major, k.minor);
  k.vermagic = release + " SMP preempt mod_unload modversions ";
  k.module_layout_crc = 0x1111;
  k.this_module_size = size;
  k.config = {{"CONFIG_MODVERSIONS", "y"}, {"CONFIG_MODULE_SIG", "y"}, {"CONFIG_MODULE_FORCE_LOAD", "y"}};
  k.exports["_printk"] = KernelExport{"vmlinux", ExportLicense::plain, "", 0xaaaa};
  k.exports["ktime_get"] = KernelExport{"vmlinux", ExportLicense::gpl, "", 0xbbbb};
  k.exports["dma_buf_put"] = KernelExport{"vmlinux", ExportLicense::gpl, "DMA_BUF", 0xcccc};
  k.exports["helper"] = KernelExport{"helpermod", ExportLicense::plain, "", 0xdddd};
  k.exports_have_licence = true;
  k.vmlinux_exports_known = true;
  return k;
}

ModuleInfo module(const std::string &release, u64 size, std::vector<std::string> syms,
                  const std::string &license = "GPL") {
  ModuleInfo m;
  m.path = "/x/demo.ko";
  m.modinfo = {{"license", license}, {"name", "demo"},
               {"vermagic", release + " SMP preempt mod_unload modversions "}};
  m.this_module_size = size;
  m.versions.push_back({"module_layout", 0x1111});
  const std::map<std::string, u64> crcs = {
      {"_printk", 0xaaaa}, {"ktime_get", 0xbbbb}, {"dma_buf_put", 0xcccc}, {"helper", 0xdddd}};
  for (const auto &s : syms) {
    m.imports.push_back({s, false, std::nullopt});
    if (crcs.count(s)) m.versions.push_back({s, crcs.at(s)});
  }
  return m;
}

bool has_line(const LoadVerdict &v, const std::string &line) {
  for (const auto &m : v.messages)
    if (m == line) return true;
  return false;
}

}  // namespace

TEST(LoadCheck, CleanOutOfTreeModuleTaintsOE) {
  auto v = check_module(module("6.12.1", 0x500, {"_printk"}), kernel("6.12.1", 0x500), {});
  EXPECT_TRUE(v.loads);
  EXPECT_EQ(v.taint, "OE");
  EXPECT_EQ(v.exit_code(), 1);
  EXPECT_TRUE(has_line(v, "demo: loading out-of-tree module taints kernel."));
}

TEST(LoadCheck, OrderDependsOnVersion) {
  // Wrong struct module size and wrong module_layout CRC: 6.1 checks the CRC (and has no size
  // check), 6.4+ checks the size first.
  ModuleInfo m = module("6.1.0", 0x380, {"_printk"});
  m.versions[0].crc = 0x2222;
  auto old_v = check_module(m, kernel("6.1.0", 0x500), {});
  EXPECT_EQ(old_v.check_id, "D2");
  EXPECT_EQ(old_v.err, ENOEXEC);
  EXPECT_TRUE(has_line(old_v, "demo: disagrees about version of symbol module_layout"));
  auto new_v = check_module(m, kernel("6.12.0", 0x500), {});
  EXPECT_EQ(new_v.check_id, "C10");
  EXPECT_EQ(new_v.errno_name, "ENOEXEC");
  EXPECT_EQ(new_v.exit_code(), 2);
}

TEST(LoadCheck, VermagicReleaseIgnoredOnlyWithVersions) {
  ModuleInfo m = module("6.12.9", 0x500, {"_printk"});
  EXPECT_TRUE(check_module(m, kernel("6.12.1", 0x500), {}).loads);
  m.versions.clear();  // no __versions: forced (F), then the full vermagic is compared
  auto v = check_module(m, kernel("6.12.1", 0x500), {});
  EXPECT_EQ(v.check_id, "D5");
  EXPECT_NE(v.taint.find('F'), std::string::npos);  // tainted before the refusal
}

TEST(LoadCheck, MissingCrcDebianRefusesUpstreamAccepts) {
  ModuleInfo m = module("6.12.1", 0x500, {"_printk"});
  m.versions.pop_back();
  auto v = check_module(m, kernel("6.12.1", 0x500), {});
  EXPECT_EQ(v.check_id, "F5");
  EXPECT_EQ(v.err, EINVAL);
  EXPECT_TRUE(has_line(v, "demo: no symbol version for _printk"));
  EXPECT_TRUE(has_line(v, "demo: Unknown symbol _printk (err -22)"));
  CheckOptions up;
  up.upstream_missing_crc = true;
  EXPECT_TRUE(check_module(m, kernel("6.12.1", 0x500), {}, up).loads);
}

TEST(LoadCheck, GplOnlyHiddenFromProprietary) {
  auto v = check_module(module("6.12.1", 0x500, {"ktime_get"}, "Proprietary"), kernel("6.12.1", 0x500), {});
  EXPECT_EQ(v.check_id, "F2");
  EXPECT_EQ(v.err, ENOENT);
  EXPECT_TRUE(has_line(v, "demo: module license 'Proprietary' taints kernel."));
  EXPECT_TRUE(has_line(v, "demo: Unknown symbol ktime_get (err -2)"));
}

TEST(LoadCheck, NamespaceAndQuotedImportHint) {
  ModuleInfo m = module("6.12.1", 0x500, {"dma_buf_put"});
  m.modinfo.push_back({"import_ns", "\"DMA_BUF\""});
  auto v = check_module(m, kernel("6.12.1", 0x500), {});
  EXPECT_EQ(v.check_id, "F9");
  EXPECT_TRUE(has_line(v, "demo: module uses symbol (dma_buf_put) from namespace DMA_BUF, but does not import it."));
  bool hint = false;
  for (const auto &h : v.hints) hint = hint || h.find("cdd30ebb1b9f") != std::string::npos;
  EXPECT_TRUE(hint);
  m.modinfo.back().value = "DMA_BUF";
  EXPECT_TRUE(check_module(m, kernel("6.12.1", 0x500), {}).loads);
}

TEST(LoadCheck, InsmodNeedsLoadedDependency) {
  ModuleInfo m = module("6.12.1", 0x500, {"helper"});
  EXPECT_TRUE(check_module(m, kernel("6.12.1", 0x500), {}).loads);  // modprobe semantics
  CheckOptions ins;
  ins.modprobe = false;
  auto v = check_module(m, kernel("6.12.1", 0x500), {}, ins);
  EXPECT_EQ(v.check_id, "F1");
  TargetState s;
  s.loaded.insert("helpermod");
  EXPECT_TRUE(check_module(m, kernel("6.12.1", 0x500), s, ins).loads);
  s.loaded.insert("demo");
  EXPECT_EQ(check_module(m, kernel("6.12.1", 0x500), s, ins).check_id, "D8");
}

TEST(LoadCheck, CmdlineStateAndOnceOnlyLines) {
  ModuleInfo m = module("6.12.1", 0x500, {"_printk"});
  TargetState s;
  apply_cmdline("quiet module.sig_enforce=1 lockdown=integrity module_blacklist=a,demo", s);
  EXPECT_TRUE(s.sig_enforce);
  EXPECT_EQ(s.lockdown, "integrity");
  EXPECT_TRUE(s.blacklist.contains("demo"));
  auto v = check_module(m, kernel("6.12.1", 0x500), s);
  EXPECT_EQ(v.check_id, "B4");  // signatures before the blacklist
  EXPECT_TRUE(has_line(v, "Loading of unsigned module is rejected"));
  s.sig_enforce = false;
  EXPECT_EQ(check_module(m, kernel("6.12.1", 0x500), s).check_id, "B5");
  s.lockdown.clear();
  EXPECT_EQ(check_module(m, kernel("6.12.1", 0x500), s).errno_name, "EPERM");
  TargetState tainted;
  tainted.kernel_taint = "OE";
  auto t = check_module(m, kernel("6.12.1", 0x500), tainted);
  EXPECT_EQ(t.taint, "OE");
  EXPECT_TRUE(t.messages.empty());
}

TEST(LoadCheck, ApiChangesFile) {
  auto a = parse_api_changes("# c\nfollow_pfn\t6.10\tcb10c28ac82c\tuse follow_pte\n", "f");
  ASSERT_TRUE(a);
  ASSERT_EQ(a->size(), 1u);
  EXPECT_EQ((*a)[0].version, "6.10");
  auto bad = parse_api_changes("follow_pfn 6.10\n", "api.tsv");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().msg.find("api.tsv:1:"), std::string::npos);
  CheckOptions o;
  o.api_changes = &*a;
  auto v = check_module(module("6.12.1", 0x500, {"follow_pfn"}), kernel("6.12.1", 0x500), {}, o);
  EXPECT_EQ(v.check_id, "F1");
  ASSERT_FALSE(v.hints.empty());
  EXPECT_NE(v.hints.back().find("cb10c28ac82c"), std::string::npos);
}

TEST(LoadCheck, LicenceList) {
  EXPECT_TRUE(license_is_gpl_compatible("Dual MIT/GPL"));
  EXPECT_FALSE(license_is_gpl_compatible("BSD"));
  EXPECT_FALSE(license_is_gpl_compatible("unspecified"));
}

TEST(LoadCheck, DuplicateExportRefusedLast) {
  ModuleInfo m = module("6.12.1", 0x500, {"_printk"});
  m.exports.push_back({"_printk", ExportLicense::plain, "", 0x1});
  auto v = check_module(m, kernel("6.12.1", 0x500), {});
  EXPECT_EQ(v.check_id, "G1");
  EXPECT_EQ(v.err, ENOEXEC);
  EXPECT_TRUE(has_line(v, "demo: exports duplicate symbol _printk (owned by kernel)"));
  // A module's export that another (not loaded) module also exports is no conflict.
  m.exports.back().name = "helper";
  EXPECT_TRUE(check_module(m, kernel("6.12.1", 0x500), {}).loads);
  TargetState s;
  s.loaded.insert("helpermod");
  EXPECT_EQ(check_module(m, kernel("6.12.1", 0x500), s).check_id, "G1");
}

TEST(LoadCheck, ExportsWithoutCrcsTaintF) {
  ModuleInfo m = module("6.12.1", 0x500, {"_printk"});
  m.exports.push_back({"mine", ExportLicense::plain, "", std::nullopt});
  auto v = check_module(m, kernel("6.12.1", 0x500), {});
  EXPECT_TRUE(v.loads);
  EXPECT_EQ(v.taint, "FOE");
  EXPECT_TRUE(has_line(v, "demo: no versions for exported symbols: kernel tainted."));
}

TEST(LoadCheck, UnknownVmlinuxExportsAreNotRefusals) {
  KernelProfile k = kernel("6.12.1", 0x500);
  k.vmlinux_exports_known = false;  // only module exports known (a tree without Module.symvers)
  auto v = check_module(module("6.12.1", 0x500, {"something_in_vmlinux"}), k, {});
  EXPECT_TRUE(v.loads);
  bool unknown = false;
  for (const auto &c : v.checks) unknown = unknown || (c.id == "F" && c.result == "unknown");
  EXPECT_TRUE(unknown);
}
