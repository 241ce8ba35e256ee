// ModuleInfo: everything kmx needs from one kernel module file, in host types only.
//
// It is produced by read_module() (module-elf.h) from the raw file bytes; no ELF type exists
// past that point. Field order mirrors what the file holds, so tools that must reproduce
// kmod's output byte for byte can walk it in file order.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/types.h"
#include "decompress/decompress.h"

namespace kmx {

// One "key=value" string of .modinfo, in file order, duplicates kept.
struct ModinfoEntry {
  std::string key;
  std::string value;
};

// One entry of __versions: the CRC the module was built against for `name`.
struct SymbolVersion {
  std::string name;
  u64 crc = 0;
};

enum class ExportLicense { plain, gpl, gpl_future };

// A symbol the module exports (EXPORT_SYMBOL*), with its licence and namespace.
struct ExportedSymbol {
  std::string name;
  ExportLicense license = ExportLicense::plain;
  std::string ns;              // "" when not in a namespace
  std::optional<u64> crc;      // from __kcrctab* / __crc_* when modversions is on
};

// An undefined symbol in .symtab: something the module needs from the kernel or others.
struct ImportedSymbol {
  std::string name;
  bool weak = false;           // STB_WEAK: unresolved is allowed
  std::optional<u64> crc;      // from __versions, if listed there
};

// The appended signature ("~Module signature appended~\n" trailer, struct module_signature).
struct ModuleSignature {
  u8 algo = 0, hash = 0, id_type = 0;  // raw fields of struct module_signature
  std::string id_type_name;            // "PKCS#7", "X509", "PGP"
  std::string hash_algo;               // "sha256", ... (from the PKCS#7 when id_type is PKCS#7)
  std::string signer;                  // issuer CN (PKCS#7), or the signer bytes otherwise
  Bytes key_id;                        // serial number (PKCS#7) or key identifier
  Bytes signature;                     // raw signature bytes
  u64 sig_len = 0;                     // length of the signature blob in the file
};

struct ModuleInfo {
  std::string path;
  Compression compression = Compression::none;
  u64 file_size = 0;   // bytes on disk
  u64 elf_size = 0;    // bytes after decompression, without the signature trailer

  // ELF identity.
  bool is64 = true;
  bool little_endian = true;
  u16 e_machine = 0;
  u16 e_type = 1;  // ET_REL

  std::vector<ModinfoEntry> modinfo;
  std::vector<SymbolVersion> versions;
  std::string versions_problem;            // why __versions is malformed, if it is
  std::vector<ImportedSymbol> imports;     // undefined symbols, .symtab order
  std::vector<ExportedSymbol> exports;     // __ksymtab order: plain, then gpl, then gpl_future
  // The raw strings of __ksymtab_strings in file order (names and, since 5.4, namespace
  // strings too). kmod's depmod lists these verbatim as the module's exports.
  std::vector<std::string> ksymtab_strings;

  std::optional<u64> this_module_size;     // sh_size of .gnu.linkonce.this_module
  // The signature as kmod's modinfo shows it: set only when the trailer is well-formed and,
  // for PKCS#7, decodes. signature_problem says why a present trailer was not usable.
  std::optional<ModuleSignature> signature;
  std::string signature_problem;
  Bytes build_id;                          // NT_GNU_BUILD_ID, if present

  // All values of a .modinfo key, in file order.
  std::vector<std::string> get_all(std::string_view key) const;
  // The first value of a .modinfo key.
  std::optional<std::string> get(std::string_view key) const;
};

}  // namespace kmx
