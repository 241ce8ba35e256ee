// Directory helpers for kmx's own state (the persistence store, the control socket).
#pragma once

#include <string>

#include "base/result.h"

namespace kmx {

// mkdir -p, creating every missing directory with mode 0700 (existing ones are left as they
// are). The error names the directory that could not be created.
Status make_private_dirs(const std::string &dir);

}  // namespace kmx
