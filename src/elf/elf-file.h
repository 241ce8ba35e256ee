// ElfFile: a checked, flavour-neutral view of an ELF relocatable object (a kernel module).
//
// parse() dispatches once on e_ident to one of the four Flavor<> instances, validates the
// file header and the whole section header table (every non-NOBITS section inside the file,
// extended numbering for e_shnum/e_shstrndx), and normalises headers into host types. All
// later accessors re-check the ranges they use and return Result with a message that names
// the section index and the numbers involved.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace kmx {

struct ElfSection {
  std::string_view name;  // points into the file's section name table
  u32 type = 0;
  u64 flags = 0;
  u64 offset = 0;
  u64 size = 0;
  u32 link = 0;
  u32 info = 0;
  u64 entsize = 0;
};

struct ElfSymbol {
  std::string_view name;  // points into the linked string table
  u64 value = 0;
  u64 size = 0;
  u32 shndx = 0;          // resolved through SHT_SYMTAB_SHNDX when st_shndx is SHN_XINDEX
  u8 bind = 0;
  u8 type = 0;
};

class ElfFile {
public:
  // More sections than `max_sections` is Errc::too_large: the table is never allocated.
  static Result<ElfFile> parse(ByteView data, u64 max_sections = UINT64_MAX);

  bool is64() const { return is64_; }
  bool little_endian() const { return le_; }
  u16 machine() const { return machine_; }
  u16 type() const { return type_; }  // e_type: ET_REL (1) for a module
  ByteView data() const { return data_; }
  const std::vector<ElfSection> &sections() const { return sections_; }

  // Index of the first section with this name, if any.
  std::optional<u32> find_section(std::string_view name) const;
  // The bytes of section i (empty for SHT_NOBITS).
  Result<ByteView> section_data(u32 i) const;
  // The symbols of the first SHT_SYMTAB section; empty if there is none. More entries than
  // `max_symbols` is Errc::too_large, refused before anything is allocated for them.
  Result<std::vector<ElfSymbol>> symbols(u64 max_symbols = UINT64_MAX) const;

  // An unsigned integer of `width` bytes (4 or 8) in the file's byte order.
  std::optional<u64> read_uint(ByteView v, u64 off, unsigned width) const;

private:
  template <bool Is64, bool IsLE>
  static Result<ElfFile> parse_as(ByteView data, u64 max_sections);
  template <bool Is64, bool IsLE>
  Result<std::vector<ElfSymbol>> symbols_as(u64 max_symbols) const;

  ByteView data_;
  bool is64_ = true;
  bool le_ = true;
  u16 machine_ = 0;
  u16 type_ = 0;
  std::vector<ElfSection> sections_;
};

}  // namespace kmx
