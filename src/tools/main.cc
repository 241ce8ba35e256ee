// kmx: multi-call entry. The basename of argv[0] picks the tool (as kmod's tools/kmod.c
// does for its symlinks); otherwise `kmx <tool> ARGS...`.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>
#include <vector>

#include "tools/tools.h"

namespace {

struct Tool {
  const char *name;
  int (*fn)(int, char **);
  const char *help;
};

// One row per tool; argv[0] names and `kmx <tool>` both look here.
const std::vector<Tool> tools = {
    {"insmod", kmx::insmod_main, "insert a module file into the kernel"},
    {"rmmod", kmx::rmmod_main, "remove modules from the kernel"},
    {"lsmod", kmx::lsmod_main, "list the loaded modules"},
    {"modinfo", kmx::modinfo_main, "show information about a kernel module"},
    {"scan", kmx::scan_main, "summarise every module under a directory"},
    {"depmod", kmx::depmod_main, "generate modules.dep and the module index files"},
    {"abi-diff", kmx::abi_diff_main, "compare two kernels' module ABI (exports, CRCs, namespaces)"},
    {"check", kmx::check_main, "predict whether modules load into a kernel, and why not"},
    {"persist", kmx::persist_main, "edit the store of module settings kept across unload (get/set/list/rm)"},
    {"daemon", kmx::daemon_main, "load modules for devices (coldplug, uevents), release idle on-demand modules"},
    {"autoclean", kmx::autoclean_main, "ask kmx daemon: status, release, release-when-idle, cancel"},
    {"modprobe", kmx::modprobe_main, "add or remove modules with their dependencies (kmod 30 options)"},
};

const Tool *find_tool(std::string_view name) {
  for (const Tool &t : tools)
    if (name == t.name) return &t;
  return nullptr;
}

int usage(FILE *out) {
  std::fprintf(out, "Usage: kmx TOOL [ARGS...]   or a link named after TOOL\n\nTools:\n");
  for (const Tool &t : tools) std::fprintf(out, "  %-10s %s\n", t.name, t.help);
  return out == stdout ? 0 : 1;
}

int run(int argc, char **argv) {
  const char *base = std::strrchr(argv[0], '/');
  base = base ? base + 1 : argv[0];
  if (const Tool *t = find_tool(base)) return t->fn(argc, argv);

  if (argc < 2) return usage(stderr);
  std::string_view cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") return usage(stdout);
  if (cmd == "--version" || cmd == "-V") {
    std::printf("kmx version %s\n", KMX_VERSION);
    return 0;
  }
  if (const Tool *t = find_tool(cmd)) return t->fn(argc - 1, argv + 1);
  std::fprintf(stderr, "kmx: error: unknown tool '%s'\n", argv[1]);
  return usage(stderr);
}

}  // namespace

int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "kmx: error: %s\n", e.what());
    return 1;
  }
}
