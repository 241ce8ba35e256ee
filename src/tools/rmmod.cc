// kmx rmmod: kmod 30's rmmod (tools/rmmod.c): options "fsvVwh", the in-use checks done before
// delete_module(2) (builtin, not loaded, holders, refcount), messages and exit codes; -s sends
// the messages to syslog instead of stderr. kmx addition (persist/persist-hooks.h): the
// module's changed writable parameters are saved before delete_module(2), and a removed module
// leaves the on-demand record; problems with that show only with -v.
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <syslog.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "kernel/module-load.h"
#include "elf/module-elf.h"
#include "kernel/sysfs-module.h"
#include "lookup/remove-engine.h"
#include "tools/common.h"
#include "tools/tools.h"

namespace kmx {
namespace {

const char *base_name(const char *p) {
  const char *s = std::strrchr(p, '/');
  return s ? s + 1 : p;
}

// kmod's check_module_inuse(): negative when the module must not be removed.
int check_in_use(const KmodLog &log, const KernelRoots &roots, const std::string &name) {
  if (module_is_builtin(roots, name)) {
    log.say(LOG_ERR, "Module {} is builtin.\n", name);
    return -ENOENT;
  }
  auto state = module_initstate(roots, name);
  if (!state) {
    log.say(LOG_ERR, "Module {} is not currently loaded\n", name);
    return -ENOENT;
  }
  auto holders = module_holders(roots, name);
  if (!holders) {
    log.say(LOG_ERR, "../libkmod/libkmod-module.c:1998 kmod_module_get_holders() {}\n", holders.error().msg);
  } else if (!holders->empty()) {
    std::string list;
    for (const std::string &h : *holders) list += " " + h;
    if (log.use_syslog) {
      log.say(LOG_ERR, "Module {} is in use by:{}\n", name, list);
    } else {
      log.say(LOG_ERR, "Module {} is in use by:", name);
      std::fprintf(stderr, "%s\n", list.c_str());
    }
    return -EBUSY;
  }
  auto refcnt = module_refcnt(roots, name);
  if (refcnt && *refcnt > 0) {
    log.say(LOG_ERR, "Module {} is in use\n", name);
    return -EBUSY;
  }
  if (!refcnt && refcnt.error().to_errno() == ENOENT) {
    log.say(LOG_ERR, "Module unloading is not supported\n");
    return -ENOENT;
  }
  return refcnt ? static_cast<int>(*refcnt) : -refcnt.error().to_errno();
}

}  // namespace

int rmmod_main(int argc, char **argv) {
  KmodLog log{base_name(argv[0])};
  static const option longopts[] = {
      {"force", no_argument, nullptr, 'f'},   {"syslog", no_argument, nullptr, 's'},
      {"verbose", no_argument, nullptr, 'v'}, {"version", no_argument, nullptr, 'V'},
      {"help", no_argument, nullptr, 'h'},    {nullptr, 0, nullptr, 0},
  };
  bool force = false;
  optind = 1;
  for (;;) {
    int c = getopt_long(argc, argv, "fsvVwh", longopts, nullptr);
    if (c == -1) break;
    switch (c) {
    case 'f': force = true; break;
    case 's': log.use_syslog = true; break;
    case 'v': ++log.priority; break;
    case 'h':
      std::printf("Usage:\n\t%s [options] modulename ...\nOptions:\n"
                  "\t-f, --force       forces a module unload and may crash your\n"
                  "\t                  machine. This requires Forced Module Removal\n"
                  "\t                  option in your kernel. DANGEROUS\n"
                  "\t-s, --syslog      print to syslog, not stderr\n"
                  "\t-v, --verbose     enables more messages\n"
                  "\t-V, --version     show version\n"
                  "\t-h, --help        show this help\n",
                  log.prog);
      return 0;
    case 'V': return print_kmod_version();
    case '?': return 1;
    default:
      // kmod lists 'w' in its option string without handling it.
      log.say(LOG_ERR, "unexpected getopt_long() value '{}'.\n", static_cast<char>(c));
      return 1;
    }
  }
  if (log.use_syslog) openlog(log.prog, LOG_CONS, LOG_DAEMON);
  int failures = 0;
  if (optind >= argc) {
    log.say(LOG_ERR, "missing module name.\n");
    failures = 1;
  }
  KernelRoots roots;
  PersistHooks hooks = make_persist_hooks(roots, log.priority > LOG_ERR);
  UnloadEffects unload;
  unload.remove = unload_module;
  unload.before = [&](const std::string &name) { hooks.before_unload(name); };
  unload.after = [&](const std::string &name) { hooks.after_unload(name); };
  for (int i = optind; i < argc; ++i) {
    const char *arg = argv[i];
    struct stat st;
    // A path names the module by its file; a name is cut at its first '.' as kmod does.
    std::string_view a(arg);
    std::string name = ::stat(arg, &st) == 0 ? module_name_from_path(a) : normalize_module_name(a.substr(0, a.find('.')));
    if (!force && check_in_use(log, roots, name) < 0) {
      ++failures;
      continue;
    }
    unsigned flags = O_NONBLOCK | (force ? O_TRUNC : 0);
    if (int err = unload_with(name, flags, {}, unload); err < 0) {
      const char *why = std::strerror(-err);
      // libkmod's own message, forwarded by kmod's rmmod with the source location that
      // Debian's build of kmod 30 prints.
      log.say(LOG_ERR, "../libkmod/libkmod-module.c:856 kmod_module_remove_module() could not remove '{}': {}\n", name, why);
      log.say(LOG_ERR, "could not remove module {}: {}\n", arg, why);
      ++failures;
    }
  }
  if (log.use_syslog) closelog();
  return failures == 0 ? 0 : 1;
}

}  // namespace kmx
