// Helpers shared by the lookups of modinfo and modprobe (lookup/probe.h does the lookups
// themselves, in libkmod's order and through the .bin indexes only, as libkmod does).
//
// modules.builtin.modinfo, written by the kernel build: the .modinfo strings of every builtin
// module, each "MODNAME.key=value" and NUL-terminated, modules in build order.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace kmx {

// The .modinfo strings ("key=value") of builtin module `name`, from
// DIR/modules.builtin.modinfo, in file order. Errors when the file cannot be read.
Result<std::vector<std::string>> read_builtin_modinfo(const std::string &dir, const std::string &name);

// kmod's alias_normalize(): '-' -> '_' outside [...] character classes. nullopt if a '[' is
// not closed.
std::optional<std::string> normalize_alias(const std::string &alias);

}  // namespace kmx
