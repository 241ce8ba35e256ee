// Finding modules by name or alias in a module directory (/lib/modules/VERSION), in the
// order kmod_module_new_from_lookup() tries its sources: modules.dep (a module name),
// modules.symbols ("symbol:NAME"), modules.alias (fnmatch patterns), modules.builtin, and
// the builtin aliases of modules.builtin.modinfo. The first source that yields anything wins.
//
// Like kmod, the .bin tries that depmod writes are the source (modules.dep.bin,
// modules.symbols.bin, modules.alias.bin, modules.builtin.bin, modules.builtin.alias.bin);
// where a .bin file is absent, its text twin is read instead. modprobe.d aliases and install
// commands are not consulted yet.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace kmx {

struct FoundModule {
  std::string name;      // normalised module name
  std::string path;      // absolute path of the .ko, empty for a builtin module
  bool builtin = false;
};

class ModuleDir {
public:
  explicit ModuleDir(std::string dir) : dir_(std::move(dir)) {}
  const std::string &dir() const { return dir_; }

  // kmod_module_new_from_lookup(): alias, symbol or name.
  std::vector<FoundModule> lookup(const std::string &alias) const;
  // kmod_module_new_from_name_lookup(): modules.dep, then builtin names, then builtin aliases.
  std::optional<FoundModule> lookup_name(const std::string &name) const;

  // The .modinfo strings ("key=value") of a builtin module, from modules.builtin.modinfo.
  Result<std::vector<std::string>> builtin_modinfo(const std::string &name) const;

private:
  std::optional<FoundModule> from_moddep(const std::string &name) const;
  std::optional<FoundModule> from_builtin(const std::string &name) const;
  std::vector<FoundModule> from_alias_index(const std::string &file, const std::string &alias) const;
  std::vector<FoundModule> from_alias_file(const std::string &file, const std::string &alias, bool exact) const;
  std::vector<FoundModule> from_builtin_aliases(const std::string &alias) const;
  FoundModule module_by_name(const std::string &name) const;

  std::string dir_;
};

// kmod's alias_normalize(): '-' -> '_' outside [...] character classes. nullopt if a '[' is
// not closed.
std::optional<std::string> normalize_alias(const std::string &alias);

}  // namespace kmx
