// What `kmx check --installed` judges: every kernel installed under a root x every out-of-tree
// module the machine uses. Discovery only: which kernels, which module files to check against
// each, and which modules the machine uses that a kernel has no build for ("missing after
// reboot"). The checks themselves are load-check.h's; printing is the tool's.
//
// Read under ROOT: lib/modules/REL (updates/, extra/ and any module outside kernel/ whose
// .modinfo has no intree=Y are out of tree), boot/ and usr/src/linux-headers-REL/Module.symvers
// for the profile specs, var/lib/dkms/NAME/VER/{REL/ARCH/module,build/make.log,source/dkms.conf},
// etc/modules, etc/modules-load.d/*.conf, etc/initramfs-tools/modules, modprobe.d blacklists and
// etc/default/grub's GRUB_CMDLINE_LINUX*. What only a running system has (/proc/modules,
// /proc/cmdline) is the caller's to pass in: nothing here reads the environment.
//
// DKMS (3.0.10's layout): a module is there for REL only once installed into lib/modules/REL;
// one DKMS built for REL (REL/ARCH/module, `dkms status` "built") but did not install is
// missing, with `dkms install` as the fix; a failed build for REL leaves build/make.log, whose
// first line names REL, and its first compiler errors are quoted. source/ is DKMS's link to
// /usr/src/NAME-VER, followed inside ROOT.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "compat/kernel-profile.h"
#include "compat/load-check.h"

namespace kmx {

struct InstalledRequest {
  std::string root = "/";
  std::string proc_modules;  // /proc/modules text when ROOT is the running system, else ""
  std::string proc_cmdline;  // /proc/cmdline text when ROOT is the running system, else ""
  std::string cmdline;        // replaces the command line found when `cmdline_given`
  bool cmdline_given = false;
  std::string only_release;  // judge only this kernel (the hook's NEW); "" = every kernel
  // Known API changes (data/api-changes.tsv): a failed DKMS build's undeclared function that
  // one names gets its recipe as the fix. nullptr = none.
  const std::vector<ApiChange> *api_changes = nullptr;
};

// A module the machine uses that a kernel has no build for.
struct MissingModule {
  std::string name;
  std::string why;     // what makes the machine use it: "loaded now", "named in /etc/modules", ...
  std::string detail;  // e.g. the DKMS build's first compiler error for this kernel
  std::string hint;
  std::string device;  // a device that needs it: "DEVPATH (MODALIAS)"; "" = none known
};

struct InstalledKernel {
  std::string release;
  std::string spec;                  // load_profile() spec: tree, image, headers' Module.symvers
  std::vector<std::string> modules;  // out-of-tree module files built for this kernel
  std::vector<MissingModule> missing;
};

struct InstalledPlan {
  std::vector<InstalledKernel> kernels;
  std::string cmdline;               // grub's GRUB_CMDLINE_LINUX* and the passed /proc/cmdline
  std::set<std::string> blacklisted; // modprobe.d blacklist and module_blacklist=: not problems
};

// The kernels and modules to judge. An error when ROOT has no lib/modules/REL directory.
Result<InstalledPlan> plan_installed_check(const InstalledRequest &req);

// Names listed one per line (etc/modules, modules-load.d): '#' and ';' start comments.
std::vector<std::string> parse_module_list(std::string_view text);
// GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT of an etc/default/grub, joined.
std::string grub_cmdline(std::string_view text);
// The first compiler error lines of a DKMS make.log ("error:", "undefined!"), at most `max`.
std::vector<std::string> make_log_errors(std::string_view text, size_t max = 3);
// The functions GCC reports as implicitly declared in `errors` ("implicit declaration of
// function 'NAME'", with ASCII quotes or, in a UTF-8 locale, U+2018/U+2019), in order.
std::vector<std::string> undeclared_functions(const std::vector<std::string> &errors);

// The verdict of a module that has no build for kernel `k`: modprobe fails with ENOENT (check
// "M1", missing after reboot).
LoadVerdict missing_verdict(const MissingModule &m, const KernelProfile &k);

}  // namespace kmx
