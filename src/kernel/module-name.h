// Module names as the kernel and kmod spell them: a file name or user-given name is cut at
// the first '.' and its '-' become '_' (kmod's modname_normalize / path_to_modname), which
// is the name /proc/modules and /sys/module use.
#pragma once

#include <string>
#include <string_view>

namespace kmx {

std::string normalize_module_name(std::string_view name);
// The module name of a file path: its basename, normalized. Empty for a path ending in '/'.
std::string module_name_from_path(std::string_view path);

}  // namespace kmx
