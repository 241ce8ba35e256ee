// Reading a kernel module file into ModuleInfo.
//
// What a .ko holds that kmx uses (all sections optional unless noted):
//   .modinfo                    "key=value\0" strings, NUL padding between them
//   __versions                  struct modversion_info[]: crc (unsigned long, file byte
//                               order) + name (char[64 - sizeof(long)], NUL-terminated)
//   __version_ext_crcs/_names   extended modversions (6.14+): u32 CRCs and NUL-separated
//                               names, pairwise, for names too long for __versions
//   .symtab / .strtab           undefined symbols = imports; export labels (below)
//   __ksymtab{,_gpl,_gpl_future} struct kernel_symbol[] of the exports; each export NAME has
//                               a label __ksymtab_NAME in the section that gives its licence,
//                               __kstrtabns_NAME pointing at its namespace string in
//                               __ksymtab_strings, and __crc_NAME at its CRC in
//                               __kcrctab* (or an absolute value on old kernels).
//                               Up to 6.4 each object emits these itself (one
//                               ___ksymtab+NAME section per export, merged by module.lds);
//                               since 6.5 EXPORT_SYMBOL only records `.export_symbol` data
//                               and modpost generates the same entries and labels in the
//                               .mod.c, so reading by label covers both layouts.
//   __ksymtab_strings           the export names and namespace strings
//   .gnu.linkonce.this_module   the module's struct module; its size must match the kernel's
//   .note.gnu.build-id          NT_GNU_BUILD_ID
// and after the ELF image, the signature trailer (module-signature.h).
#pragma once

#include <string>

#include "base/result.h"
#include "elf/module-info.h"

namespace kmx {

// Limits past which a module is bad input rather than something to allocate for. The largest
// real modules (five Debian trees: 6.1 amd64/i386/arm64/signed, 6.12 amd64; bench/module-limits.sh)
// have 94 sections (kvm), 45,092 .symtab entries (amdgpu on 6.12), 1,231 __versions entries
// (i915), 1,607 .modinfo strings (option) and 518 __ksymtab_strings (drm).
constexpr u64 default_max_sections = 1u << 16;
constexpr u64 default_max_symbols = 1u << 19;

struct ReadOptions {
  u64 max_module_size = default_decompress_limit;
  u64 max_sections = default_max_sections;
  // .symtab entries, __versions entries, __ksymtab_strings and .modinfo strings, each.
  u64 max_symbols = default_max_symbols;
  // Read .symtab, __versions and the export tables. modinfo needs only .modinfo and the
  // signature, and skipping the symbol tables halves its per-module cost.
  bool symbols = true;
};
using ReadLimits = ReadOptions;

// Read, decompress (by magic) and parse the module at `path`. Errors name the file and carry
// in sys_errno the errno kmod's libkmod reports for the same file: the OS errno for I/O,
// EINVAL for an empty or shorter-than-magic file, a broken compressed stream or a corrupt ELF,
// ENOEXEC for an image that is not ELF.
Result<ModuleInfo> read_module(const std::string &path, const ReadOptions &opts = {});

// Parse an in-memory module image (possibly compressed, possibly signed).
Result<ModuleInfo> parse_module(ByteView file, const ReadOptions &opts = {});

// Whether a file name (or path) ends in a module extension kmod knows (.ko, .ko.gz, .ko.xz,
// .ko.zst) with something before it, as kmod's path_ends_with_kmod_ext(): ".ko" alone is not.
bool has_module_extension(std::string_view name);

// The module name kmod derives from a path: the basename up to its first '.', with '-' -> '_'.
std::string module_name_from_path(std::string_view path);

// Normalise a module name as kmod does ('-' -> '_').
std::string normalize_module_name(std::string_view name);

}  // namespace kmx
