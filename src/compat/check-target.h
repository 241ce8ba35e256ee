// The kernels `kmx check` judges modules against, built from its target options: the target
// specs (a root and release, a module tree, files, or the running kernel's), their profiles,
// the profiles of --history kernels (whose release a headers path names), and the modules
// already loaded (--loaded), whose exports count as the kernel's.
//
// Nothing here reads the environment or the command line: the running kernel's release and
// the cache directory are the caller's (tools/common.h running_release, kmx_cache_dir).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "compat/kernel-profile.h"
#include "elf/module-info.h"

namespace kmx {

// The target options as given.
struct TargetRequest {
  std::vector<std::string> kernels;  // --kernels SPEC...: one profile each
  std::vector<std::string> targets;  // -t parts (joined with ",")
  std::vector<std::string> extra;    // --symvers, --system-map, --config files: added to every spec
  std::string basedir;               // -b
  std::string release;               // -k
  std::string running_release;       // the running kernel's (uname -r), for the defaults
  std::string cache_dir;             // tree facts and kernel-image certificates; "" = none
};

struct CheckTargets {
  std::vector<std::string> specs;       // per profile, as loaded
  std::vector<KernelProfile> profiles;
  bool running = false;                 // no target option: the running kernel's files
  std::string release;                  // picks the directory under lib/modules of a single
                                        // spec's root (-k, or the running kernel's by default)
};

// The specs the options name. Without --kernels: -t parts; a root alone (-b: its only release);
// -b/-k (ROOT/lib/modules/REL, or the module tree itself when ROOT has no lib/modules/REL); or,
// with no option, /lib/modules/REL plus /boot/config-REL and /boot/System.map-REL where present.
CheckTargets check_target_specs(const TargetRequest &req);
// check_target_specs() and each spec's profile (load_profile); the first failure is returned.
Result<CheckTargets> load_check_targets(const TargetRequest &req);

// The release a headers path names: ".../linux-headers-6.1.0-9-amd64/Module.symvers" ->
// "6.1.0-9-amd64" (the nearest such directory); "" when none does.
std::string release_from_headers_path(std::string_view path);
// A --history profile. A bare headers Module.symvers names no release; its directory does, and
// the history needs the version.
Result<KernelProfile> load_history_profile(const std::string &spec, const std::string &cache_dir);

// A module file that is loaded already: its name joins the loaded set (and the proprietary set
// when its licence taints P), and its exports join every profile's, unless the kernel exports
// that name itself (a duplicate would not have loaded). An out-of-tree module is in no
// Module.symvers, so this is how a module depending on it resolves.
void add_loaded_module(const ModuleInfo &m, const std::string &path, TargetState &state,
                       std::vector<KernelProfile> &profiles);
// A /proc/modules listing (`text`, read from the file `what`) of the modules loaded already:
// each name joins the loaded set, and the proprietary set when the kernel shows taint P. A
// malformed line is an error naming `what` and the line.
Status add_loaded_list(std::string_view text, const std::string &what, TargetState &state);

}  // namespace kmx
