// kmx: multi-call entry. The basename of argv[0] picks the tool (as kmod's tools/kmod.c
// does for its symlinks); otherwise `kmx <tool> ARGS...`.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>
#include <vector>

#include "tools/common.h"
#include "tools/tools.h"

namespace {

struct Tool {
  const char *name;
  int (*fn)(int, char **);
  const char *help;
  const char *group;
};

constexpr const char *kKmod = "The kmod tools (same options, output and exit codes as kmod's)";
constexpr const char *kKerneld = "kerneld: loading on demand, autoclean, persistent settings";
constexpr const char *kChecking = "Checking modules against kernels, before anyone loads them";

// One row per tool; argv[0] names and `kmx <tool>` both look here; --help lists them by group.
const std::vector<Tool> tools = {
    {"depmod", kmx::depmod_main, "generate modules.dep and the module index files", kKmod},
    {"modprobe", kmx::modprobe_main, "add or remove modules with their dependencies (kmod 30 options, --autoclean)", kKmod},
    {"insmod", kmx::insmod_main, "insert a module file into the kernel", kKmod},
    {"rmmod", kmx::rmmod_main, "remove modules from the kernel", kKmod},
    {"lsmod", kmx::lsmod_main, "list the loaded modules", kKmod},
    {"modinfo", kmx::modinfo_main, "show information about a kernel module", kKmod},
    {"kmod", kmx::kmod_main, "kmod's own commands: list, static-nodes, help (and kmod TOOL ARGS)", kKmod},
    {"daemon", kmx::daemon_main, "load modules for devices (coldplug, uevents), release idle on-demand modules", kKerneld},
    {"autoclean", kmx::autoclean_main, "ask kmx daemon: status, release, release-when-idle, cancel", kKerneld},
    {"persist", kmx::persist_main, "edit the store of module settings kept across unload (get/set/list/rm)", kKerneld},
    {"check", kmx::check_main, "predict whether modules load into a kernel, and why not", kChecking},
    {"abi-diff", kmx::abi_diff_main, "compare two kernels' module ABI (exports, CRCs, namespaces)", kChecking},
    {"scan", kmx::scan_main, "summarise every module under a directory", kChecking},
};

const Tool *find_tool(std::string_view name) {
  for (const Tool &t : tools)
    if (name == t.name) return &t;
  return nullptr;
}

int usage(FILE *out) {
  std::fprintf(out, "Usage: kmx TOOL [ARGS...]   or a link named after TOOL (modprobe, depmod, ...)\n");
  const char *group = nullptr;
  for (const Tool &t : tools) {
    if (t.group != group) std::fprintf(out, "\n%s:\n", group = t.group);
    std::fprintf(out, "  %-10s %s\n", t.name, t.help);
  }
  std::fprintf(out, "\n`kmx TOOL --help` describes a tool's options; `kmx --version` prints kmx's version.\n");
  return out == stdout ? 0 : 2;
}

int run(int argc, char **argv) {
  const char *base = std::strrchr(argv[0], '/');
  base = base ? base + 1 : argv[0];
  if (const Tool *t = find_tool(base)) return t->fn(argc, argv);

  if (argc < 2) return usage(stderr);
  std::string_view cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") return usage(stdout);
  if (cmd == "--version" || cmd == "-V") return kmx::print_kmx_version();
  if (const Tool *t = find_tool(cmd)) return t->fn(argc - 1, argv + 1);
  std::fprintf(stderr, "kmx: ERROR: unknown tool '%s'\n", argv[1]);
  return usage(stderr);
}

}  // namespace

kmx::ToolMain kmx::compat_tool(std::string_view name) {
  for (std::string_view t : {"lsmod", "rmmod", "insmod", "modinfo", "modprobe", "depmod"})
    if (name == t) return find_tool(name)->fn;
  return nullptr;
}

int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "kmx: ERROR: %s\n", e.what());
    return 1;
  }
}
