// Loading and unloading modules through the kernel's syscalls.
//
// load_module_file() follows kmod's insmod: finit_module(2) on the file when the kernel can
// read it as it is, init_module(2) on a buffer otherwise. For a compressed file it asks the
// kernel to decompress (MODULE_INIT_COMPRESSED_FILE, Linux >= 6.4 with CONFIG_MODULE_DECOMPRESS)
// when /sys/module/compression names the file's format, and decompresses it itself otherwise.
// Which path the kernel supports is found by probing (sysfs, then ENOSYS from finit_module),
// never from the kernel version. Errors keep the kernel's errno in Error::sys_errno.
#pragma once

#include <string>

#include "base/result.h"
#include "kernel/sysfs-module.h"

namespace kmx {

// include/uapi/linux/module.h
constexpr unsigned MODULE_INIT_IGNORE_MODVERSIONS = 1;
constexpr unsigned MODULE_INIT_IGNORE_VERMAGIC = 2;
constexpr unsigned MODULE_INIT_COMPRESSED_FILE = 4;

enum class LoadMethod { finit, finit_compressed, init_module };

struct LoadOptions {
  bool ignore_vermagic = false;
  bool ignore_modversions = false;
};

struct LoadResult {
  LoadMethod method = LoadMethod::finit;
  Compression compression = Compression::none;
  bool reached_kernel = false;  // false: failed before any load syscall (open, decompress)
};

// Load the module file at `path` with the parameter string `args`. On failure the Error's
// sys_errno is the errno of the failing step (open; EINVAL for a file kmx cannot decompress,
// as kmod; or the kernel's).
// `tried` (optional) receives what was attempted, for messages and tests.
Result<LoadResult> load_module_file(const KernelRoots &r, const std::string &path, const std::string &args,
                                    const LoadOptions &opt, LoadResult *tried = nullptr);

// delete_module(2); flags are O_NONBLOCK / O_TRUNC as the kernel takes them.
Status unload_module(const std::string &name, unsigned flags);

// "finit_module", "init_module", ... for messages.
const char *load_method_name(LoadMethod m);

}  // namespace kmx
