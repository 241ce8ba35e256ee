// Module resolution for modprobe: libkmod's module objects, lookups, dependency lists,
// softdeps and the probe list, modelled closely enough that `modprobe --show-depends`,
// `-R`, `-n -v` and real loads visit modules in kmod 30's order, duplicates included.
//
// What is modelled from libkmod (kmod 30, libkmod-module.c / libkmod.c):
//   * A module object is identified by a key: its name when created by name (modules.dep
//     line, builtin index, install/remove command, path), "NAME\ALIAS" when created from an
//     alias (config alias pattern or index alias). Objects with different keys are
//     different modules for the visited/required/ignorecmd flags of the probe list, which
//     is why kmod can list a module twice (softdep loops).
//   * kmod_module_new_from_lookup(): config aliases (fnmatch, all matches), modules.dep.bin,
//     modules.symbols.bin ("symbol:" only), install then remove commands (exact name),
//     modules.alias.bin (search_wild order), modules.builtin.bin,
//     modules.builtin.alias.bin; the first source that yields something wins.
//   * Indexes are opened once per context (kmod_load_resources). Like libkmod there is no
//     text fallback for lookups: a missing .bin means "not found". A corrupt .bin is also
//     "not found" for kmod; kmx additionally reports it once through `warn`.
//   * Dependencies: modules.dep.bin line, in reverse order (libkmod prepends).
//   * Probe list (kmod_module_get_probe_list): for each dependency its pre softdeps, itself,
//     its post softdeps; then the module the same way (or alone with IGNORE_COMMAND).
//   * forbid (kmx): a module whose name is forbidden is never loaded, by any path.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/modprobe-config.h"
#include "index/trie-index.h"

namespace kmx {

struct ProbeModule {
  std::string key;
  std::string name;
  std::optional<std::string> alias;
  std::optional<std::string> path;  // absolute; set from modules.dep or by the caller
  bool dep_init = false;
  std::vector<ProbeModule *> deps;  // load order (modules.dep reversed)
  int builtin = -1;                 // -1 unknown, 0 no, 1 yes
  bool install_set = false;         // install command fixed by the commands lookup
  const std::string *install_cmd = nullptr;
  bool remove_set = false;
  const std::string *remove_cmd = nullptr;
  // probe-list state
  bool visited = false, required = false, ignorecmd = false;
};

class ProbeContext {
public:
  // dirname: /lib/modules/VERSION (absolute). warn receives one-line problems (corrupt
  // index files) that kmod would silently treat as "not found".
  ProbeContext(std::string dirname, const ModprobeConfig &cfg,
               std::function<void(const std::string &)> warn = {});
  ~ProbeContext();

  const std::string &dirname() const { return dirname_; }
  const ModprobeConfig &config() const { return cfg_; }

  // kmod_module_new_from_lookup(); nullopt when the alias is invalid (unbalanced [ ]).
  std::optional<std::vector<ProbeModule *>> lookup(const std::string &given);
  // kmod_module_new_from_path(): the name from the basename, the path as given made absolute.
  ProbeModule *from_path(const std::string &path);
  ProbeModule *from_name(const std::string &name);
  // kmod_module_new_from_name_lookup(): modules.dep, then modules.builtin, then the first
  // module of modules.builtin.alias; nullptr when none knows the name.
  ProbeModule *name_lookup(const std::string &name);

  const std::string *path(ProbeModule *m);
  const std::vector<ProbeModule *> &dependencies(ProbeModule *m);
  bool is_builtin(ProbeModule *m);
  std::string options(const ProbeModule *m) const;  // kmod_module_get_options
  const std::string *install_command(ProbeModule *m);
  const std::string *remove_command(ProbeModule *m);
  void softdeps(ProbeModule *m, std::vector<ProbeModule *> &pre, std::vector<ProbeModule *> &post);
  bool is_blacklisted(const ProbeModule *m) const;
  bool is_forbidden(const ProbeModule *m) const;
  // Why `m`, loaded for `top`, is refused: "forbidden by a 'forbid NAME' line in the kmx
  // configuration (needed by 'TOP')". One text for modprobe and the daemon.
  static std::string forbidden_reason(const ProbeModule *m, const ProbeModule *top);

  // kmod_module_get_probe_list(mod, ignorecmd): resets every module's flags first.
  std::vector<ProbeModule *> probe_list(ProbeModule *m, bool ignorecmd);

  // Every module object created so far (for tests).
  size_t module_count() const { return pool_.size(); }

private:
  struct Index;
  Index *index(int which);
  std::optional<std::string> search_moddep(const std::string &name);
  ProbeModule *new_module(const std::string &key, const std::string &name,
                          std::optional<std::string> alias);
  ProbeModule *from_alias(const std::string &alias, const std::string &name);
  void parse_depline(ProbeModule *m, const std::string &line);
  void alias_bin(int which, const std::string &name, std::vector<ProbeModule *> &out);
  void get_probe_list(ProbeModule *m, bool required, bool ignorecmd, std::vector<ProbeModule *> &out);
  void fill_softdep(ProbeModule *m, std::vector<ProbeModule *> &out);

  std::string dirname_;
  const ModprobeConfig &cfg_;
  std::function<void(const std::string &)> warn_;
  std::unordered_map<std::string, std::unique_ptr<ProbeModule>> pool_;
  std::vector<std::unique_ptr<Index>> indexes_;
};


}  // namespace kmx
