// Unit tests for the loader checks (compat/load-check.cc) on synthetic modules and kernels.
// The verdicts and lines themselves are proven against real kernels by the VM lab
// (tests/vm/scenarios/check-*.sh); these pin the order and the version/state switches.
#include <gtest/gtest.h>

#include <algorithm>
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
  k.arch = ElfArch{62, true, true};  // x86-64
  return k;
}

ModuleInfo module(const std::string &release, u64 size, std::vector<std::string> syms,
                  const std::string &license = "GPL") {
  ModuleInfo m;
  m.path = "/x/demo.ko";
  m.e_machine = 62;
  m.elf_size = 4096;
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
  for (const auto &c : v.checks) unknown = unknown || (c.id == "F" && c.result == StepResult::unknown);
  EXPECT_TRUE(unknown);
}

TEST(LoadCheck, LivepatchTaintsKOrRefusesWithoutLivepatch) {
  ModuleInfo m = module("6.12.1", 0x500, {"_printk"});
  m.modinfo.push_back({"livepatch", "Y"});
  KernelProfile k = kernel("6.12.1", 0x500);
  k.config["CONFIG_LIVEPATCH"] = "y";
  auto v = check_module(m, k, {});
  EXPECT_TRUE(v.loads);
  EXPECT_EQ(v.taint, "OEK");
  EXPECT_TRUE(has_line(v, "demo: tainting kernel with TAINT_LIVEPATCH"));
  TargetState once;
  once.kernel_taint = "K";  // pr_notice_once: not printed again
  EXPECT_FALSE(has_line(check_module(m, k, once), "demo: tainting kernel with TAINT_LIVEPATCH"));
  // Without CONFIG_LIVEPATCH: ENOEXEC. 6.4+ refuses in early_mod_check() before any taint; 6.1
  // in check_modinfo() after the O taint.
  k.config["CONFIG_LIVEPATCH"] = "n";
  auto nv = check_module(m, k, {});
  EXPECT_EQ(nv.check_id, "D7");
  EXPECT_EQ(nv.err, ENOEXEC);
  EXPECT_EQ(nv.taint, "");
  EXPECT_TRUE(has_line(nv, "demo: module is marked as livepatch module, but livepatch support is disabled"));
  ModuleInfo old = module("6.1.0", 0x380, {"_printk"});
  old.modinfo.push_back({"livepatch", "Y"});
  KernelProfile k61 = kernel("6.1.0", 0x380);
  k61.config["CONFIG_LIVEPATCH"] = "n";
  auto ov = check_module(old, k61, {});
  EXPECT_EQ(ov.check_id, "D7");
  EXPECT_EQ(ov.taint, "O");
}

TEST(LoadCheck, ModinfoTaintsByPresence) {
  ModuleInfo m = module("6.12.1", 0x500, {"_printk"});
  m.modinfo.push_back({"intree", "N"});  // any value counts: the kernel tests presence
  m.modinfo.push_back({"staging", "Y"});
  m.modinfo.push_back({"test", "1"});
  auto v = check_module(m, kernel("6.12.1", 0x500), {});
  EXPECT_EQ(v.taint, "CEN");
  EXPECT_TRUE(has_line(v, "demo: module is from the staging directory, the quality is unknown, you have been warned."));
  EXPECT_TRUE(has_line(v, "demo: loading test module taints kernel."));
}

TEST(LoadCheck, NameBasedProprietaryTaints) {
  ModuleInfo m = module("6.12.1", 0x500, {"_printk", "ktime_get"});
  m.modinfo[1].value = "lve";
  auto v = check_module(m, kernel("6.12.1", 0x500), {});
  EXPECT_EQ(v.taint, "POE");
  EXPECT_TRUE(has_line(v, "lve: module license taints kernel."));
  // The module is tainted P before its symbols resolve: GPL-only exports are hidden from it.
  EXPECT_EQ(v.check_id, "F2");
  // ndiswrapper taints only the kernel, and keeps its GPL-only symbols.
  m.modinfo[1].value = "ndiswrapper";
  auto n = check_module(m, kernel("6.12.1", 0x500), {});
  EXPECT_TRUE(n.loads);
  EXPECT_EQ(n.taint, "OE");
  EXPECT_TRUE(has_line(n, "ndiswrapper: module license taints kernel."));
  TargetState p;
  p.kernel_taint = "P";
  EXPECT_FALSE(has_line(check_module(m, kernel("6.12.1", 0x500), p), "ndiswrapper: module license taints kernel."));
}

TEST(LoadCheck, InheritedProprietaryTaint) {
  KernelProfile k = kernel("6.1.0", 0x380);
  k.exports["pexp_value"] = KernelExport{"pexp", ExportLicense::plain, "", 0xeeee};
  TargetState s;
  s.loaded.insert("pexp");
  s.proprietary.insert("pexp");
  ModuleInfo m = module("6.1.0", 0x380, {"_printk", "pexp_value"});
  m.versions.push_back({"pexp_value", 0xeeee});
  auto v = check_module(m, k, s);
  EXPECT_TRUE(v.loads);
  EXPECT_EQ(v.taint, "POE");
  EXPECT_TRUE(has_line(v, "demo: module uses symbols pexp_value from proprietary module pexp, inheriting taint."));
  // Once P by inheritance, a later GPL-only symbol is hidden (symtab order matters)...
  ModuleInfo later = module("6.1.0", 0x380, {"pexp_value", "ktime_get"});
  later.versions.push_back({"pexp_value", 0xeeee});
  EXPECT_EQ(check_module(later, k, s).check_id, "F2");
  // ...and a module that already uses GPL-only symbols is refused the proprietary one (F3).
  ModuleInfo gpl = module("6.1.0", 0x380, {"ktime_get", "pexp_value"});
  gpl.versions.push_back({"pexp_value", 0xeeee});
  auto g = check_module(gpl, k, s);
  EXPECT_EQ(g.check_id, "F3");
  EXPECT_EQ(g.err, ENOENT);
  EXPECT_TRUE(has_line(g, "demo: module using GPL-only symbols uses symbols pexp_value from proprietary module pexp."));
  EXPECT_TRUE(has_line(g, "demo: Unknown symbol pexp_value (err -2)"));
  // Before 5.19 the lines do not name the symbol; before 5.9 there is no inheritance.
  KernelProfile k518 = k;
  k518.release = "5.18.0";
  parse_release(k518.release, k518.major, k518.minor);
  k518.this_module_size.reset();
  EXPECT_TRUE(has_line(check_module(m, k518, s), "demo: module uses symbols from proprietary module pexp, inheriting taint."));
  k518.major = 5;
  k518.minor = 8;
  EXPECT_EQ(check_module(m, k518, s).taint, "OE");
}

TEST(LoadCheck, ModuleNamespacesPerVersion) {
  // EXPORT_SYMBOL_GPL_FOR_MODULES(sym, "kvm,kvm-*"): 6.16+ admits the named modules without an
  // import and refuses an explicit import of a module: namespace (D9); older loaders compare
  // the namespace as a plain string (Debian 6.12.117 has the macro, not the loader support).
  auto k = [](const char *rel) {
    KernelProfile p = kernel(rel, 0x500);
    p.exports["anon_inode_make_secure_inode"] = KernelExport{"vmlinux", ExportLicense::gpl, "module:kvm,kvm-*", 0x7777};
    return p;
  };
  auto mod = [](const char *rel, const char *name) {
    ModuleInfo m = module(rel, 0x500, {"anon_inode_make_secure_inode"});
    m.modinfo[1].value = name;
    m.versions.push_back({"anon_inode_make_secure_inode", 0x7777});
    return m;
  };
  EXPECT_TRUE(check_module(mod("6.16.0", "kvm"), k("6.16.0"), {}).loads);
  EXPECT_TRUE(check_module(mod("6.16.0", "kvm-amd"), k("6.16.0"), {}).loads);
  EXPECT_TRUE(check_module(mod("6.16.0", "kvm_intel"), k("6.16.0"), {}).loads);
  auto no = check_module(mod("6.16.0", "kvmx"), k("6.16.0"), {});
  EXPECT_EQ(no.check_id, "F9");
  EXPECT_TRUE(has_line(no, "kvmx: module uses symbol (anon_inode_make_secure_inode) from namespace module:kvm,kvm-*, but does not import it."));
  auto old = check_module(mod("6.12.1", "kvm"), k("6.12.1"), {});
  EXPECT_EQ(old.check_id, "F9");
  ModuleInfo imp = mod("6.12.1", "kvmx");
  imp.modinfo.push_back({"import_ns", "module:kvm,kvm-*"});
  EXPECT_TRUE(check_module(imp, k("6.12.1"), {}).loads);
  ModuleInfo imp16 = mod("6.16.0", "kvmx");
  imp16.modinfo.push_back({"import_ns", "module:kvm,kvm-*"});
  auto d9 = check_module(imp16, k("6.16.0"), {});
  EXPECT_EQ(d9.check_id, "D9");
  EXPECT_EQ(d9.err, EPERM);
  EXPECT_TRUE(has_line(d9, "kvmx: module tries to import module namespace: module:kvm,kvm-*"));
}

TEST(LoadCheck, SecureBootLocksDownDebianKernels) {
  ModuleInfo m = module("6.12.1", 0x500, {"_printk"});
  KernelProfile k = kernel("6.12.1", 0x500);
  k.config["CONFIG_LOCK_DOWN_IN_EFI_SECURE_BOOT"] = "y";
  TargetState sb;
  sb.secure_boot = true;
  auto v = check_module(m, k, sb);
  EXPECT_EQ(v.check_id, "B5");
  EXPECT_EQ(v.err, EPERM);
  EXPECT_TRUE(has_line(v, "Lockdown: insmod: unsigned module loading is restricted; see man kernel_lockdown.7"));
  k.config["CONFIG_LOCK_DOWN_IN_EFI_SECURE_BOOT"] = "n";
  EXPECT_TRUE(check_module(m, k, sb).loads);
  // Signed by a key the kernel's modules use (no certificates known: matched by key id).
  k.config["CONFIG_LOCK_DOWN_IN_EFI_SECURE_BOOT"] = "y";
  k.trusted_key_ids.push_back({1, 2, 3});
  m.signature = ModuleSignature{};
  m.signature->key_id = {1, 2, 3};
  m.signature->signer = "build key";
  auto s = check_module(m, k, sb);
  EXPECT_TRUE(s.loads);
  EXPECT_EQ(s.taint, "O");
  m.signature->key_id = {9};
  auto nokey = check_module(m, k, sb);
  EXPECT_EQ(nokey.check_id, "B5");
  TargetState enforce;
  enforce.sig_enforce = true;
  auto e = check_module(m, k, enforce);
  EXPECT_EQ(e.check_id, "B4");
  EXPECT_TRUE(has_line(e, "Loading of module with unavailable key is rejected"));
}

TEST(LoadCheck, LicenceTaintLinesInTheKernelsOrder) {
  ModuleInfo m = module("6.12.1", 0x500, {"_printk"}, "Proprietary");
  m.modinfo.push_back({"test", "Y"});
  auto v = check_module(m, kernel("6.12.1", 0x500), {});
  EXPECT_EQ(v.taint, "POEN");
  // module_augment_kernel_taints(): O, licence, N, E, then the kernel-wide P note last.
  std::vector<std::string> want = {"demo: loading out-of-tree module taints kernel.",
                                   "demo: module license 'Proprietary' taints kernel.",
                                   "Disabling lock debugging due to kernel taint",
                                   "demo: loading test module taints kernel.",
                                   "demo: module verification failed: signature and/or required key missing - tainting kernel",
                                   "demo: module license taints kernel."};
  EXPECT_EQ(v.messages, want);
  // 6.1 samples the kernel's P after the licence taint: no second line.
  ModuleInfo old = module("6.1.0", 0x380, {"_printk"}, "Proprietary");
  EXPECT_FALSE(has_line(check_module(old, kernel("6.1.0", 0x380), {}), "demo: module license taints kernel."));
}

TEST(LoadCheck, ForcedLoadIgnoresVermagicAndVersions) {
  // insmod -f: a wrong vermagic and a wrong module_layout CRC are not looked at; the first
  // forcing check prints the only F line ("module_layout" first: check_modstruct_version runs
  // before check_modinfo), the symbol CRCs are skipped silently.
  ModuleInfo m = module("6.12.1", 0x500, {"_printk"});
  m.modinfo[2].value = "6.11.0 SMP preempt mod_unload modversions ";
  m.versions[0].crc = 0x2222;
  m.versions[1].crc = 0x9999;
  EXPECT_EQ(check_module(m, kernel("6.12.1", 0x500), {}).check_id, "D2");
  CheckOptions f;
  f.force_vermagic = f.force_modversions = true;
  auto v = check_module(m, kernel("6.12.1", 0x500), {}, f);
  EXPECT_TRUE(v.loads);
  EXPECT_EQ(v.taint, "FOE");
  EXPECT_TRUE(has_line(v, "demo: module_layout: kernel tainted."));
  EXPECT_FALSE(has_line(v, "demo: bad vermagic: kernel tainted."));
  // Already tainted F: no line at all.
  TargetState tainted;
  tainted.kernel_taint = "F";
  EXPECT_FALSE(has_line(check_module(m, kernel("6.12.1", 0x500), tainted, f), "demo: module_layout: kernel tainted."));
  // --force-vermagic alone: the versions are still checked (the wrong layout CRC refuses).
  CheckOptions fv;
  fv.force_vermagic = true;
  EXPECT_EQ(check_module(m, kernel("6.12.1", 0x500), {}, fv).check_id, "D2");
  m.versions[0].crc = 0x1111;
  m.versions[1].crc = 0xaaaa;
  auto only_vm = check_module(m, kernel("6.12.1", 0x500), {}, fv);
  EXPECT_TRUE(only_vm.loads);
  EXPECT_TRUE(has_line(only_vm, "demo: bad vermagic: kernel tainted."));
  // --force-modversions alone: vermagic is compared in full (no __versions seen), so the
  // release word now matters.
  CheckOptions fm;
  fm.force_modversions = true;
  auto only_mv = check_module(m, kernel("6.12.1", 0x500), {}, fm);
  EXPECT_EQ(only_mv.check_id, "D5");
  EXPECT_TRUE(has_line(only_mv, "demo: module_layout: kernel tainted."));
}

TEST(LoadCheck, ForcedLoadCountsAsUnsigned) {
  // A signature the kernel would trust, or a malformed trailer, is not looked at when forced:
  // the module is "unsigned" (taint E, or refused under sig_enforce / lockdown).
  ModuleInfo m = module("6.12.1", 0x500, {"_printk"});
  m.modinfo.push_back({"intree", "Y"});
  KernelProfile k = kernel("6.12.1", 0x500);
  k.trusted_key_ids.push_back({1, 2, 3});
  m.signature = ModuleSignature{};
  m.signature->key_id = {1, 2, 3};
  m.signature->signer = "build key";
  EXPECT_EQ(check_module(m, k, {}).taint, "");
  CheckOptions f;
  f.force_vermagic = f.force_modversions = true;
  auto v = check_module(m, k, {}, f);
  EXPECT_TRUE(v.loads);
  EXPECT_EQ(v.taint, "FE");
  EXPECT_TRUE(has_line(v, "demo: module verification failed: signature and/or required key missing - tainting kernel"));
  TargetState enforce;
  enforce.sig_enforce = true;
  auto e = check_module(m, k, enforce, f);
  EXPECT_EQ(e.check_id, "B4");
  EXPECT_EQ(e.err, EKEYREJECTED);
  EXPECT_TRUE(has_line(e, "Loading of unsigned module is rejected"));
  // A compressed module: kmod 30 edits it itself and calls init_module() without flags, so the
  // kernel checks a signature over changed bytes (no certificates here: matched by key id).
  ModuleInfo xz = m;
  xz.compression = Compression::xz;
  auto edited = check_module(xz, k, {}, f);
  EXPECT_EQ(edited.check_id, "B6");
  EXPECT_EQ(edited.err, EKEYREJECTED);
  xz.signature->key_id = {9};
  EXPECT_EQ(check_module(xz, k, {}, f).taint, "FE");  // unknown key: ENOKEY as without -f
  ModuleInfo bad = m;
  bad.signature.reset();
  bad.signature_problem = "signature trailer: unknown algo 9";
  EXPECT_EQ(check_module(bad, k, {}).check_id, "B6");
  EXPECT_TRUE(check_module(bad, k, {}, f).loads);
}

// A kernel known only by a System.map: export names, nothing about modversions.
TEST(LoadCheck, SystemMapAloneLeavesModversionsUndecided) {
  KernelProfile k;
  k.release = "6.1.0";
  parse_release(k.release, k.major, k.minor);
  k.exports["_printk"] = KernelExport{"vmlinux", ExportLicense::plain, "", std::nullopt};
  k.vmlinux_exports_known = true;
  EXPECT_FALSE(k.modversions().has_value());
  ModuleInfo m = module("6.1.0", 0x380, {"_printk"});
  m.versions.clear();  // would be a forced load (F) with modversions, fine without
  auto v = check_module(m, k, {});
  EXPECT_TRUE(v.loads);
  EXPECT_FALSE(v.complete);
  EXPECT_EQ(v.exit_code(), 3);
  auto nd = v.undecided();
  EXPECT_NE(std::find(nd.begin(), nd.end(), "D2 module_layout"), nd.end());
  EXPECT_EQ(v.taint.find('F'), std::string::npos);
}

TEST(LoadCheck, ModversionsFromVermagicOrZeroCrcs) {
  KernelProfile k;
  k.vermagic = "7.2.13+deb14-amd64 SMP preempt mod_unload ";
  EXPECT_EQ(k.modversions(), std::optional<bool>(false));
  k.vermagic = "6.1.0-54-amd64 SMP preempt mod_unload modversions ";
  EXPECT_EQ(k.modversions(), std::optional<bool>(true));
  KernelProfile z;  // Module.symvers of a kernel without modversions: every CRC 0
  z.exports["_printk"] = KernelExport{"vmlinux", ExportLicense::plain, "", 0};
  EXPECT_EQ(z.modversions(), std::optional<bool>(false));
}

TEST(LoadCheck, SignerUndecidedWithoutKeys) {
  ModuleInfo m = module("6.12.1", 0x500, {"_printk"});
  m.modinfo.push_back({"intree", "Y"});
  ModuleSignature sig;
  sig.signer = "Build time autogenerated kernel key";
  sig.key_id = {0x52, 0x39};
  m.signature = sig;
  KernelProfile k = kernel("6.12.1", 0x500);
  auto v = check_module(m, k, {});
  EXPECT_TRUE(v.loads);
  EXPECT_EQ(v.taint, "");  // neither E nor clean: not decided
  EXPECT_EQ(v.exit_code(), 3);
  k.trusted_key_ids.push_back({0x52, 0x39});  // the tree's modules use that key
  v = check_module(m, k, {});
  EXPECT_EQ(v.exit_code(), 0);
  k.trusted_key_ids = {{0x01}};  // they use another one
  v = check_module(m, k, {});
  EXPECT_EQ(v.taint, "E");
}

TEST(LoadCheck, ArchitectureBeforeEverythingButTheSignature) {
  ModuleInfo m = module("6.12.1", 0x380, {"_printk"});  // also the wrong struct module size
  KernelProfile arm = kernel("6.12.1", 0x500);
  arm.arch = ElfArch{183, true, true};
  auto v = check_module(m, arm, {});
  EXPECT_EQ(v.check_id, "C4");
  EXPECT_EQ(v.errno_name, "ENOEXEC");
  EXPECT_TRUE(has_line(v, "Invalid architecture in ELF header: 62"));
}

TEST(LoadCheck, UnparsedFilesGetTheLoadersAnswer) {
  KernelProfile k = kernel("6.12.1", 0x500);
  auto v = check_unparsed_module("/x/e.ko", ByteView(), "empty", k, {});
  EXPECT_EQ(v.errno_name, "EINVAL");
  EXPECT_TRUE(v.messages.empty());
  std::string text = "hello\n";
  v = check_unparsed_module("/x/t.ko", ByteView(std::string_view(text)), "not ELF", k, {});
  EXPECT_EQ(v.check_id, "C1");
  EXPECT_TRUE(has_line(v, "Invalid ELF header len 6"));
  std::string junk(100, 'x');
  v = check_unparsed_module("/x/j.ko", ByteView(std::string_view(junk)), "not ELF", k, {});
  EXPECT_EQ(v.check_id, "C2");
  EXPECT_EQ(v.errno_name, "ENOEXEC");
  TargetState enforced;
  enforced.sig_enforce = true;  // the signature is checked first
  v = check_unparsed_module("/x/j.ko", ByteView(std::string_view(junk)), "not ELF", k, enforced);
  EXPECT_EQ(v.check_id, "B4");
  // A big-endian header: the kernel reads e_type 1 as 256.
  std::string be(64, '\0');
  be[0] = 0x7f, be[1] = 'E', be[2] = 'L', be[3] = 'F', be[4] = 2, be[5] = 2, be[17] = 1, be[19] = 62;
  v = check_unparsed_module("/x/b.ko", ByteView(std::string_view(be)), "other byte order", k, {});
  EXPECT_EQ(v.check_id, "C3");
  EXPECT_TRUE(has_line(v, "Invalid ELF header type: 256 != 1"));
}
