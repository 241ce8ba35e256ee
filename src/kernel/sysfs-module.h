// The running kernel's view of modules: /sys/module/NAME/{initstate,refcnt,coresize,holders},
// /sys/module/compression, /proc/modules and the modules.builtin list of the running release.
//
// Every function takes KernelRoots so that tests can point it at a fake tree. Semantics follow
// libkmod (kmod_module_get_initstate & co.): a /sys/module/NAME directory without initstate is
// a module still coming (or a builtin with parameters); holders are listed in readdir order,
// which is the order kmod prints them in.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "decompress/decompress.h"
#include "base/proc-modules.h"

namespace kmx {

struct KernelRoots {
  std::string proc = "/proc";
  std::string sys = "/sys";
  std::string modules = "/lib/modules";  // parent of <release>/modules.builtin
};

enum class InitState { live, coming, going };

// Errc::not_found when the module is not loaded.
Result<InitState> module_initstate(const KernelRoots &r, const std::string &name);
Result<i64> module_refcnt(const KernelRoots &r, const std::string &name);
Result<i64> module_coresize(const KernelRoots &r, const std::string &name);
Result<std::vector<std::string>> module_holders(const KernelRoots &r, const std::string &name);
bool module_sysfs_dir_exists(const KernelRoots &r, const std::string &name);

// Parsed /proc/modules of the running kernel.
Result<std::vector<LoadedModule>> loaded_modules(const KernelRoots &r);

// The format the kernel can decompress itself (finit_module with MODULE_INIT_COMPRESSED_FILE),
// read from /sys/module/compression (present with CONFIG_MODULE_DECOMPRESS). nullopt when the
// kernel cannot decompress modules.
std::optional<Compression> kernel_decompression(const KernelRoots &r);

// Is sysfs mounted (does <sys>/module exist)? Without it, kernel features must be probed by
// trying them.
bool sysfs_available(const KernelRoots &r);

// Is NAME listed in <modules>/<release>/modules.builtin (release: uname -r)?
bool module_is_builtin(const KernelRoots &r, const std::string &name);

}  // namespace kmx
