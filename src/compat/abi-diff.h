// ABI difference of two kernels as the module loader sees it: exports removed/added, CRCs
// changed, namespace moves, EXPORT_SYMBOL <-> EXPORT_SYMBOL_GPL changes, and the facts every
// module is checked against (struct module size, vermagic, modversions, module_layout CRC).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "btf/btf-diff.h"
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

// Why exports changed, from the two kernels' BTF (btf/btf-diff.h). Every export both kernels
// have is compared: vmlinux's in the vmlinux BTFs (KernelProfile::btf_file), a module's in its
// module's split BTF over them.
struct ExplainedExport {
  std::string symbol, owner;
  std::string old_crc, new_crc;          // "0x..." or "" when unknown
  // "type changed" (causes found), "no type change" (BTF on both sides, the types are equal),
  // "no BTF" (a side has no BTF for it: assembly, most variables, a module without .BTF).
  std::string category;
  std::string no_btf;                    // for "no BTF": which side lacks what
  std::vector<u32> causes;               // into AbiExplanation::changes: every cause it reaches
  std::vector<u32> nearest;              // the causes nearest to its declaration (BtfDiff::nearest)
  size_t depth = 0;                      // how far those are
  std::vector<std::pair<u32, std::vector<std::string>>> paths;  // nearest causes first (capped)
};

struct CauseGroup {
  u32 change = 0;                        // into AbiExplanation::changes
  size_t nearest = 0;                    // changed exports whose nearest cause it is (one of)
  size_t crc_exports = 0;                // changed exports (CRC, or type without CRCs) that reach it
  size_t silent_nearest = 0;             // silent exports whose nearest cause it is
  size_t silent_exports = 0;             // silent exports that reach it
  std::vector<std::string> example;      // the path from one of them
};

struct AbiExplanation {
  std::string old_btf, new_btf;          // where each side's BTF came from
  bool crcs = true;                      // both kernels have CRCs
  std::vector<TypeChange> changes;       // every root cause found
  std::vector<MovedMember> moved;        // members moved by other changes (detail)
  // CRC changed (with CRCs) or type changed (without): each with its category.
  std::vector<ExplainedExport> changed;
  // CRC unchanged but a type behind it changed: what modversions could not see.
  std::vector<ExplainedExport> silent;
  std::vector<CauseGroup> groups;        // by cause: most changed exports it is nearest for first
  size_t compared = 0;                   // exports with BTF on both sides
  std::vector<std::string> notes;        // modules whose BTF could not be read, ...
  size_t count(const std::string &category) const;
};

struct ExplainOptions {
  std::string cache_dir;                 // for the vmlinux BTF of kernel images ("" = none)
  size_t max_paths = 3;                  // paths kept per export
};

// Errc::no_data when a side has no BTF source (no image, vmlinux or BTF file).
Result<AbiExplanation> explain_abi_diff(const AbiDiff &d, const KernelProfile &old_k, const KernelProfile &new_k,
                                        const ExplainOptions &opts = {});

std::string license_name(ExportLicense l);  // "EXPORT_SYMBOL", "EXPORT_SYMBOL_GPL", ...

// The type changes behind one CRC mismatch (kmx check's F4 hint, and D2's for module_layout):
// between the kernel a module was built for, the --history kernel whose CRC of the symbol is the
// module's, and the target, when both kernels' BTF is known (KernelProfile::btf_file). Lines of
// the form "struct x: member y added (...), via sym(...) -> ... -> struct x", the nearest causes
// first; none when a side has no BTF or no type changed. Thread-safe; each kernel pair's BTF is
// read once.
class CrcExplainer {
public:
  CrcExplainer(std::vector<const KernelProfile *> history, std::string cache_dir, size_t max_lines = 3);
  ~CrcExplainer();
  std::vector<std::string> explain(const KernelProfile &target, const std::string &sym, u64 module_crc);

private:
  struct Pair;
  std::vector<const KernelProfile *> history_;
  std::string cache_dir_;
  size_t max_lines_;
  std::mutex mutex_;
  std::map<std::pair<const KernelProfile *, const KernelProfile *>, std::unique_ptr<Pair>> pairs_;
};

}  // namespace kmx
