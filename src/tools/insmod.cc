// kmx insmod: kmod 30's insmod (tools/insmod.c): same options ("psfVh"), messages and exit
// codes. When the kernel refuses the module, it also prints the kernel-log lines this load
// produced for the module and a one-line hint (kmod only says "Invalid module format").
#include <getopt.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernel/kmsg.h"
#include "kernel/module-load.h"
#include "lookup/load-engine.h"
#include "elf/module-elf.h"
#include "tools/common.h"
#include "tools/tools.h"

namespace kmx {
namespace {

// kmod's insmod maps the errnos that init_module gives modules a special meaning to.
const char *mod_strerror(int err) {
  switch (err) {
  case ENOEXEC: return "Invalid module format";
  case ENOENT: return "Unknown symbol in module";
  case ESRCH: return "Module has wrong symbol version";
  case EINVAL: return "Invalid parameters";
  default: return std::strerror(err);
  }
}

const char *base_name(const char *p) {
  const char *s = std::strrchr(p, '/');
  return s ? s + 1 : p;
}

}  // namespace

int insmod_main(int argc, char **argv) {
  const char *prog = base_name(argv[0]);
  static const option longopts[] = {
      {"version", no_argument, nullptr, 'V'},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  LoadOptions opt;
  optind = 1;
  for (;;) {
    int c = getopt_long(argc, argv, "psfVh", longopts, nullptr);
    if (c == -1) break;
    switch (c) {
    case 'p':
    case 's':
      break;  // accepted and ignored, as kmod does
    case 'f':
      opt.ignore_vermagic = opt.ignore_modversions = true;
      break;
    case 'h':
      std::printf("Usage:\n\t%s [options] filename [args]\nOptions:\n\t-V, --version     show version\n\t-h, --help        show this help\n", prog);
      return 0;
    case 'V':
      print_kmod_version();
      return 0;
    case '?':
      return 1;
    default:
      std::fprintf(stderr, "%s: ERROR: unexpected getopt_long() value '%c'.\n", prog, c);
      return 1;
    }
  }
  if (optind >= argc) {
    std::fprintf(stderr, "%s: ERROR: missing filename.\n", prog);
    return 1;
  }
  std::string filename = argv[optind];
  if (filename == "-") {
    std::fprintf(stderr, "%s: ERROR: this tool does not support loading from stdin!\n", prog);
    return 1;
  }
  std::string args;
  for (int i = optind + 1; i < argc; ++i) {
    if (!args.empty()) args += ' ';
    args += argv[i];
  }
  // kmod_module_new_from_path(): the file must exist and its basename must give a name.
  struct stat st;
  int serr = ::stat(filename.c_str(), &st) != 0 ? errno : module_name_from_path(filename).empty() ? ENOENT : 0;
  if (serr != 0) {
    std::fprintf(stderr, "%s: ERROR: could not load module %s: %s\n", prog, filename.c_str(), std::strerror(serr));
    return 1;
  }

  KernelRoots roots;
  // Watch the kernel log from before the load, so that its lines can be told from older ones.
  auto watch = KmsgWatch::open();
  // One step of the loading engine (lookup/load-engine.h): the file with argv's options as
  // they are, no stored values (those are modprobe's business); after the load, a baseline of
  // its writable parameters, and it leaves the on-demand record (an explicit load).
  PlanStep step;
  step.name = module_name_from_path(filename);
  step.path = filename;
  step.options = args;
  step.target = true;
  PersistHooks hooks = make_persist_hooks(roots, false);
  LoadResult tried;
  Status res;
  LoadEffects fx;
  fx.insert = [&](const PlanStep &s, const std::string &options) -> Status {
    auto r = load_module_file(roots, *s.path, options, opt, &tried);
    if (!r) res = fail(r.error());
    return res;
  };
  fx.loaded = [&](const PlanStep &s) {
    hooks.after_load(s.name);
    hooks.forget_on_demand(s.name);
  };
  execute_step(step, false, fx);
  // KMX_DEBUG=1 says how the module was handed to the kernel (the VM lab checks it).
  if (const char *d = std::getenv("KMX_DEBUG"); d && *d && std::strcmp(d, "0") != 0)
    std::fprintf(stderr, "%s: DEBUG: %s, file compression %s\n", prog, load_method_name(tried.method),
                 std::string(compression_name(tried.compression)).c_str());
  if (res) return 0;
  int err = res.error().to_errno();
  std::fprintf(stderr, "%s: ERROR: could not insert module %s: %s\n", prog, filename.c_str(), mod_strerror(err));
  if (err == EEXIST) return 1;
  if (!tried.reached_kernel) {
    // Opening or decompressing failed: the kernel never saw the module. kmod says no more
    // than the line above; for a bad compressed file the decoder's reason is worth a line.
    if (tried.compression != Compression::none)
      std::fprintf(stderr, "%s: ERROR: %s\n", prog, res.error().msg.c_str());
    return 1;
  }
  // The kernel names the module by its .modinfo name, which need not be the file's.
  std::vector<std::string> names = {module_name_from_path(filename)};
  ReadOptions ro;
  ro.symbols = false;
  if (auto info = read_module(filename, ro))
    if (auto n = info->get("name")) names.push_back(*n);
  if (!watch) {
    std::fprintf(stderr, "%s: note: cannot read the kernel log (%s), so the kernel's reason is not shown\n", prog,
                 watch.error().msg.c_str());
    return 1;
  }
  auto records = watch->read_new();
  if (!records) {
    std::fprintf(stderr, "%s: note: cannot read the kernel log (%s), so the kernel's reason is not shown\n", prog,
                 records.error().msg.c_str());
    return 1;
  }
  LoadExplanation ex = explain_load_failure(*records, names, err);
  for (const std::string &l : ex.lines) std::fprintf(stderr, "%s: kernel: %s\n", prog, l.c_str());
  if (!ex.hint.empty()) std::fprintf(stderr, "%s: hint: %s\n", prog, ex.hint.c_str());
  return 1;
}

}  // namespace kmx
