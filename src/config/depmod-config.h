// depmod.d configuration (kmod 30 tools/depmod.c cfg_*), parsed with kmod's precedence.
//
// Files: every "*.conf" in /etc/depmod.d, /run/depmod.d, /usr/local/lib/depmod.d and
// /lib/depmod.d (or the -C paths instead), sorted by basename across all directories; a
// basename seen in an earlier directory hides later ones. Directives, one per line (a
// trailing backslash joins lines; '#' starts a comment only in column 0):
//   search DIR|built-in|external ...   search order, earlier = higher priority
//   override MODULE KVER-REGEX SUBDIR  MODULE from SUBDIR wins regardless of search
//   external KVER-REGEX DIR            extra module directory (ranked where "external" is)
//   exclude DIR ...                    directory names skipped while scanning
//   include / make_map_files           accepted and ignored (kmod: "not implemented yet")
// KVER-REGEX is "*" or a POSIX extended regex searched in the kernel version.
//
// Lists are kept in kmod's internal order: each directive is pushed at the head of its
// list, so they read in reverse file order; the priority rules in graph/ depend on that.
#pragma once

#include <string>
#include <vector>

#include "base/diag.h"

namespace kmx {

enum class SearchType { path, builtin, external };

struct DepmodSearch {
  SearchType type = SearchType::path;
  std::string path;  // for SearchType::path
};

struct DepmodConfig {
  std::vector<DepmodSearch> searches;   // kmod list order (reverse of the files)
  std::vector<std::string> overrides;   // "SUBDIR/MODNAME", kmod list order
  std::vector<std::string> externals;   // kmod list order
  std::vector<std::string> excludes;
};

extern const std::vector<std::string> default_depmod_config_paths;

// Diagnostics use kmod's words: errors ("FILE:LINE: ignoring bad line starting with 'X'")
// as Severity::error, informational notes as Severity::info.
DepmodConfig load_depmod_config(const std::vector<std::string> &paths, const std::string &kversion, Diag &diag);

// Parse one file's text into cfg (exposed for tests and the fuzzer).
void parse_depmod_config_text(DepmodConfig &cfg, const std::string &filename, std::string_view text,
                              const std::string &kversion, Diag &diag);

}  // namespace kmx
