// The kernel module loader's checks, replayed offline: ModuleInfo x KernelProfile x TargetState
// -> LoadVerdict (loads or refused with which errno, at which check, the kernel log lines it
// prints, the taint letters, and hints on what to change).
//
// Check ids follow docs of the loader (loader-checks research, A1..H): C1..C5 the ELF header
// (length, magic, type, architecture, section header size; before anything else is read),
// B signature (B1 trusted,
// B2 unsigned / B3 unknown key or crypto: taint E, B4 enforced, B5 lockdown incl. Secure Boot,
// B6 bad signature or trailer: always refused; verified with OpenSSL against the target's
// certificates, kernel-keys.h; B7 a legacy id_type is ENOPKG, handled like B3; B9 forced loads,
// CheckOptions::force_*; B8, a hash in the blacklist keyring, cannot be predicted: Debian's
// CONFIG_SYSTEM_BLACKLIST_HASH_LIST is empty and the keyring is filled from UEFI dbx at boot), C10 struct module size, D1 blacklist, D2/D3/D4 module_layout,
// D5/D6 vermagic, D7 livepatch without CONFIG_LIVEPATCH, D8 already loaded, D9 import of a
// module: namespace (6.16+), E taints (O C K P N E, name-based P), G3 export CRCs, F symbol
// resolution (F1 unknown, F2 GPL-only, F3 proprietary exporter: inherited P (5.9+) or refused
// for a module using GPL-only symbols, F4 CRC, F5 missing CRC, F9 namespace, module:
// namespaces 6.16+), G1 duplicate exports. Order, per kernel version (load_module()):
//   < 6.4: B, D1, D2, D5, E(O C [D7|K] P N), D8, E(E), E(names), G3, [D9], F, G1
//   >= 6.4: B, C10, D1, D2, D5, D7, D8, E(O C K P N E names), G3, D9, F, G1
// Debian's kernels refuse a __versions entry that is missing (upstream only warns): modelled
// as Debian does, since those are the kernels kmx targets (`upstream_missing_crc` flips it).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/buffer.h"
#include "base/mapped-file.h"
#include "compat/kernel-profile.h"
#include "elf/module-info.h"

namespace kmx {

// What one check concluded. "unknown": the target's files cannot decide it (the verdict is
// then not complete); "skip": the kernel does not make this check (e.g. CONFIG_MODULE_SIG off).
enum class StepResult { pass, refuse, taint, unknown, skip };
const char *result_name(StepResult r);  // "pass", "refuse", "taint", "unknown", "skip"

struct CheckStep {
  std::string id;      // "D5", "F1", ...
  std::string name;    // "vermagic", ...
  StepResult result = StepResult::pass;
  std::string detail;
};

struct LoadVerdict {
  std::string module;  // module name as the kernel prints it
  std::string path;
  bool loads = true;
  int err = 0;              // positive errno when refused
  std::string errno_name;   // "ENOEXEC", ...
  std::string check_id;     // the refusing check
  std::vector<CheckStep> checks;
  std::vector<std::string> messages;  // predicted kernel log lines, in order
  std::string taint;        // taint letters the load adds (module-scoped, bit order)
  std::vector<std::string> hints;
  // False when a check could not be made for lack of facts (its result is "unknown"): a
  // "loads" verdict then only says that nothing known refuses it.
  bool complete = true;

  // 0 loads cleanly, 1 loads with taint, 2 refused, 3 not decided (a check is "unknown"
  // and nothing known refuses the module).
  int exit_code() const { return !loads ? 2 : !complete ? 3 : taint.empty() ? 0 : 1; }
  // The checks that could not be decided ("D2 module_layout, F symbols").
  std::vector<std::string> undecided() const;
};

// One known API change (data/api-changes.tsv).
struct ApiChange {
  std::string symbol;
  std::string version;  // first kernel version where the change applies, e.g. "6.10"
  std::string commit;
  std::string recipe;
};
Result<std::vector<ApiChange>> parse_api_changes(std::string_view text, const std::string &what);
// The hint a known change gives: "SYMBOL: changed in VERSION (COMMIT): RECIPE".
std::string api_change_hint(const ApiChange &c);

struct CheckOptions {
  bool modprobe = true;               // dependencies from the tree are loaded first
  bool upstream_missing_crc = false;  // upstream semantics: a missing CRC only warns
  // Forced loads (B9): finit_module()'s MODULE_INIT_IGNORE_VERMAGIC (insmod -f, modprobe
  // --force / --force-vermagic) and MODULE_INIT_IGNORE_MODVERSIONS (-f, --force-modversions).
  // Either one makes the module "mangled": its signature is not looked at (ENODATA, as if
  // unsigned). Vermagic is then not compared ("bad vermagic", taint F); without __versions the
  // module_layout check forces the load ("module_layout: kernel tainted.", taint F), every
  // symbol CRC is skipped, and vermagic is compared in full when it is still compared.
  bool force_vermagic = false;
  bool force_modversions = false;
  // Keep checking after the refusal (the verdict stays the first refusal's): reports every
  // problem, e.g. all symbol findings of a module that the kernel refuses earlier. The
  // messages then include lines the kernel would not print.
  bool all = false;
  const std::vector<ApiChange> *api_changes = nullptr;
  // Config of the headers the module was built against (--built-with); with the target's
  // config, mismatch hints name the options that differ.
  const std::map<std::string, std::string> *module_config = nullptr;
  // Profiles of other kernels (--history): where a symbol exists elsewhere.
  const std::vector<const KernelProfile *> *history = nullptr;
  // Hint lines naming the type changes behind a CRC mismatch (F4, and D2 for module_layout):
  // target, symbol, the module's CRC (compat/abi-diff.h CrcExplainer). Called from parallel
  // checks.
  std::function<std::vector<std::string>(const KernelProfile &, const std::string &, u64)> explain_crc;
};

// check_module() does no I/O: the signature is verified from `image`, the module as the kernel
// gets it (decompressed, trailer included). Without it (empty view) a signature that needs
// verifying is "unknown" unless the trailer's key already says ENOKEY.
LoadVerdict check_module(const ModuleInfo &m, const KernelProfile &k, const TargetState &s,
                         const CheckOptions &opts = {}, ByteView image = {});

// A module read once for check_module(): one open of the file, whose bytes (mapped, or
// decompressed for a compressed file) are both parsed into `info` and kept as `image()` for
// the signature check. A file that reads but does not parse as a module (empty, truncated, not
// ELF, malformed) has `problem` set: check_unparsed_module() judges its image.
struct CheckInput {
  ModuleInfo info;
  std::string problem;
  std::optional<MappedFile> mapped;  // an uncompressed file
  Buffer decompressed;               // a compressed file's contents
  ByteView image() const { return mapped ? mapped->view() : ByteView(decompressed); }
};
Result<CheckInput> read_module_for_check(const std::string &path);

// What the loader answers for a file the module reader could not parse (`problem` says why):
// the signature check, then the ELF header checks of elf_validity_check() in their order (a
// 0-byte file is refused by kernel_read_file() before them, EINVAL); a file whose header
// passes but whose sections are malformed is "unknown" (refused, but the message depends on
// which section check trips first).
LoadVerdict check_unparsed_module(const std::string &path, ByteView image, const std::string &problem,
                                  const KernelProfile &k, const TargetState &s, const CheckOptions &opts = {});

const char *errno_name(int err);
// Whether the kernel counts this MODULE_LICENSE as GPL-compatible (license_is_gpl_compatible).
bool license_is_gpl_compatible(std::string_view license);

}  // namespace kmx
