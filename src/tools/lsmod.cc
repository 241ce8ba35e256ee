// kmx lsmod: kmod's lsmod (tools/lsmod.c): /proc/modules order, size from
// /sys/module/NAME/coresize, use count from refcnt and holders in readdir order, printed with
// kmod's "%-19s %8ld  %d" layout.
#include <getopt.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "kernel/sysfs-module.h"
#include "tools/common.h"
#include "tools/tools.h"

namespace kmx {

// Options as kmod 34's lsmod (kmod 30's took none and printed "Usage: lsmod" for any
// argument; both exit 1 on a bad one): -s/--syslog, -v/--verbose, -V/--version, -h/--help.
int lsmod_main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"syslog", no_argument, nullptr, 's'},
      {"verbose", no_argument, nullptr, 'v'},
      {"version", no_argument, nullptr, 'V'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  const char *prog = "lsmod";
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "svVh", longopts, nullptr)) != -1;) {
    switch (c) {
    case 's':
    case 'v': break;  // lsmod reports only its own errors, always on stderr
    case 'V': return print_kmod_version();
    case 'h':
      std::printf("Usage:\n\t%s [options]\nOptions:\n"
                  "\t-s, --syslog      print to syslog, not stderr\n"
                  "\t-v, --verbose     enables more messages\n"
                  "\t-V, --version     show version\n"
                  "\t-h, --help        show this help\n",
                  prog);
      return 0;
    default: return 1;
    }
  }
  if (optind < argc) {
    log_error(prog, "too many arguments provided.\n");
    return 1;
  }
  KernelRoots roots;
  auto mods = loaded_modules(roots);
  if (!mods) {
    int err = mods.error().to_errno();
    std::fprintf(stderr, "libkmod: ERROR ../libkmod/libkmod-module.c:1725 kmod_module_new_from_loaded: could not open /proc/modules: %s\n", std::strerror(err));
    std::fprintf(stderr, "Error: could not get list of modules: %s\n", std::strerror(err));
    return 1;
  }
  std::string out = "Module                  Size  Used by\n";
  char buf[512];
  for (const LoadedModule &m : *mods) {
    // kmod reads size and use count from sysfs; /proc/modules is the fallback it also has.
    auto size = module_coresize(roots, m.name);
    auto refcnt = module_refcnt(roots, m.name);
    long sz = size ? static_cast<long>(*size) : (module_sysfs_dir_exists(roots, m.name) ? static_cast<long>(m.size) : -2L);
    int rc = refcnt ? static_cast<int>(*refcnt) : -refcnt.error().to_errno();
    std::snprintf(buf, sizeof buf, "%-19s %8ld  %d", m.name.c_str(), sz, rc);
    out += buf;
    auto holders = module_holders(roots, m.name);
    if (holders) {
      bool first = true;
      for (const std::string &h : *holders) {
        out += first ? ' ' : ',';
        first = false;
        out += h;
      }
    }
    out += '\n';
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace kmx
