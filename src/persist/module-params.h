// Module parameters that outlive an unload: what to save from sysfs before kmx unloads a
// module, and what to hand back to the kernel when it loads again.
//
// Source: /sys/module/NAME/parameters/KEY (kernel/params.c: one file per parameter, mode from
// module_param's perm; a write bit means the value can change at runtime, so only those are
// worth saving). Values read back end in '\n', which is dropped. Load options use the kernel's
// parse_args() syntax: space-separated KEY[=VALUE], a value may be double-quoted, and '-' and
// '_' are the same character in a parameter name (parameq()).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "persist/persist-store.h"

namespace kmx {

// The writable, readable parameters of a loaded module, by name. A module without a
// parameters directory has none (an empty map); a module that is not loaded
// (<sys>/module/NAME missing) is Errc::not_found.
Result<std::map<std::string, std::string>> read_writable_params(const std::string &sys_root, const std::string &module);

// Snapshot the module's writable parameters into the store (before an unload).
Status save_module_params(PersistStore &store, const std::string &sys_root, const std::string &module);

// Parameter names a load's option string sets, normalised ('-' -> '_').
std::vector<std::string> option_names(std::string_view options);

// The stored entries to apply on the next load, as "KEY=VALUE" option words (quoted when the
// value holds spaces), leaving out those the load names itself. `module_params`, when not
// empty, lists the parameters the module file declares (modinfo parm); 'user' entries are only
// applied when they name one of them, 'param' entries always. A value holding '"' is left out:
// the kernel's parser (next_arg) has no escapes, so no load could pass it.
std::vector<std::string> params_to_apply(const std::vector<PersistEntry> &stored, std::string_view load_options,
                                         const std::vector<std::string> &module_params);

// The parameters the module file at `module_path` declares (the names of its modinfo
// 'parmtype' and 'parm' entries: a module_param_cb() parameter has only the latter); empty
// when the file cannot be read.
std::vector<std::string> declared_params(const std::string &module_path);

// The one rule for what a load gets back from the store, shared by kmx modprobe, the daemon and
// `kmx persist apply` (each joins the words to the load's options with the loading engine,
// lookup/load-engine.h): the module's stored entries the load does not name itself ('param'
// entries always; 'user' entries only for parameters the module file declares), as option
// words. With `module_path` nullopt (the file is not known) every 'user' entry is included.
// The words go to the kernel as they are; an install command's shell gets only those with no
// character a shell would read (lookup/load-engine.h command_options).
Result<std::vector<std::string>> stored_to_apply(PersistStore &store, std::string_view module,
                                                 const std::optional<std::string> &module_path, std::string_view load_options);

}  // namespace kmx
