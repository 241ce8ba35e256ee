// KernelProfile: what the module loader of one kernel will compare a module against, learnt
// offline from the files a kernel ships.
//
// Sources and what each gives (any subset; missing facts make the matching checks "unknown"):
//   Module.symvers   "0xCRC\tNAME\tOWNER\tEXPORT_SYMBOL[_GPL]\tNAMESPACE" per line: every export
//                    of vmlinux and of in-tree modules, with CRC, licence and namespace.
//                    OWNER is "vmlinux" or the module's path without ".ko" (drivers/x/foo).
//   System.map-REL   "ADDR TYPE NAME": __ksymtab_NAME marks an export of vmlinux (names only:
//                    no CRC value, no licence).
//   config-REL       CONFIG_X=y/m/"str", "# CONFIG_X is not set": MODVERSIONS, MODULE_SIG*,
//                    LOCK_DOWN_*, MODULE_DECOMPRESS, MODULE_COMPRESS_*, MODULE_FORCE_LOAD, ...
//   module tree      lib/modules/REL: in-tree modules carry the kernel's vermagic (.modinfo),
//                    the module_layout CRC (__versions), sizeof(struct module)
//                    (.gnu.linkonce.this_module size) and, when signed, the kernel's signing key id;
//                    without Module.symvers their export tables give the module exports.
// The release (e.g. "6.12.117+deb12-amd64") picks the loader's check order (see load-check.h).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "compat/kernel-keys.h"
#include "elf/module-info.h"

namespace kmx {

struct KernelExport {
  std::string owner;  // "vmlinux" or the exporting module's name (normalised)
  ExportLicense license = ExportLicense::plain;
  std::string ns;
  std::optional<u64> crc;
};

// The ELF identity the loader accepts (elf_validity_check(): e_machine through elf_check_arch(),
// read in the kernel's own byte order and ELF class).
struct ElfArch {
  u16 machine = 0;
  bool is64 = true;
  bool little_endian = true;
  bool operator==(const ElfArch &) const = default;
};

struct KernelProfile {
  std::string release;
  int major = 0, minor = 0;             // from release; 0.0 when unknown
  std::optional<std::string> vermagic;  // the kernel's VERMAGIC_STRING
  std::optional<u64> module_layout_crc;
  std::optional<u64> this_module_size;  // sizeof(struct module)
  std::optional<ElfArch> arch;          // from an in-tree module, else from the config
  std::unordered_map<std::string, KernelExport> exports;
  bool exports_have_licence = false;    // false when only System.map gave the exports
  bool vmlinux_exports_known = false;   // Module.symvers or a real System.map was read
  std::map<std::string, std::string> config;  // "CONFIG_X" -> "y", "m", "\"str\"", "n"
  std::string tree;                     // lib/modules/REL directory, if known
  std::unordered_map<std::string, std::string> tree_modules;  // name -> path
  std::set<std::string> builtin;        // modules.builtin names
  std::vector<Bytes> trusted_key_ids;   // signer key ids seen on in-tree modules
  // Certificates the kernel trusts (from its image and/or cert files). When empty, signatures
  // can only be matched against trusted_key_ids, not verified.
  std::vector<TrustedCert> trusted_certs;
  std::string keys_source;              // where trusted_certs / trusted_key_ids came from
  // Where the kernel's BTF is read from (btf/btf.h load_vmlinux_btf): its image, a vmlinux
  // ELF or a raw BTF file; "" when none was given or found.
  std::string btf_file;
  std::set<std::string> proprietary_modules;  // tree modules whose licence taints P
  std::vector<std::string> sources;     // what the profile was learnt from, for the report

  bool has_config() const { return !config.empty(); }
  // "y"/"m" -> true, "n"/absent -> false; nullopt when no config is known at all.
  std::optional<bool> config_on(const std::string &name) const;
  bool version_at_least(int maj, int min) const {
    return major > maj || (major == maj && minor >= min);
  }
  // Whether the loader compares CRCs (CONFIG_MODVERSIONS): the config, else the "modversions"
  // word of the vermagic, else non-zero CRCs (module_layout, Module.symvers); all-zero CRCs of
  // a Module.symvers say off. nullopt when nothing says: a System.map alone does not.
  std::optional<bool> modversions() const;
  // Where modversions() got its answer, for the report.
  std::string modversions_source() const;
  // No fact a check could use: no vermagic, exports, struct module size, module_layout CRC or
  // config.
  bool knows_nothing() const;
};

// The state of the running target: command line and what is loaded already.
struct TargetState {
  bool sig_enforce = false;
  std::string lockdown;                  // "", "integrity", "confidentiality"
  std::set<std::string> blacklist;       // module_blacklist=
  std::set<std::string> loaded;          // module names already loaded
  std::string comm = "insmod";           // the loading process name, printed by lockdown
  std::string kernel_taint;              // letters the kernel is already tainted with: the
                                         // loader prints some lines only on the first taint
  // Booted with UEFI Secure Boot: Debian's kernels (CONFIG_LOCK_DOWN_IN_EFI_SECURE_BOOT) then
  // lock down to integrity, so modules without a trusted signature are refused (EPERM).
  bool secure_boot = false;
  // Why the Secure Boot state could not be read ("" = it was): a signature only a trusted key
  // would make acceptable is then "unknown".
  std::string secure_boot_unknown;
  // The machine's enrolled Machine Owner Keys (shim's MokListRT): under Secure Boot the kernel
  // trusts them besides its own certificates. `mok_unknown` says why the list could not be
  // read ("" = it was read, possibly empty).
  std::vector<TrustedCert> mok_certs;
  std::string mok_unknown;
  // Keys the machine signs modules with that may not be enrolled (DKMS's /var/lib/dkms/mok.pub):
  // a module signed by one that the kernel does not trust gets the hint to enrol it.
  std::vector<TrustedCert> enrol_candidates;
  std::set<std::string> proprietary;     // loaded modules that carry taint P
};

// Parsers of the source files above (text in, facts out; errors name `what`).
Status parse_module_symvers(std::string_view text, const std::string &what, KernelProfile &p);
Status parse_system_map(std::string_view text, const std::string &what, KernelProfile &p);
Status parse_kernel_config(std::string_view text, const std::string &what, KernelProfile &p);
// Applies a kernel command line: module.sig_enforce, lockdown=, module_blacklist=.
void apply_cmdline(std::string_view cmdline, TargetState &s);
// Splits "6.12.117+deb12-amd64" into 6, 12.
void parse_release(const std::string &release, int &major, int &minor);

// Learns the module-tree facts of `tree` (lib/modules/REL): in-tree modules, builtin list,
// vermagic, module_layout CRC, struct module size, signing key, and (when `read_exports`) the
// export tables of every module, read in parallel. The export tables are cached in `cache_dir`
// (compat/tree-facts.h; "" = no cache).
Status learn_module_tree(const std::string &tree, bool read_exports, KernelProfile &p,
                         const std::string &cache_dir = "");

// A target spec as given on the command line: comma-separated parts, each a directory (a root
// holding lib/modules/REL and boot/, or a module tree lib/modules/REL) or a file recognised by
// content or name (Module.symvers, System.map*, config*, vmlinuz*, certificates *.pem/*.der/
// *.crt/*.x509, raw BTF such as /sys/kernel/btf/vmlinux). A root's boot/vmlinuz-REL is read for its certificates when present (a
// problem with it is noted in `sources`, not fatal; a named image must be readable).
// `release` picks the directory under lib/modules when a root has several. `cache_dir` holds
// the tree facts and the certificates read from kernel images ("" = no cache); the tool
// chooses it (tools/common.h kmx_cache_dir).
Result<KernelProfile> load_profile(const std::string &spec, const std::string &release = "",
                                   const std::string &cache_dir = "");

}  // namespace kmx
