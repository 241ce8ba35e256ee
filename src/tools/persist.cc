// kmx persist: edit the store of module settings that outlive an unload (the old
// kerneld's set_persist/get_persist).
//
//   kmx persist [--db PATH] get MODULE.KEY | MODULE
//   kmx persist [--db PATH] set MODULE.KEY VALUE | MODULE KEY=VALUE...
//   kmx persist [--db PATH] list [MODULE]
//   kmx persist [--db PATH] rm MODULE.KEY | MODULE
//   kmx persist [--db PATH] save MODULE [--sys DIR]   snapshot writable parameters now
//   kmx persist [--db PATH] [-d DIR] [-S VER] apply MODULE [OPTIONS]
//                                                     options a load would get (preview; the
//                                                     module file is found in DIR/lib/modules/VER)
//   kmx persist [--db PATH] check                     integrity_check + invariants
//   kmx persist [--db PATH] ondemand [--all]          the on-demand record (this boot's)
//
// The store is --db, else $KMX_PERSIST_DB, else kmx.conf's persist-db (config/kmx-config.h),
// else /var/lib/kmx/persist.db. Exit codes: 0 done,
// 1 not found / failed, 2 usage error.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "config/kmx-config.h"
#include "lookup/load-engine.h"
#include "lookup/probe.h"
#include "persist/module-params.h"
#include "persist/ondemand.h"
#include "persist/persist-store.h"
#include "tools/common.h"
#include "tools/tools.h"

namespace kmx {
namespace {

constexpr const char *kUsage =
    "Usage: kmx persist [--db PATH] COMMAND\n"
    "Commands:\n"
    "  get MODULE.KEY | MODULE          print a value (or all of a module's, KEY=VALUE)\n"
    "  set MODULE.KEY VALUE             set one key\n"
    "  set MODULE KEY=VALUE...          set several keys in one transaction\n"
    "  list [MODULE]                    MODULE.KEY=VALUE lines (--long: kind and time)\n"
    "  rm MODULE.KEY | MODULE           remove a key or all of a module's keys\n"
    "  save MODULE [--sys DIR]          store the module's writable parameters now\n"
    "  apply MODULE [OPTIONS...]        print the options the next load of MODULE gets\n"
    "                                   (-d DIR, -S VERSION: where its module file is, as modprobe)\n"
    "  check                            verify the store (integrity and invariants)\n"
    "  ondemand [--all]                 modules loaded on demand in this boot (--all: any boot)\n";

// fmt holds at most one %s, filled with arg.
int usage_error(const char *fmt, const char *arg = "") {
  std::string msg = fmt;
  if (auto at = msg.find("%s"); at != std::string::npos) msg.replace(at, 2, arg);
  return kmx_usage_error("kmx persist", msg, kUsage);
}

int report(const Error &e) {
  std::fprintf(stderr, "kmx persist: ERROR: %s\n", e.msg.c_str());
  return e.code == Errc::invalid_argument ? 2 : 1;
}

struct ModKey {
  std::string module;
  std::string key;  // empty: the whole module
};

// Where `module` stands in the tree DIR (lib/modules/REL), looked up by name as modprobe does:
// its file, or "builtin", or nothing.
struct ModuleInTree {
  std::optional<std::string> path;
  bool builtin = false;
};
ModuleInTree find_in_tree(const std::string &dir, const std::string &module) {
  ModprobeConfig no_config;
  ProbeContext ctx(dir, no_config);
  ModuleInTree out;
  if (ProbeModule *m = ctx.name_lookup(module)) {
    if (const std::string *p = ctx.path(m)) out.path = *p;
    else out.builtin = ctx.is_builtin(m);
  }
  return out;
}

Result<ModKey> split_mod_key(std::string_view arg) {
  ModKey mk;
  auto dot = arg.find('.');
  mk.module = std::string(arg.substr(0, dot));
  for (char &c : mk.module)
    if (c == '-') c = '_';
  TRY(validate_module_name(mk.module));
  if (dot != std::string_view::npos) {
    mk.key = std::string(arg.substr(dot + 1));
    TRY(validate_key(mk.key));
  }
  return mk;
}

Result<PersistStore> open_store(const std::string &path, OpenMode mode) {
  auto s = PersistStore::open(path, mode, store_dir_policy(path));
  if (!s && mode == OpenMode::read_only && s.error().code == Errc::not_found)
    return fail(Errc::not_found, "no store at '" + path + "' (nothing saved yet)");
  return s;
}

void print_entry(const PersistEntry &e, bool with_module, bool long_form) {
  if (long_form) {
    // When it was stored, in local time (ISO 8601 with the UTC offset).
    char when[40] = "?";
    std::time_t t = static_cast<std::time_t>(e.updated);
    struct tm tm;
    if (localtime_r(&t, &tm)) std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S%z", &tm);
    std::printf("%-5s %s ", e.kind == EntryKind::param ? "param" : "user", when);
  }
  if (with_module) std::printf("%s.", e.module.c_str());
  std::printf("%s=%s\n", e.key.c_str(), e.value.c_str());
}

}  // namespace

int persist_main(int argc, char **argv) {
  // The store named by kmx.conf ($KMX_PERSIST_DB included); a kmx.conf that does not parse is
  // an error, as for every reader of it (a store chosen by a broken file would be a guess).
  auto cfg = load_kmx_config_from_env();
  if (!cfg) {
    std::fprintf(stderr, "kmx persist: ERROR: %s\n", cfg.error().msg.c_str());
    return 2;
  }
  std::string db = cfg->persist_db;
  std::string sys_root = "/sys", root, kversion;
  bool long_form = false, all_boots = false;
  std::vector<std::string> args;
  for (int i = 1; i < argc; i++) {
    std::string_view a = argv[i];
    if (a == "--db" || a == "--sys") {
      if (i + 1 >= argc) return usage_error("%s needs an argument", argv[i]);
      (a == "--db" ? db : sys_root) = argv[++i];
    } else if (a == "-d" || a == "--dirname" || a == "-S" || a == "--set-version") {
      if (i + 1 >= argc) return usage_error("%s needs an argument", argv[i]);
      (a == "-d" || a == "--dirname" ? root : kversion) = argv[++i];
    } else if (a.rfind("--db=", 0) == 0) {
      db = std::string(a.substr(5));
    } else if (a.rfind("--sys=", 0) == 0) {
      sys_root = std::string(a.substr(6));
    } else if (a == "--long" || a == "-l") {
      long_form = true;
    } else if (a == "--all") {
      all_boots = true;
    } else if (a == "-V" || a == "--version") {
      return print_kmx_version();
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--") {
      for (i++; i < argc; i++) args.emplace_back(argv[i]);
    } else if (a.size() > 1 && a[0] == '-' && args.empty()) {
      return usage_error("unknown option '%s'", argv[i]);
    } else {
      args.emplace_back(a);
    }
  }
  if (args.empty()) return usage_error("no command given");
  const std::string cmd = args[0];
  const size_t nargs = args.size() - 1;

  if (cmd == "get") {
    if (nargs != 1) return usage_error("get takes MODULE.KEY or MODULE");
    auto mk = split_mod_key(args[1]);
    if (!mk) return report(mk.error());
    auto store = open_store(db, OpenMode::read_only);
    if (!store) return report(store.error());
    if (mk->key.empty()) {
      auto all = store->list(mk->module);
      if (!all) return report(all.error());
      if (all->empty()) {
        std::fprintf(stderr, "kmx persist: %s has no stored keys\n", mk->module.c_str());
        return 1;
      }
      for (const PersistEntry &e : *all) print_entry(e, false, long_form);
      return 0;
    }
    auto v = store->get(mk->module, mk->key);
    if (!v) return report(v.error());
    if (!*v) {
      std::fprintf(stderr, "kmx persist: %s.%s is not set\n", mk->module.c_str(), mk->key.c_str());
      return 1;
    }
    std::printf("%s\n", (*v)->c_str());
    return 0;
  }

  if (cmd == "set") {
    if (nargs < 2) return usage_error("set takes MODULE.KEY VALUE or MODULE KEY=VALUE...");
    auto mk = split_mod_key(args[1]);
    if (!mk) return report(mk.error());
    std::vector<std::pair<std::string, std::string>> kv;
    if (!mk->key.empty()) {
      if (nargs != 2) return usage_error("set MODULE.KEY takes exactly one VALUE (quote it if it has spaces)");
      kv.emplace_back(mk->key, args[2]);
    } else {
      for (size_t i = 2; i < args.size(); i++) {
        auto eq = args[i].find('=');
        if (eq == std::string::npos) return usage_error("'%s' is not KEY=VALUE", args[i].c_str());
        kv.emplace_back(args[i].substr(0, eq), args[i].substr(eq + 1));
      }
    }
    // The kernel's parameter parser (next_arg) takes a double-quoted value without escapes:
    // a value holding '"' can never reach a module, so it is refused here, not at the next load.
    for (const auto &[k, v] : kv)
      if (v.find('"') != std::string::npos)
        return usage_error("the value of '%s' contains '\"', which no module parameter can be given", k.c_str());
    auto store = open_store(db, OpenMode::read_write);
    if (!store) return report(store.error());
    // The store opens first (its errors are the one line a script sees). The names must be parameters the module declares (modinfo parmtype) in the trees
    // installed (-S: that release only). A module in no tree is stored with a warning: a DKMS
    // module may not be built yet.
    std::vector<std::string> releases;
    std::string base = root + "/lib/modules";
    if (!kversion.empty()) {
      releases.push_back(kversion);
    } else {
      std::error_code ec;
      for (const auto &d : std::filesystem::directory_iterator(base, ec))
        if (d.is_directory(ec)) releases.push_back(d.path().filename().string());
      std::sort(releases.begin(), releases.end());
    }
    std::set<std::string> declared;
    std::vector<std::string> found_in, builtin_in;
    for (const auto &rel : releases) {
      ModuleInTree found = find_in_tree(module_dir(root, rel), mk->module);
      if (found.path) {
        found_in.push_back(rel);
        for (auto &d : declared_params(*found.path)) declared.insert(std::move(d));
      } else if (found.builtin) {
        builtin_in.push_back(rel);
      }
    }
    if (found_in.empty() && !builtin_in.empty())
      std::fprintf(stderr,
                   "kmx persist: WARNING: %s is built into the kernel (%s): stored values never reach it; give them "
                   "on the kernel command line (%s.KEY=VALUE)\n",
                   mk->module.c_str(), builtin_in[0].c_str(), mk->module.c_str());
    else if (found_in.empty())
      std::fprintf(stderr,
                   "kmx persist: WARNING: %s is in no installed tree (%s/*): stored without checking its parameters\n",
                   mk->module.c_str(), base.c_str());
    for (const auto &[k, v] : kv) {
      std::string key = k;
      std::replace(key.begin(), key.end(), '-', '_');
      if (!found_in.empty() && !declared.contains(key)) {
        std::string list;
        for (const auto &d : declared) list += (list.empty() ? "" : ", ") + d;
        std::fprintf(stderr, "kmx persist: ERROR: module %s (%s) has no parameter '%s'%s%s\n", mk->module.c_str(),
                     found_in.back().c_str(), k.c_str(), list.empty() ? ": it declares none" : "; it declares: ",
                     list.c_str());
        return 2;
      }
    }
    auto r = store->set(mk->module, kv);
    if (!r) return report(r.error());
    return 0;
  }

  if (cmd == "list") {
    if (nargs > 1) return usage_error("list takes at most one MODULE");
    std::string module;
    if (nargs == 1) {
      auto mk = split_mod_key(args[1]);
      if (!mk) return report(mk.error());
      if (!mk->key.empty()) return usage_error("list takes a MODULE, not MODULE.KEY");
      module = mk->module;
    }
    auto store = open_store(db, OpenMode::read_only);
    if (!store) {
      // An empty listing, not an error: nothing was ever stored.
      if (store.error().code == Errc::not_found) return 0;
      return report(store.error());
    }
    auto all = store->list(module);
    if (!all) return report(all.error());
    for (const PersistEntry &e : *all) print_entry(e, true, long_form);
    return 0;
  }

  if (cmd == "rm") {
    if (nargs != 1) return usage_error("rm takes MODULE.KEY or MODULE");
    auto mk = split_mod_key(args[1]);
    if (!mk) return report(mk.error());
    auto store = open_store(db, OpenMode::read_write);
    if (!store) return report(store.error());
    auto n = store->remove(mk->module, mk->key);
    if (!n) return report(n.error());
    if (*n == 0) {
      std::fprintf(stderr, "kmx persist: %s%s%s is not set\n", mk->module.c_str(), mk->key.empty() ? "" : ".", mk->key.c_str());
      return 1;
    }
    return 0;
  }

  if (cmd == "save") {
    if (nargs != 1) return usage_error("save takes one MODULE");
    auto mk = split_mod_key(args[1]);
    if (!mk) return report(mk.error());
    if (!mk->key.empty()) return usage_error("save takes a MODULE, not MODULE.KEY");
    auto store = open_store(db, OpenMode::read_write);
    if (!store) return report(store.error());
    auto r = save_module_params(*store, sys_root, mk->module);
    if (!r) return report(r.error());
    return 0;
  }

  if (cmd == "apply") {
    if (nargs < 1) return usage_error("apply takes MODULE [OPTIONS...]");
    auto mk = split_mod_key(args[1]);
    if (!mk) return report(mk.error());
    std::string opts;
    for (size_t i = 2; i < args.size(); i++) opts += (opts.empty() ? "" : " ") + args[i];
    auto store = open_store(db, OpenMode::read_only);
    if (!store) {
      if (store.error().code != Errc::not_found) return report(store.error());
      std::printf("%s\n", opts.c_str());
      return 0;
    }
    // The module file decides which 'user' entries are parameters; without it they all show.
    std::string dir = module_dir(root, kversion.empty() ? running_release() : kversion);
    std::optional<std::string> path = find_in_tree(dir, mk->module).path;
    auto entries = store->list(mk->module);
    if (!entries) return report(entries.error());
    bool any_user = std::any_of(entries->begin(), entries->end(), [](const PersistEntry &e) { return e.kind == EntryKind::user; });
    if (!path && any_user)
      std::fprintf(stderr, "kmx persist: WARNING: %s not found in %s: its 'user' entries are shown without checking that it declares them\n",
                   mk->module.c_str(), dir.c_str());
    auto words = stored_to_apply(*store, mk->module, path, opts);
    if (!words) return report(words.error());
    std::printf("%s\n", insert_options(*words, opts).c_str());
    return 0;
  }

  if (cmd == "check") {
    if (nargs != 0) return usage_error("check takes no arguments");
    auto store = open_store(db, OpenMode::read_only);
    if (!store) return report(store.error());
    auto problems = store->check();
    if (!problems) return report(problems.error());
    for (const std::string &p : *problems) std::fprintf(stderr, "kmx persist: %s: %s\n", db.c_str(), p.c_str());
    return problems->empty() ? 0 : 1;
  }

  if (cmd == "ondemand") {
    if (nargs != 0) return usage_error("ondemand takes no arguments");
    auto store = open_store(db, OpenMode::read_only);
    if (!store) {
      if (store.error().code == Errc::not_found) return 0;  // nothing recorded yet
      return report(store.error());
    }
    KernelRoots roots;
    std::string boot = current_boot_id(roots);
    auto recs = on_demand_records(*store, all_boots ? std::string() : boot);
    if (!recs) return report(recs.error());
    // One record a line: MODULE alias=... source=... pid=... comm=... loaded=UNIX [boot=ID]
    for (const OnDemandRecord &r : *recs)
      std::printf("%s alias=%s source=%s pid=%lld comm=%s loaded=%lld%s%s\n", r.module.c_str(), r.alias.c_str(),
                  r.source.c_str(), static_cast<long long>(r.pid), r.comm.c_str(), static_cast<long long>(r.loaded),
                  all_boots ? " boot=" : "", all_boots ? r.boot_id.c_str() : "");
    return 0;
  }

  return usage_error("unknown command '%s'", cmd.c_str());
}

}  // namespace kmx
