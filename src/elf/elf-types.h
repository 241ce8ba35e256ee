// ELF on-disk layouts, named as in the ELF spec (System V gABI, elf(5)).
//
// Flavor<Is64, IsLE> picks the layout of each structure for one of the four ELF flavours
// (32/64-bit x little/big-endian), the LLVM ELFType pattern. Every multi-byte field is an
// Integer<> that converts on access, so the structs can be copied out of an untrusted buffer
// with memcpy whatever the host's byte order or the buffer's alignment.
#pragma once

#include <type_traits>

#include "base/endian.h"
#include "base/types.h"

namespace kmx::elf {

constexpr u8 ELFMAG[4] = {0x7f, 'E', 'L', 'F'};
constexpr int EI_CLASS = 4, EI_DATA = 5, EI_VERSION = 6, EI_NIDENT = 16;
constexpr u8 ELFCLASS32 = 1, ELFCLASS64 = 2;
constexpr u8 ELFDATA2LSB = 1, ELFDATA2MSB = 2;
constexpr u16 ET_REL = 1;

constexpr u32 SHT_NULL = 0, SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_RELA = 4,
              SHT_NOTE = 7, SHT_NOBITS = 8, SHT_REL = 9, SHT_SYMTAB_SHNDX = 18;
constexpr u16 SHN_UNDEF = 0, SHN_LORESERVE = 0xff00, SHN_ABS = 0xfff1, SHN_COMMON = 0xfff2,
              SHN_XINDEX = 0xffff;
constexpr u8 STB_LOCAL = 0, STB_GLOBAL = 1, STB_WEAK = 2;
constexpr u32 NT_GNU_BUILD_ID = 3;

// A symbol table entry: the 64-bit layout moves st_value and st_size after st_shndx.
template <bool Is64, bool IsLE>
struct SymLayout;
template <bool IsLE>
struct SymLayout<false, IsLE> {
  Integer<u32, IsLE> st_name;
  Integer<u32, IsLE> st_value;
  Integer<u32, IsLE> st_size;
  u8 st_info, st_other;
  Integer<u16, IsLE> st_shndx;
};
template <bool IsLE>
struct SymLayout<true, IsLE> {
  Integer<u32, IsLE> st_name;
  u8 st_info, st_other;
  Integer<u16, IsLE> st_shndx;
  Integer<u64, IsLE> st_value;
  Integer<u64, IsLE> st_size;
};

template <bool Is64, bool IsLE>
struct Flavor {
  using Long = std::conditional_t<Is64, u64, u32>;  // the target's unsigned long
  using U16 = Integer<u16, IsLE>;
  using U32 = Integer<u32, IsLE>;
  using Addr = Integer<Long, IsLE>;
  using Off = Integer<Long, IsLE>;
  using Word = Integer<Long, IsLE>;  // sh_flags, sh_size, sh_addralign, sh_entsize

  struct Ehdr {
    u8 e_ident[EI_NIDENT];
    U16 e_type, e_machine;
    U32 e_version;
    Addr e_entry;
    Off e_phoff, e_shoff;
    U32 e_flags;
    U16 e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
  };
  struct Shdr {
    U32 sh_name, sh_type;
    Word sh_flags;
    Addr sh_addr;
    Off sh_offset;
    Word sh_size;
    U32 sh_link, sh_info;
    Word sh_addralign, sh_entsize;
  };
  using Sym = SymLayout<Is64, IsLE>;
  // __versions entry: struct modversion_info { unsigned long crc; char name[MODULE_NAME_LEN]; }
  // with MODULE_NAME_LEN = 64 - sizeof(unsigned long).
  static constexpr size_t modversion_size = 64;
  static constexpr size_t crc_size = sizeof(Long);
};

static_assert(sizeof(Flavor<false, true>::Ehdr) == 52 && sizeof(Flavor<true, true>::Ehdr) == 64);
static_assert(sizeof(Flavor<false, true>::Shdr) == 40 && sizeof(Flavor<true, false>::Shdr) == 64);
static_assert(sizeof(Flavor<false, true>::Sym) == 16 && sizeof(Flavor<true, true>::Sym) == 24);

}  // namespace kmx::elf
