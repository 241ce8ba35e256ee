// /proc/modules: the kernel's list of loaded modules, one line per module, newest first:
//
//   NAME SIZE REFCNT USERS STATE ADDRESS [TAINTS]
//   kmx_lab_a 16384 1 kmx_lab_b, Live 0xffffffffc0a1b000 (OE)
//
// USERS is "-" or a list of module names each followed by ',' (the modules that use this
// one); REFCNT is "-" when the kernel has no module unloading; STATE is Live, Loading or
// Unloading; ADDRESS reads 0x0000000000000000 without CAP_SYSLOG; TAINTS is optional
// ("(OE)"). Source: kernel/module/procfs.c m_show().
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/types.h"

namespace kmx {

struct LoadedModule {
  std::string name;
  i64 size = 0;
  i64 refcnt = -1;  // -1: the kernel printed "-" (no unload support)
  std::vector<std::string> users;
  std::string state;    // "Live", "Loading", "Unloading"
  std::string address;  // as printed
  std::string taints;   // without the parentheses; empty if none
};

// Parse the text of /proc/modules; a malformed line is an error naming its line number.
Result<std::vector<LoadedModule>> parse_proc_modules(std::string_view text);

}  // namespace kmx
