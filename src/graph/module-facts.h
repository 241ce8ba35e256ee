// ModuleFacts: the part of a module that depmod needs, in the exact shape kmod 30's libkmod
// hands to its depmod, and a small binary cache of them keyed on file identity.
//
// kmod's views (libkmod-elf.c, libkmod-module.c):
//   exports      kmod_elf_get_symbols(): the __crc_NAME symbols of .symtab in table order
//                with their CRCs when the module has any, otherwise the raw strings of
//                __ksymtab_strings (namespace strings included) with CRC 0.
//   dep_symbols  kmod_elf_get_dependency_symbols(): undefined, named .symtab symbols in
//                table order (CRC from the first __versions entry of that name, else 0;
//                weak if STB_WEAK), then every __versions entry no symbol matched.
//   info         the .modinfo keys depmod writes out (alias, softdep, weakdep), in order.
#pragma once

#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "elf/module-info.h"

namespace kmx {

struct DepSymbol {
  std::string name;
  u64 crc = 0;
  bool weak = false;
};

struct ModuleFacts {
  // 0 when the module was read; otherwise the errno kmod reports for it ("failed to load
  // symbols from PATH: strerror") and kmx's own, more precise reason.
  int error = 0;
  std::string reason;
  bool over_limit = false;  // the module passed one of kmx's size limits (module-elf.h)
  std::vector<std::pair<std::string, u64>> exports;
  std::vector<DepSymbol> dep_symbols;
  std::vector<std::pair<std::string, std::string>> info;
};

ModuleFacts facts_from_module_info(const ModuleInfo &mi);

// Read a module file into facts. Never fails: a bad module becomes facts with `error` set,
// classified the way kmod's errno would be (ENOEXEC for a non-ELF image, EINVAL for a
// corrupt ELF, an empty file or a broken compressed stream, the OS errno for I/O).
ModuleFacts read_module_facts(const std::string &path);

// Identity of a module file for the cache: a changed file changes at least one of these.
// ctime is there because size and mtime can be put back (`touch -r` after an in-place
// rewrite of the same length) but ctime cannot be set from user space.
struct FileStamp {
  u64 size = 0, mtime_ns = 0, ctime_ns = 0, ino = 0, dev = 0;
  bool operator==(const FileStamp &) const = default;
};
Result<FileStamp> stat_stamp(const std::string &path);

// The depmod metadata cache: path -> (stamp, facts). The file is a versioned binary blob
// with a checksum; anything that does not decode exactly is rejected as a whole.
struct FactsCacheEntry {
  std::string path;
  FileStamp stamp;
  ModuleFacts facts;
};
Bytes encode_facts_cache(const std::vector<FactsCacheEntry> &entries);
Result<std::vector<FactsCacheEntry>> decode_facts_cache(ByteView data);

}  // namespace kmx
