// kmx modprobe: kmod 30's modprobe (tools/modprobe.c), option for option.
//
// The option table (kmod's "arw:RibfDcnC:d:S:sqvVh" and long options), $MODPROBE_OPTIONS
// prepended to argv the way kmod splits it, -V, -h, -c/--showconfig (config dump plus the
// modules.alias and modules.symbols index dumps), and the loading modes: insert (with
// softdeps, install commands, options from modprobe.d, the kernel command line and argv),
// -a, -r (with remove commands, softdeps, holders, dependencies that became unused), -R,
// -D/--show-depends, -n, -i, -b, --first-time, -f/--force-*, -w, --show-exports and
// --show-modversions. Resolution is lookup/probe.h; messages, their priorities and exit
// codes are those of modprobe.c and libkmod (LOG() is fatal unless -a lowers it to a
// warning). As in kmod 34, an argument starting with "/" or "./" is a module file path.
// kmx's `forbid` directive refuses any module it names, whether asked by name, by alias,
// as a dependency or softdep (stderr explains; exit 1); --show-depends still lists it.
//
// Config diagnostics: kmod reports them from inside kmod_new(), before modprobe installs
// its own logger, so they reach stderr through libkmod's default logger as
// "libkmod: ERROR ../libkmod/libkmod-config.c:712 kmod_config_parse: ...", whatever -q says,
// unless $KMOD_LOG lowers libkmod's priority below LOG_ERR.
//
// kmx additions (persist/persist-hooks.h has the rules): parameters saved at unload are
// applied at the next load unless the load names them; --autoclean NAME... (kmx only; implies
// -a, so every argument is a module) loads and records the modules it loaded as on demand
// (source "modprobe", the parent process's pid and comm); when the kernel runs kmx as its
// modprobe (argv exactly "-q -- NAME" and the parent is a kernel thread, see
// is_kernel_thread() in persist/ondemand.h) the modules loaded are recorded with source
// "kernel" and alias NAME; any other load takes the named modules out of the
// record, and so does an unload. -n, -D, -R, -c and --show-* never touch the store.
#include <getopt.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/mapped-file.h"
#include "config/modprobe-config.h"
#include "elf/module-elf.h"
#include "index/trie-index.h"
#include "kernel/module-load.h"
#include "kernel/sysfs-module.h"
#include "lookup/load-engine.h"
#include "lookup/remove-engine.h"
#include "lookup/module-command.h"
#include "lookup/probe.h"
#include "persist/ondemand.h"
#include "tools/common.h"
#include "tools/tools.h"

namespace kmx {

namespace {

const char short_options[] = "arw:RibfDcnC:d:S:sqvVh";
// The long options without a short letter (kmod's values).
enum LongOnly {
  OPT_FORCE_VERMAGIC = 1,
  OPT_FORCE_MODVERSION = 2,
  OPT_FIRST_TIME = 3,
  OPT_SHOW_MODVERSIONS = 4,
  OPT_REMOVE_HOLDERS = 5,
  OPT_SHOW_EXPORTS = 6,
  OPT_AUTOCLEAN = 7,
};
const struct option long_options[] = {
    {"all", no_argument, nullptr, 'a'},
    {"remove", no_argument, nullptr, 'r'},
    {"remove-dependencies", no_argument, nullptr, OPT_REMOVE_HOLDERS},
    {"remove-holders", no_argument, nullptr, OPT_REMOVE_HOLDERS},
    {"wait", required_argument, nullptr, 'w'},
    {"resolve-alias", no_argument, nullptr, 'R'},
    {"first-time", no_argument, nullptr, OPT_FIRST_TIME},
    {"ignore-install", no_argument, nullptr, 'i'},
    {"ignore-remove", no_argument, nullptr, 'i'},
    {"use-blacklist", no_argument, nullptr, 'b'},
    {"force", no_argument, nullptr, 'f'},
    {"force-modversion", no_argument, nullptr, OPT_FORCE_MODVERSION},
    {"force-vermagic", no_argument, nullptr, OPT_FORCE_VERMAGIC},
    {"show-depends", no_argument, nullptr, 'D'},
    {"showconfig", no_argument, nullptr, 'c'},
    {"show-config", no_argument, nullptr, 'c'},
    {"show-modversions", no_argument, nullptr, OPT_SHOW_MODVERSIONS},
    {"dump-modversions", no_argument, nullptr, OPT_SHOW_MODVERSIONS},
    {"show-exports", no_argument, nullptr, OPT_SHOW_EXPORTS},
    {"dry-run", no_argument, nullptr, 'n'},
    {"show", no_argument, nullptr, 'n'},
    {"config", required_argument, nullptr, 'C'},
    {"dirname", required_argument, nullptr, 'd'},
    {"set-version", required_argument, nullptr, 'S'},
    {"syslog", no_argument, nullptr, 's'},
    {"quiet", no_argument, nullptr, 'q'},
    {"verbose", no_argument, nullptr, 'v'},
    {"version", no_argument, nullptr, 'V'},
    {"help", no_argument, nullptr, 'h'},
    {"autoclean", no_argument, nullptr, OPT_AUTOCLEAN},
    {nullptr, 0, nullptr, 0},
};

void help(const char *p) {
  std::printf(
      "Usage:\n"
      "\t%s [options] [-i] [-b] modulename\n"
      "\t%s [options] -a [-i] [-b] modulename [modulename...]\n"
      "\t%s [options] -r [-i] modulename\n"
      "\t%s [options] -r -a [-i] modulename [modulename...]\n"
      "\t%s [options] -c\n"
      "\t%s [options] --dump-modversions filename\n"
      "Management Options:\n"
      "\t-a, --all                   Consider every non-argument to\n"
      "\t                            be a module name to be inserted\n"
      "\t                            or removed (-r)\n"
      "\t-r, --remove                Remove modules instead of inserting\n"
      "\t    --remove-dependencies   Deprecated: use --remove-holders\n"
      "\t    --remove-holders        Also remove module holders (use together with -r)\n"
      "\t-w, --wait <MSEC>           When removing a module, wait up to MSEC for\n"
      "\t                            module's refcount to become 0 so it can be\n"
      "\t                            removed (use together with -r)\n"
      "\t    --first-time            Fail if module already inserted or removed\n"
      "\t-i, --ignore-install        Ignore install commands\n"
      "\t-i, --ignore-remove         Ignore remove commands\n"
      "\t-b, --use-blacklist         Apply blacklist to resolved alias.\n"
      "\t-f, --force                 Force module insertion or removal.\n"
      "\t                            implies --force-modversions and\n"
      "\t                            --force-vermagic\n"
      "\t    --force-modversion      Ignore module's version\n"
      "\t    --force-vermagic        Ignore module's version magic\n"
      "\n"
      "Query Options:\n"
      "\t-R, --resolve-alias         Only lookup and print alias and exit\n"
      "\t-D, --show-depends          Only print module dependencies and exit\n"
      "\t-c, --showconfig            Print out known configuration and exit\n"
      "\t-c, --show-config           Same as --showconfig\n"
      "\t    --show-modversions      Dump module symbol version and exit\n"
      "\t    --dump-modversions      Same as --show-modversions\n"
      "\t    --show-exports          Only print module exported symbol versions and exit\n"
      "\n"
      "General Options:\n"
      "\t-n, --dry-run               Do not execute operations, just print out\n"
      "\t-n, --show                  Same as --dry-run\n"
      "\t-C, --config=FILE           Use FILE instead of default search paths\n"
      "\t-d, --dirname=DIR           Use DIR as filesystem root for /lib/modules\n"
      "\t-S, --set-version=VERSION   Use VERSION instead of `uname -r`\n"
      "\t-s, --syslog                print to syslog, not stderr\n"
      "\t-q, --quiet                 disable messages\n"
      "\t-v, --verbose               enables more messages\n"
      "\t-V, --version               show version\n"
      "\t-h, --help                  show this help\n"
      // kmod's text ends above (byte for byte); what kmx adds follows it.
      "\n"
      "kmx additions:\n"
      "\t    --autoclean             As -a, and record the modules loaded as on-demand\n"
      "\t                            loads, which `kmx daemon` unloads once idle\n"
      "\tmodprobe.d: forbid MODULE   Never load MODULE, by any name or path (blacklist\n"
      "\t                            only stops its aliases)\n",
      p, p, p, p, p, p);
}

// kmod's prepend_options_from_env(): words of $MODPROBE_OPTIONS split on ' ', a quoted
// word ("..." or '...') taken without its quotes, quotes inside a word removed. Kept
// byte-compatible, including its quirks (a word that ends at a closing quote followed by a
// space yields an extra empty argument).
std::vector<std::string> modprobe_options_from_env() {
  const char *env = std::getenv("MODPROBE_OPTIONS");
  std::vector<std::string> out;
  if (!env) return out;
  std::string buf(env);
  buf.push_back('\0');
  size_t str = 0, s = 0, end = buf.size() - 1;
  size_t quote = std::string::npos;
  auto word_at = [&](size_t at) { return std::string(buf.c_str() + at); };
  for (s = 0; buf[s] != '\0'; s++) {
    if (quote == std::string::npos) {
      if (buf[s] == ' ') {
        buf[s] = '\0';
        out.push_back(word_at(str));
        str = s + 1;
      } else if (buf[s] == '"' || buf[s] == '\'') {
        quote = s;
      }
    } else if (buf[s] == buf[quote]) {
      if (quote == str) {
        buf[s] = '\0';
        out.push_back(word_at(str + 1));
        str = s + 1;
      } else {
        // Drop both quote characters and continue after the quoted text.
        for (size_t it = quote; it + 1 < s; it++) buf[it] = buf[it + 1];
        for (size_t it = s - 1; it + 2 < end; it++) buf[it] = buf[it + 2];
        end -= 2;
        buf[end] = '\0';
        s -= 2;
      }
      quote = std::string::npos;
    }
  }
  if (str < s) out.push_back(word_at(str));
  return out;
}

// libkmod's KMOD_LOG parsing (log_priority() in libkmod.c).
int kmod_log_priority() {
  const char *env = secure_getenv("KMOD_LOG");
  if (!env) return 3;  // LOG_ERR
  char *endptr = nullptr;
  long prio = std::strtol(env, &endptr, 10);
  if (endptr[0] == '\0' || std::isspace(static_cast<unsigned char>(endptr[0])))
    return static_cast<int>(prio);
  if (std::strncmp(env, "err", 3) == 0) return 3;
  if (std::strncmp(env, "info", 4) == 0) return 6;
  if (std::strncmp(env, "debug", 5) == 0) return 7;
  return 0;
}

std::string absolute(const std::string &path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[4096];
  if (!::getcwd(cwd, sizeof cwd)) return path;
  return std::string(cwd) + "/" + path;
}

// kmod_dump_index(): an index that is missing or unreadable prints nothing.
void dump_index(const char *p, const std::string &path, std::string_view prefix) {
  Result<MappedFile> file = MappedFile::open(path);
  if (!file) return;
  Result<IndexReader> reader = IndexReader::parse(file->view());
  if (!reader) return;
  Result<std::string> text = reader->dump(prefix);
  if (!text) {
    log_error(p, "{}: {}\n", path, text.error().msg);
    return;
  }
  std::fwrite(text->data(), 1, text->size(), stdout);
}

// modprobe.d as libkmod loads it, its bad lines reported in libkmod's words when the log
// priority (KMOD_LOG) lets errors through.
ModprobeConfig load_config(const std::vector<std::string> &config_paths, const std::string &dirname) {
  ModprobeConfigSources src;
  src.config_paths = config_paths;
  src.module_dir = dirname;
  src.diag_style = ConfigDiagStyle::libkmod;
  bool print_errors = kmod_log_priority() >= 3;
  Diag diag([&](const DiagMessage &m) {
    if (print_errors) std::fprintf(stderr, "libkmod: %s %s\n", m.severity == Severity::warning ? "WARNING" : "ERROR", m.msg.c_str());
  });
  return load_modprobe_config(src, diag);
}

int show_config(const char *p, const std::vector<std::string> &config_paths, const std::string &dirname) {
  ModprobeConfig cfg = load_config(config_paths, dirname);
  std::string text = format_modprobe_config(cfg);
  std::fwrite(text.data(), 1, text.size(), stdout);
  dump_index(p, dirname + "/modules.alias.bin", "alias ");
  dump_index(p, dirname + "/modules.symbols.bin", "alias ");
  std::fflush(stdout);
  return EXIT_SUCCESS;
}

}  // namespace


namespace {

// kmod's syslog.h priorities.
constexpr int P_EMERG = 0, P_CRIT = 2, P_ERR = 3, P_WARNING = 4;

// A FATAL line was printed: modprobe_main() returns EXIT_FAILURE (kmod exits there).
struct Fatal {};
constexpr int DEFAULT_VERBOSE = P_WARNING;

struct Modprobe {
  int log_priority = P_CRIT;  // priority of LOG(): CRIT, or WARNING with -a
  KmodLog log{"modprobe", false, DEFAULT_VERBOSE};  // its priority: -q, -v
  bool do_show = false, dry_run = false, ignore_loaded = false, lookup_only = false;
  bool first_time = false, ignore_commands = false, use_blacklist = false, force = false;
  bool strip_modversion = false, strip_vermagic = false, remove_holders = false;
  unsigned long long wait_msec = 0;
  KernelRoots roots;
  ProbeContext *ctx = nullptr;
  PersistHooks *hooks = nullptr;
  PersistHooks *preview_hooks = nullptr;  // a dry run: stored values shown, nothing written
  std::vector<std::string> loaded_now;  // modules this run inserted itself, in load order
  bool explicit_load = true;            // not --autoclean, not the kernel: forget on-demand records

  void vlog(int prio, const std::string &msg) const {
    if (!log.shows(prio)) return;
    log.write(prio, msg);
    // kmod's log_printf() exits on a FATAL line; here the tool unwinds to modprobe_main().
    if (prio <= P_CRIT) throw Fatal{};
  }
  template <typename... Args>
  void LOG(fmt::format_string<Args...> f, Args &&...args) const {
    vlog(log_priority, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void ERR(fmt::format_string<Args...> f, Args &&...args) const {
    vlog(P_ERR, fmt::format(f, std::forward<Args>(args)...));
  }
  bool show_enabled() const { return do_show || log.priority > DEFAULT_VERBOSE; }
  // Live or builtin: kmod_module_get_initstate() is LIVE or BUILTIN.
  bool inkernel(ProbeModule *m) {
    if (ctx->is_builtin(m)) return true;
    auto st = module_initstate(roots, m->name);
    return st && *st == InitState::live;
  }

  void print_action(const PlanStep &s, const std::string &options) {
    std::string line;
    if (s.command) line = fmt::format("install {} {}\n", *s.command, options);
    else if (s.path) line = fmt::format("insmod {} {}\n", *s.path, options);
    else if (s.builtin) line = fmt::format("builtin {}\n", s.name);
    std::fwrite(line.data(), 1, line.size(), stdout);
  }

  // kmod_module_probe_insert_module(), on the library's engine (lookup/load-engine.h).
  int probe_insert(ProbeModule *mod, unsigned flags, const std::optional<std::string> &extra, bool show) {
    PlanRequest req{flags, extra, do_show};
    ProbePlan plan = plan_probe(*ctx, mod, req, [&](ProbeModule *m) { return inkernel(m); });
    LoadEffects fx;
    fx.in_kernel = [&](const PlanStep &s) {
      auto st = module_initstate(roots, s.name);
      return st && *st == InitState::live;
    };
    // Stored parameters join the options of a real load (printed with -v as passed), and of a
    // dry run's (-n -v shows what the load would get: a kmx difference, read-only).
    if (PersistHooks *with_stored = (flags & PROBE_DRY_RUN) ? preview_hooks : hooks)
      fx.stored = [with_stored](const PlanStep &s, const std::string &options) {
        return with_stored->stored_words(s.name, s.path, options);
      };
    if (show) fx.show = [&](const PlanStep &s, const std::string &options) { print_action(s, options); };
    // As libkmod runs commands, through the one runner (lookup/module-command.h): stdout is not
    // flushed first, so a line printed by print_action() stays in the buffer while the command
    // runs and redirected output has the command's own lines first.
    fx.run_command = [](const std::string &name, const std::string &cmd) { return run_module_command(name, cmd, {.environment = environ}); };
    fx.insert = [&](const PlanStep &s, const std::string &options) -> Status {
      LoadOptions lo;
      lo.ignore_vermagic = flags & PROBE_FORCE_VERMAGIC;
      lo.ignore_modversions = flags & PROBE_FORCE_MODVERSION;
      auto r = load_module_file(roots, *s.path, options, lo);
      if (!r) return fail(r.error());
      return {};
    };
    fx.loaded = [&](const PlanStep &s) {
      loaded_now.push_back(s.name);
      if (hooks) hooks->after_load(s.name);
    };
    return execute_probe(plan, flags, fx, [&](int prio, const std::string &msg) { vlog(prio, msg + "\n"); });
  }

  int insmod_insert(ProbeModule *mod, unsigned flags, const std::optional<std::string> &extra) {
    int err = 0;
    if (lookup_only)
      std::printf("%s\n", mod->name.c_str());
    else
      err = probe_insert(mod, flags, extra, show_enabled());
    if (err >= 0) return 0;
    switch (err) {
    case -EEXIST: ERR("could not insert '{}': Module already in kernel\n", mod->name); break;
    case -ENOENT:
      ERR("could not insert '{}': Unknown symbol in module, or unknown parameter (see dmesg)\n", mod->name);
      break;
    case -EPERM:
      if (ctx->is_forbidden(mod)) break;  // already explained
      [[fallthrough]];
    default: ERR("could not insert '{}': {}\n", mod->name, std::strerror(-err)); break;
    }
    return err;
  }

  int insmod(const std::string &alias, const std::optional<std::string> &extra) {
    std::vector<ProbeModule *> list;
    if (alias.starts_with("/") || alias.starts_with("./")) {
      struct stat st;
      if (::stat(alias.c_str(), &st) != 0) {
        int e = errno;
        LOG("Failed to get module from path {}: {}\n", alias, std::strerror(e));
        return -ENOENT;
      }
      list.push_back(ctx->from_path(alias));
    } else {
      auto l = ctx->lookup(alias);
      if (!l || l->empty()) {
        LOG("Module {} not found in directory {}\n", alias, ctx->dirname());
        return -ENOENT;
      }
      list = *l;
    }
    unsigned flags = PROBE_APPLY_BLACKLIST_ALIAS_ONLY;
    if (strip_modversion || force) flags |= PROBE_FORCE_MODVERSION;
    if (strip_vermagic || force) flags |= PROBE_FORCE_VERMAGIC;
    if (ignore_commands) flags |= PROBE_IGNORE_COMMAND;
    if (ignore_loaded) flags |= PROBE_IGNORE_LOADED;
    if (dry_run) flags |= PROBE_DRY_RUN;
    if (use_blacklist) flags |= PROBE_APPLY_BLACKLIST;
    if (first_time) flags |= PROBE_FAIL_ON_LOADED;
    int err = 0;
    for (ProbeModule *m : list) {
      err = insmod_insert(m, flags, extra);
      if (err == 0 && explicit_load && hooks && !dry_run && !lookup_only) hooks->forget_on_demand(m->name);
    }
    return err;
  }

  // ---- removal: modprobe -r on the engine (lookup/remove-engine.h) ----

  int rmmod_module(ProbeModule *mod) {
    RemoveRequest req{.dry_run = dry_run, .first_time = first_time, .force = force,
                      .ignore_commands = ignore_commands, .ignore_loaded = ignore_loaded,
                      .remove_holders = remove_holders, .wait = std::chrono::milliseconds(wait_msec),
                      .log_priority = log_priority};
    RemoveEffects fx;
    fx.unload.remove = unload_module;
    if (hooks) {
      fx.unload.before = [&](const std::string &name) { hooks->before_unload(name); };
      fx.unload.after = [&](const std::string &name) { hooks->after_unload(name); };
    }
    fx.initstate = [&](const std::string &name) {
      auto st = module_initstate(roots, name);
      return st ? static_cast<int>(*st) : -ENOENT;
    };
    fx.refcnt = [&](const std::string &name) {
      auto r = module_refcnt(roots, name);
      return r ? static_cast<int>(*r) : -r.error().to_errno();
    };
    fx.holders = [&](const std::string &name) {
      auto h = module_holders(roots, name);
      return h ? *h : std::vector<std::string>{};
    };
    fx.run_command = [](const std::string &name, const std::string &cmd) {
      return run_module_command(name, cmd, {.environment = environ});
    };
    if (show_enabled())
      fx.show = [](const std::string &line) {
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fflush(stdout);
      };
    return execute_remove(*ctx, mod, req, fx, [&](int prio, const std::string &msg) { vlog(prio, msg); });
  }

  int rmmod(const std::string &alias) {
    auto l = ctx->lookup(alias);
    int err = 0;
    if (!l || l->empty()) {
      LOG("Module {} not found.\n", alias);
      err = -ENOENT;
    }
    if (l)
      for (ProbeModule *m : *l) {
        err = rmmod_module(m);
        if (err < 0) break;
      }
    return err;
  }
};

// modprobe.c options_from_array(): "k=v w" gets quoted as k="v w".
std::optional<std::string> options_from_array(char **args, int nargs) {
  std::optional<std::string> out;
  for (int i = 1; i < nargs; i++) {
    std::string a = args[i];
    if (!out) out.emplace();
    else out->push_back(' ');
    size_t eq = a.find('=');
    if (eq != std::string::npos) {
      std::string value = a.substr(eq + 1);
      if (!value.starts_with('"') && !value.starts_with('\'') && value.find(' ') != std::string::npos) {
        *out += a.substr(0, eq + 1) + "\"" + value + "\"";
        continue;
      }
    }
    *out += a;
  }
  return out;
}

int show_symbols(Modprobe &mp, const std::string &filename, bool exports) {
  struct stat st;
  if (::stat(filename.c_str(), &st) != 0) {
    mp.LOG("Module {} not found.\n", filename);
    return -ENOENT;
  }
  auto info = read_module(filename);
  if (!info) {
    int e = info.error().to_errno();
    mp.LOG("could not get {} of {}: {}\n", exports ? "symbols" : "modversions", filename, std::strerror(e));
    return -e;
  }
  std::string out;
  if (exports) {
    for (const ExportedSymbol &s : info->exports)
      out += fmt::format("0x{:08x}\t{}\n", s.crc.value_or(0), s.name);
  } else {
    for (const SymbolVersion &v : info->versions) out += fmt::format("0x{:08x}\t{}\n", v.crc, v.name);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

void env_modprobe_options_append(const char *value) {
  const char *old = std::getenv("MODPROBE_OPTIONS");
  if (!old) {
    setenv("MODPROBE_OPTIONS", value, 1);
    return;
  }
  std::string v = std::string(old) + " " + value;
  setenv("MODPROBE_OPTIONS", v.c_str(), 1);
}

}  // namespace

namespace {
int modprobe_run(int argc, char **argv);
}  // namespace

int modprobe_main(int argc, char **argv) {
  try {
    return modprobe_run(argc, argv);
  } catch (const Fatal &) {
    return EXIT_FAILURE;
  }
}

namespace {
int modprobe_run(int argc, char **argv) {
  const char *p = std::strrchr(argv[0], '/') ? std::strrchr(argv[0], '/') + 1 : argv[0];
  Modprobe mp;
  mp.log.prog = p;

  std::vector<std::string> env_args = modprobe_options_from_env();
  std::vector<char *> args;
  args.push_back(argv[0]);
  for (std::string &a : env_args) args.push_back(a.data());
  for (int i = 1; i < argc; i++) args.push_back(argv[i]);
  args.push_back(nullptr);
  int nargc = static_cast<int>(args.size()) - 1;

  std::vector<std::string> config_paths;
  const char *root = nullptr;
  const char *kversion = nullptr;
  bool show_cfg = false, use_all = false, do_remove = false, show_modversions = false, show_exports = false;
  bool autoclean = false;

  optind = 0;
  for (;;) {
    int idx = 0;
    int c = getopt_long(nargc, args.data(), short_options, long_options, &idx);
    if (c == -1) break;
    switch (c) {
    case 'a': mp.log_priority = P_WARNING; use_all = true; break;
    case 'r': do_remove = true; break;
    case OPT_REMOVE_HOLDERS: mp.remove_holders = true; break;
    case 'w': {
      char *endptr = nullptr;
      mp.wait_msec = std::strtoul(optarg, &endptr, 0);
      if (!*optarg || *endptr) {
        log_error(p, "unexpected wait value '{}'.\n", optarg);
        return EXIT_FAILURE;
      }
      break;
    }
    case OPT_FIRST_TIME: mp.first_time = true; break;
    case 'i': mp.ignore_commands = true; break;
    case 'b': mp.use_blacklist = true; break;
    case 'f': mp.force = true; break;
    case OPT_FORCE_MODVERSION: mp.strip_modversion = true; break;
    case OPT_FORCE_VERMAGIC: mp.strip_vermagic = true; break;
    case 'D': mp.ignore_loaded = mp.dry_run = mp.do_show = true; break;
    case 'R': mp.lookup_only = true; break;
    case 'c': show_cfg = true; break;
    case OPT_SHOW_MODVERSIONS: show_modversions = true; break;
    case OPT_SHOW_EXPORTS: show_exports = true; break;
    case 'n': mp.dry_run = true; break;
    case 'C':
      config_paths.emplace_back(optarg);
      env_modprobe_options_append("-C");
      env_modprobe_options_append(optarg);
      break;
    case 'd': root = optarg; break;
    case 'S': kversion = optarg; break;
    case 's': env_modprobe_options_append("-s"); mp.log.use_syslog = true; break;
    case 'q': env_modprobe_options_append("-q"); mp.log.priority = P_EMERG; break;
    case 'v': env_modprobe_options_append("-v"); mp.log.priority++; break;
    case 'V':
      print_kmod_version();
      return EXIT_SUCCESS;
    case 'h': help(p); return EXIT_SUCCESS;
    case OPT_AUTOCLEAN: autoclean = true; mp.log_priority = P_WARNING; use_all = true; break;  // NAME...: implies -a
    case '?': return EXIT_FAILURE;
    default:
      log_error(p, "unexpected getopt_long() value '{}'.\n", static_cast<char>(c));
      return EXIT_FAILURE;
    }
  }
  char **rest = args.data() + optind;
  int nargs = nargc - optind;

  if (mp.log.use_syslog) openlog(p, LOG_CONS, LOG_DAEMON);

  if (!show_cfg && nargs == 0) {
    mp.vlog(P_ERR, "missing parameters. See -h.\n");
    return EXIT_FAILURE;
  }

  std::string dirname;
  if (root || kversion) {
    std::string release = kversion ? kversion : running_release();
    dirname = std::string(root ? root : "") + "/lib/modules/" + release;
  } else {
    dirname = "/lib/modules/" + running_release();
  }
  dirname = absolute(dirname);

  if (show_cfg) return show_config(p, config_paths, dirname);

  ModprobeConfig cfg = load_config(config_paths, dirname);
  ProbeContext ctx(dirname, cfg, [&](const std::string &msg) { mp.vlog(P_WARNING, msg + "\n"); });
  mp.ctx = &ctx;

  // The kernel's request_module(): exactly "-q -- NAME" from a kernel thread.
  bool from_kernel = !autoclean && argc == 4 && std::strcmp(argv[1], "-q") == 0 && std::strcmp(argv[2], "--") == 0 &&
                     is_kernel_thread(mp.roots, static_cast<i64>(::getppid()));
  PersistHooks hooks = make_persist_hooks(mp.roots, mp.log.priority > DEFAULT_VERBOSE);
  if (!mp.dry_run && !mp.lookup_only && !show_modversions && !show_exports) mp.hooks = &hooks;
  // -n (not -D, whose output initramfs-tools parses, nor -R): the stored values a load would
  // get, from the store opened read-only.
  PersistHooks preview = make_persist_hooks(mp.roots, mp.log.priority > DEFAULT_VERBOSE);
  preview.set_read_only(true);
  if (mp.dry_run && !mp.ignore_loaded && !mp.lookup_only) mp.preview_hooks = &preview;
  mp.explicit_load = !autoclean && !from_kernel;
  // Record what one argument's load inserted, as on demand, when it was not explicit.
  auto record = [&](const std::string &alias) {
    if (mp.hooks && !mp.explicit_load) {
      if (from_kernel) {
        hooks.record_on_demand(mp.loaded_now, alias, "kernel", 0, "kernel");
      } else {
        i64 ppid = static_cast<i64>(::getppid());
        hooks.record_on_demand(mp.loaded_now, alias, "modprobe", ppid, process_comm(mp.roots, ppid));
      }
    }
    mp.loaded_now.clear();
  };

  int err;
  if (show_modversions) err = show_symbols(mp, rest[0], false);
  else if (show_exports) err = show_symbols(mp, rest[0], true);
  else if (do_remove) {
    err = 0;
    for (int i = 0; i < nargs; i++) {
      int r = mp.rmmod(rest[i]);
      if (r < 0) err = r;
    }
  } else if (use_all) {
    err = 0;
    for (int i = 0; i < nargs; i++) {
      int r = mp.insmod(rest[i], std::nullopt);
      if (r < 0) err = r;
      record(rest[i]);
    }
  } else {
    err = mp.insmod(rest[0], options_from_array(rest, nargs));
    record(rest[0]);
  }
  std::fflush(stdout);
  if (mp.log.use_syslog) closelog();
  return err >= 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

}  // namespace

}  // namespace kmx
