#include "elf/elf-file.h"

#include <cstring>

#include "base/checked.h"
#include "elf/elf-types.h"

namespace kmx {

using namespace elf;

namespace {

std::string num(u64 v) { return std::to_string(v); }

// A problem inside the section or symbol tables. kmod reports these as EINVAL (and only a
// bad header as ENOEXEC); keep its errno so that tools print the same strerror().
Failure corrupt(std::string msg) { return Failure{Error{Errc::invalid_format, std::move(msg), EINVAL}}; }

std::string hexnum(u64 v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

template <typename T>
T copy_out(ByteView v, u64 off) {
  T t;
  std::memcpy(&t, v.data() + off, sizeof(T));
  return t;
}

// A string table is usable once it is non-empty and ends in NUL; then any offset below its
// size names a terminated string.
std::optional<std::string_view> string_at(ByteView strtab, u64 off) {
  if (strtab.empty() || strtab[strtab.size() - 1] != 0 || off >= strtab.size()) return std::nullopt;
  return std::string_view(reinterpret_cast<const char *>(strtab.data() + off));
}

}  // namespace

Result<ElfFile> ElfFile::parse(ByteView data, u64 max_sections) {
  if (data.size() < EI_NIDENT)
    return fail(Errc::invalid_format, "file too small for ELF identification (" + num(data.size()) + " bytes)");
  if (std::memcmp(data.data(), ELFMAG, 4) != 0) return fail(Errc::invalid_format, "not an ELF file (bad magic)");
  u8 cls = data[EI_CLASS], enc = data[EI_DATA];
  if (cls != ELFCLASS32 && cls != ELFCLASS64)
    return fail(Errc::invalid_format, "invalid ELF class " + num(cls));
  if (enc != ELFDATA2LSB && enc != ELFDATA2MSB)
    return fail(Errc::invalid_format, "invalid ELF data encoding " + num(enc));
  bool is64 = cls == ELFCLASS64, le = enc == ELFDATA2LSB;
  if (is64) return le ? parse_as<true, true>(data, max_sections) : parse_as<true, false>(data, max_sections);
  return le ? parse_as<false, true>(data, max_sections) : parse_as<false, false>(data, max_sections);
}

template <bool Is64, bool IsLE>
Result<ElfFile> ElfFile::parse_as(ByteView data, u64 max_sections) {
  using F = Flavor<Is64, IsLE>;
  using Ehdr = typename F::Ehdr;
  using Shdr = typename F::Shdr;

  if (data.size() < sizeof(Ehdr))
    return fail(Errc::invalid_format, "file too small for an ELF header (" + num(data.size()) + " bytes)");
  Ehdr eh = copy_out<Ehdr>(data, 0);
  if (eh.e_shentsize != sizeof(Shdr))
    return corrupt("e_shentsize " + num(eh.e_shentsize) + " is not " + num(sizeof(Shdr)));
  u64 shoff = eh.e_shoff;
  if (shoff == 0) return corrupt("no section header table");
  if (!data.contains(shoff, sizeof(Shdr)))
    return corrupt("e_shoff " + hexnum(shoff) + " past end of file (" + hexnum(data.size()) + ")");

  // Extended numbering: section 0 holds the real count and name-table index when the header
  // fields overflow (e_shnum == 0, e_shstrndx == SHN_XINDEX).
  Shdr sh0 = copy_out<Shdr>(data, shoff);
  u64 shnum = eh.e_shnum;
  if (shnum == 0) shnum = sh0.sh_size;
  u64 shstrndx = eh.e_shstrndx;
  if (shstrndx == SHN_XINDEX) shstrndx = sh0.sh_link;

  auto table = checked_mul<u64>(shnum, sizeof(Shdr));
  if (shnum == 0 || !table || !data.contains(shoff, *table))
    return corrupt("section header table (" + num(shnum) + " entries at " + hexnum(shoff) +
                                          ") past end of file (" + hexnum(data.size()) + ")");
  if (shnum > max_sections)
    return Failure{Error{Errc::too_large, num(shnum) + " sections, more than the limit of " + num(max_sections) + " for a module", EINVAL}};
  if (shstrndx >= shnum)
    return corrupt("e_shstrndx " + num(shstrndx) + " out of range (" + num(shnum) + " sections)");

  ElfFile f;
  f.data_ = data;
  f.is64_ = Is64;
  f.le_ = IsLE;
  f.machine_ = eh.e_machine;
  f.type_ = eh.e_type;
  f.sections_.resize(shnum);
  std::vector<u32> name_offs(shnum);
  for (u64 i = 0; i < shnum; i++) {
    Shdr sh = copy_out<Shdr>(data, shoff + i * sizeof(Shdr));
    ElfSection &s = f.sections_[i];
    s.type = sh.sh_type;
    s.flags = sh.sh_flags;
    s.offset = sh.sh_offset;
    s.size = sh.sh_size;
    s.link = sh.sh_link;
    s.info = sh.sh_info;
    s.entsize = sh.sh_entsize;
    name_offs[i] = sh.sh_name;
    if (i != 0 && s.type != SHT_NOBITS && s.type != SHT_NULL && !data.contains(s.offset, s.size))
      return corrupt("section [" + num(i) + "] sh_offset " + hexnum(s.offset) + " + sh_size " +
                                            hexnum(s.size) + " past end of file (" + hexnum(data.size()) + ")");
  }

  const ElfSection &names = f.sections_[shstrndx];
  if (names.type == SHT_NOBITS || !data.contains(names.offset, names.size))
    return corrupt("section name table [" + num(shstrndx) + "] is not in the file");
  ByteView strtab = *data.sub(names.offset, names.size);
  if (strtab.empty() || strtab[strtab.size() - 1] != 0)
    return corrupt("section name table [" + num(shstrndx) + "] is empty or not NUL-terminated");
  for (u64 i = 0; i < shnum; i++) {
    auto n = string_at(strtab, name_offs[i]);
    if (!n)
      return corrupt("section [" + num(i) + "] sh_name " + hexnum(name_offs[i]) +
                                            " past end of section name table (" + hexnum(strtab.size()) + ")");
    f.sections_[i].name = *n;
  }
  return f;
}

std::optional<u32> ElfFile::find_section(std::string_view name) const {
  for (size_t i = 1; i < sections_.size(); i++)
    if (sections_[i].name == name) return static_cast<u32>(i);
  return std::nullopt;
}

Result<ByteView> ElfFile::section_data(u32 i) const {
  if (i >= sections_.size())
    return corrupt("section index " + num(i) + " out of range (" + num(sections_.size()) + " sections)");
  const ElfSection &s = sections_[i];
  if (s.type == SHT_NOBITS) return ByteView();
  auto v = data_.sub(s.offset, s.size);
  if (!v) return corrupt("section [" + num(i) + "] past end of file");
  return *v;
}

std::optional<u64> ElfFile::read_uint(ByteView v, u64 off, unsigned width) const {
  if (width == 8) return le_ ? v.read<u64, true>(off) : v.read<u64, false>(off);
  auto r = le_ ? v.read<u32, true>(off) : v.read<u32, false>(off);
  if (!r) return std::nullopt;
  return *r;
}

Result<std::vector<ElfSymbol>> ElfFile::symbols(u64 max_symbols) const {
  if (is64_) return le_ ? symbols_as<true, true>(max_symbols) : symbols_as<true, false>(max_symbols);
  return le_ ? symbols_as<false, true>(max_symbols) : symbols_as<false, false>(max_symbols);
}

template <bool Is64, bool IsLE>
Result<std::vector<ElfSymbol>> ElfFile::symbols_as(u64 max_symbols) const {
  using Sym = typename Flavor<Is64, IsLE>::Sym;
  std::vector<ElfSymbol> out;
  std::optional<u32> symtab_idx;
  std::optional<u32> xindex_idx;
  for (size_t i = 1; i < sections_.size(); i++) {
    if (sections_[i].type == SHT_SYMTAB && !symtab_idx) symtab_idx = static_cast<u32>(i);
    if (sections_[i].type == SHT_SYMTAB_SHNDX && !xindex_idx) xindex_idx = static_cast<u32>(i);
  }
  if (!symtab_idx) return out;

  const ElfSection &st = sections_[*symtab_idx];
  if (st.entsize != sizeof(Sym))
    return corrupt("section [" + num(*symtab_idx) + "] .symtab sh_entsize " + num(st.entsize) +
                                          " is not " + num(sizeof(Sym)));
  if (st.size % sizeof(Sym) != 0)
    return corrupt("section [" + num(*symtab_idx) + "] .symtab size " + hexnum(st.size) +
                                          " is not a multiple of " + num(sizeof(Sym)));
  TRY_ASSIGN(ByteView syms, section_data(*symtab_idx));
  if (st.link == 0 || st.link >= sections_.size() || sections_[st.link].type != SHT_STRTAB)
    return corrupt("section [" + num(*symtab_idx) + "] .symtab sh_link " + num(st.link) +
                                          " is not a string table");
  TRY_ASSIGN(ByteView strtab, section_data(st.link));
  if (strtab.empty() || strtab[strtab.size() - 1] != 0)
    return corrupt("section [" + num(st.link) + "] symbol string table is empty or not NUL-terminated");
  ByteView xindex;
  if (xindex_idx) {
    TRY_ASSIGN(ByteView x, section_data(*xindex_idx));
    xindex = x;
  }

  u64 n = st.size / sizeof(Sym);
  if (n > max_symbols)
    return Failure{Error{Errc::too_large, "section [" + num(*symtab_idx) + "] .symtab has " + num(n) +
                                              " symbols, more than the limit of " + num(max_symbols) + " for a module", EINVAL}};
  out.reserve(n);
  for (u64 i = 0; i < n; i++) {
    Sym s = copy_out<Sym>(syms, i * sizeof(Sym));
    ElfSymbol e;
    auto name = string_at(strtab, s.st_name);
    if (!name)
      return corrupt("symbol " + num(i) + " st_name " + hexnum(static_cast<u32>(s.st_name)) +
                                            " past end of string table (" + hexnum(strtab.size()) + ")");
    e.name = *name;
    e.value = s.st_value;
    e.size = s.st_size;
    e.shndx = s.st_shndx;
    if (e.shndx == SHN_XINDEX) {
      auto x = xindex.read<u32, IsLE>(i * 4);
      if (!x) return corrupt("symbol " + num(i) + " uses SHN_XINDEX but SHT_SYMTAB_SHNDX has no entry");
      e.shndx = *x;
    }
    e.bind = s.st_info >> 4;
    e.type = s.st_info & 0xf;
    out.push_back(e);
  }
  return out;
}

}  // namespace kmx
