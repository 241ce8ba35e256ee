// ABI difference of two kernels as the module loader sees it: exports removed/added, CRCs
// changed, namespace moves, EXPORT_SYMBOL <-> EXPORT_SYMBOL_GPL changes, and the facts every
// module is checked against (struct module size, vermagic, modversions, module_layout CRC).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "compat/kernel-profile.h"

namespace kmx {

struct ExportChange {
  std::string symbol;
  std::string kind;  // "removed", "added", "crc", "namespace", "licence", "owner"
  std::string old_value, new_value;
};

struct FactChange {
  std::string fact;  // "struct module size", "vermagic", "modversions", "module_layout CRC", "release"
  std::string old_value, new_value;
};

struct AbiDiff {
  std::vector<FactChange> facts;
  std::vector<ExportChange> exports;  // sorted by symbol, then kind
  bool crcs_known = true;             // both sides have CRCs
  // When a side's vmlinux exports are not known (a module tree without Module.symvers or
  // System.map), an export missing there may be in its vmlinux: it is neither "removed" nor
  // "added" but counted here, and `notes` says which side lacks what.
  size_t not_comparable = 0;
  std::vector<std::string> notes;
  bool empty() const { return facts.empty() && exports.empty(); }
};

AbiDiff abi_diff(const KernelProfile &old_k, const KernelProfile &new_k);

std::string license_name(ExportLicense l);  // "EXPORT_SYMBOL", "EXPORT_SYMBOL_GPL", ...

}  // namespace kmx
