// A tiny ELF relocatable builder for tests: exact inputs for the ELF reader and the module
// reader in any of the four flavours (32/64-bit x LE/BE) and for any e_machine.
//
// Layout of build(): Ehdr, then each section's bytes (8-aligned, in index order), then
// .symtab/.strtab/.symtab_shndx when symbols were added, then .shstrtab, then the section
// header table. Section 0 is the null section. Malformations are made afterwards by patching
// the returned Image (set_ehdr/set_sh), so each test states the one field it breaks.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/types.h"

namespace kmx::test {

using Bytes = std::vector<u8>;

inline void put_uint(Bytes &b, u64 off, u64 v, unsigned width, bool le) {
  if (b.size() < off + width) b.resize(off + width);
  for (unsigned i = 0; i < width; i++) {
    unsigned shift = le ? 8 * i : 8 * (width - 1 - i);
    b[off + i] = static_cast<u8>(v >> shift);
  }
}

inline u64 get_uint(const Bytes &b, u64 off, unsigned width, bool le) {
  u64 v = 0;
  for (unsigned i = 0; i < width; i++) {
    unsigned shift = le ? 8 * i : 8 * (width - 1 - i);
    v |= u64(b.at(off + i)) << shift;
  }
  return v;
}

inline void append_uint(Bytes &b, u64 v, unsigned width, bool le) { put_uint(b, b.size(), v, width, le); }

inline Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }

// "a\0b\0" from {"a", "b"}: the layout of .modinfo and __ksymtab_strings.
inline Bytes nul_strings(const std::vector<std::string> &v) {
  Bytes b;
  for (const std::string &s : v) {
    b.insert(b.end(), s.begin(), s.end());
    b.push_back(0);
  }
  return b;
}

enum class Ehdr { e_type, e_machine, e_version, e_shoff, e_ehsize, e_shentsize, e_shnum, e_shstrndx };
enum class Sh { sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info, sh_addralign, sh_entsize };

struct FieldPos {
  unsigned off, width;
};

inline FieldPos ehdr_pos(bool is64, Ehdr f) {
  switch (f) {
  case Ehdr::e_type: return {16, 2};
  case Ehdr::e_machine: return {18, 2};
  case Ehdr::e_version: return {20, 4};
  case Ehdr::e_shoff: return is64 ? FieldPos{40, 8} : FieldPos{32, 4};
  case Ehdr::e_ehsize: return is64 ? FieldPos{52, 2} : FieldPos{40, 2};
  case Ehdr::e_shentsize: return is64 ? FieldPos{58, 2} : FieldPos{46, 2};
  case Ehdr::e_shnum: return is64 ? FieldPos{60, 2} : FieldPos{48, 2};
  case Ehdr::e_shstrndx: return is64 ? FieldPos{62, 2} : FieldPos{50, 2};
  }
  return {0, 0};
}

inline FieldPos sh_pos(bool is64, Sh f) {
  if (is64) {
    switch (f) {
    case Sh::sh_name: return {0, 4};
    case Sh::sh_type: return {4, 4};
    case Sh::sh_flags: return {8, 8};
    case Sh::sh_addr: return {16, 8};
    case Sh::sh_offset: return {24, 8};
    case Sh::sh_size: return {32, 8};
    case Sh::sh_link: return {40, 4};
    case Sh::sh_info: return {44, 4};
    case Sh::sh_addralign: return {48, 8};
    case Sh::sh_entsize: return {56, 8};
    }
  }
  switch (f) {
  case Sh::sh_name: return {0, 4};
  case Sh::sh_type: return {4, 4};
  case Sh::sh_flags: return {8, 4};
  case Sh::sh_addr: return {12, 4};
  case Sh::sh_offset: return {16, 4};
  case Sh::sh_size: return {20, 4};
  case Sh::sh_link: return {24, 4};
  case Sh::sh_info: return {28, 4};
  case Sh::sh_addralign: return {32, 4};
  case Sh::sh_entsize: return {36, 4};
  }
  return {0, 0};
}

// The built file plus what is needed to patch it.
struct Image {
  Bytes bytes;
  bool is64 = true, le = true;
  u64 shoff = 0;
  u32 shnum = 0;
  u32 shstrndx = 0;
  u32 symtab = 0, strtab = 0, symtab_shndx = 0;  // 0 when absent

  unsigned shentsize() const { return is64 ? 64 : 40; }
  unsigned symsize() const { return is64 ? 24 : 16; }
  void set_ehdr(Ehdr f, u64 v) {
    FieldPos p = ehdr_pos(is64, f);
    put_uint(bytes, p.off, v, p.width, le);
  }
  u64 ehdr(Ehdr f) const {
    FieldPos p = ehdr_pos(is64, f);
    return get_uint(bytes, p.off, p.width, le);
  }
  u64 sh_field_off(u32 idx, Sh f) const { return shoff + u64(idx) * shentsize() + sh_pos(is64, f).off; }
  void set_sh(u32 idx, Sh f, u64 v) { put_uint(bytes, sh_field_off(idx, f), v, sh_pos(is64, f).width, le); }
  u64 sh(u32 idx, Sh f) const { return get_uint(bytes, sh_field_off(idx, f), sh_pos(is64, f).width, le); }
  // Offset in the file of symbol i's entry (symbol 0 is the null symbol).
  u64 sym_off(u32 i) const { return sh(symtab, Sh::sh_offset) + u64(i) * symsize(); }
  void set_sym_name(u32 i, u32 v) { put_uint(bytes, sym_off(i), v, 4, le); }
  void set_sym_shndx(u32 i, u16 v) { put_uint(bytes, sym_off(i) + (is64 ? 6 : 14), v, 2, le); }
};

struct ElfBuilder {
  struct Section {
    std::string name;
    u32 type = 1;  // SHT_PROGBITS
    u64 flags = 0;
    Bytes data;
    u64 nobits_size = 0;  // size of an SHT_NOBITS section
    u32 link = 0, info = 0;
    u64 entsize = 0, addralign = 1;
  };
  struct Symbol {
    std::string name;
    u64 value = 0, size = 0;
    u8 bind = 1, type = 0;   // STB_GLOBAL, STT_NOTYPE
    std::string section;     // defined in this section (by name); empty: use shndx
    u16 shndx = 0;           // raw st_shndx (SHN_UNDEF, SHN_ABS, ...) when section is empty
    std::optional<u32> xindex;  // st_shndx = SHN_XINDEX, real index in .symtab_shndx
  };

  bool is64 = true, le = true;
  u16 machine = 62;  // EM_X86_64
  u16 type = 1;      // ET_REL
  std::vector<Section> sections;
  std::vector<Symbol> symbols;
  bool with_symtab = false;         // emit .symtab/.strtab even with no symbols
  bool extended_numbering = false;  // e_shnum = 0 and e_shstrndx = SHN_XINDEX even if small
  u32 filler_sections = 0;          // empty PROGBITS sections before the named ones (to pass 0xff00)

  ElfBuilder() = default;
  ElfBuilder(bool is64_, bool le_, u16 machine_ = 62) : is64(is64_), le(le_), machine(machine_) {}

  // Returns the section's index in the built file.
  u32 add(Section s) {
    sections.push_back(std::move(s));
    return filler_sections + static_cast<u32>(sections.size());
  }
  u32 add(std::string name, Bytes data, u32 sh_type = 1) {
    Section s;
    s.name = std::move(name);
    s.type = sh_type;
    s.data = std::move(data);
    return add(std::move(s));
  }
  void sym(Symbol s) { symbols.push_back(std::move(s)); }
  // An undefined (imported) symbol.
  void undef(std::string name, u8 bind = 1) {
    Symbol s;
    s.name = std::move(name);
    s.bind = bind;
    symbols.push_back(std::move(s));
  }
  // A symbol defined at `value` in section `sec`.
  void def(std::string name, std::string sec, u64 value, u8 bind = 1) {
    Symbol s;
    s.name = std::move(name);
    s.section = std::move(sec);
    s.value = value;
    s.bind = bind;
    symbols.push_back(std::move(s));
  }

  u32 index_of(const std::string &name) const {
    for (size_t i = 0; i < sections.size(); i++)
      if (sections[i].name == name) return filler_sections + 1 + static_cast<u32>(i);
    return 0;
  }

  Image build() const {
    Image img;
    img.is64 = is64;
    img.le = le;
    const unsigned ehsize = is64 ? 64 : 52, shent = is64 ? 64 : 40, symsz = is64 ? 24 : 16;
    const unsigned addr = is64 ? 8 : 4;

    // All sections: [0] null, fillers, user sections, then generated ones.
    struct Out {
      Section s;
      u64 offset = 0, size = 0;
    };
    std::vector<Out> all(1);
    for (u32 i = 0; i < filler_sections; i++) {
      Out o;
      o.s.name = "";
      all.push_back(o);
    }
    for (const Section &s : sections) all.push_back({s});

    bool emit_symtab = with_symtab || !symbols.empty();
    bool need_xindex = false;
    for (const Symbol &s : symbols) need_xindex |= s.xindex.has_value();
    if (emit_symtab) {
      Bytes strtab{0};
      Bytes symtab(symsz, 0);
      Bytes xtab;
      if (need_xindex) xtab.assign(4, 0);
      for (const Symbol &s : symbols) {
        u32 name = static_cast<u32>(strtab.size());
        strtab.insert(strtab.end(), s.name.begin(), s.name.end());
        strtab.push_back(0);
        u32 shndx = s.shndx;
        if (!s.section.empty()) shndx = index_of(s.section);
        if (s.xindex) shndx = 0xffff;
        u8 info = static_cast<u8>((s.bind << 4) | (s.type & 0xf));
        u64 base = symtab.size();
        symtab.resize(base + symsz, 0);
        put_uint(symtab, base, name, 4, le);
        if (is64) {
          symtab[base + 4] = info;
          put_uint(symtab, base + 6, shndx, 2, le);
          put_uint(symtab, base + 8, s.value, 8, le);
          put_uint(symtab, base + 16, s.size, 8, le);
        } else {
          put_uint(symtab, base + 4, s.value, 4, le);
          put_uint(symtab, base + 8, s.size, 4, le);
          symtab[base + 12] = info;
          put_uint(symtab, base + 14, shndx, 2, le);
        }
        if (need_xindex) append_uint(xtab, s.xindex.value_or(0), 4, le);
      }
      img.symtab = static_cast<u32>(all.size());
      img.strtab = img.symtab + 1;
      Out st;
      st.s.name = ".symtab";
      st.s.type = 2;
      st.s.data = std::move(symtab);
      st.s.link = img.strtab;
      st.s.info = 1;  // one past the last leading local symbol
      for (const Symbol &s : symbols) {
        if (s.bind != 0) break;
        st.s.info++;
      }
      st.s.entsize = symsz;
      st.s.addralign = addr;
      all.push_back(std::move(st));
      Out str;
      str.s.name = ".strtab";
      str.s.type = 3;
      str.s.data = std::move(strtab);
      all.push_back(std::move(str));
      if (need_xindex) {
        img.symtab_shndx = static_cast<u32>(all.size());
        Out x;
        x.s.name = ".symtab_shndx";
        x.s.type = 18;
        x.s.data = std::move(xtab);
        x.s.link = img.symtab;
        x.s.entsize = 4;
        x.s.addralign = 4;
        all.push_back(std::move(x));
      }
    }
    img.shstrndx = static_cast<u32>(all.size());
    {
      Out sh;
      sh.s.name = ".shstrtab";
      sh.s.type = 3;
      all.push_back(std::move(sh));
    }
    // Section names (the null section and fillers share offset 0, the empty name).
    Bytes shstr{0};
    std::vector<u32> name_off(all.size(), 0);
    for (size_t i = 1; i < all.size(); i++) {
      if (all[i].s.name.empty()) continue;
      name_off[i] = static_cast<u32>(shstr.size());
      shstr.insert(shstr.end(), all[i].s.name.begin(), all[i].s.name.end());
      shstr.push_back(0);
    }
    all[img.shstrndx].s.data = shstr;

    Bytes &b = img.bytes;
    b.assign(ehsize, 0);
    auto align8 = [&] { b.resize((b.size() + 7) & ~size_t(7), 0); };
    for (size_t i = 1; i < all.size(); i++) {
      Out &o = all[i];
      if (o.s.type == 8) {  // SHT_NOBITS
        o.offset = b.size();
        o.size = o.s.nobits_size;
        continue;
      }
      align8();
      o.offset = b.size();
      o.size = o.s.data.size();
      b.insert(b.end(), o.s.data.begin(), o.s.data.end());
    }
    align8();
    img.shoff = b.size();
    img.shnum = static_cast<u32>(all.size());
    b.resize(b.size() + all.size() * shent, 0);

    const u8 ident[16] = {0x7f, 'E', 'L', 'F', static_cast<u8>(is64 ? 2 : 1), static_cast<u8>(le ? 1 : 2), 1};
    std::memcpy(b.data(), ident, 16);
    img.set_ehdr(Ehdr::e_type, type);
    img.set_ehdr(Ehdr::e_machine, machine);
    img.set_ehdr(Ehdr::e_version, 1);
    img.set_ehdr(Ehdr::e_shoff, img.shoff);
    img.set_ehdr(Ehdr::e_ehsize, ehsize);
    img.set_ehdr(Ehdr::e_shentsize, shent);
    bool ext_num = extended_numbering || img.shnum >= 0xff00;
    bool ext_str = extended_numbering || img.shstrndx >= 0xff00;
    img.set_ehdr(Ehdr::e_shnum, ext_num ? 0 : img.shnum);
    img.set_ehdr(Ehdr::e_shstrndx, ext_str ? 0xffff : img.shstrndx);
    if (ext_num) img.set_sh(0, Sh::sh_size, img.shnum);
    if (ext_str) img.set_sh(0, Sh::sh_link, img.shstrndx);
    for (u32 i = 1; i < img.shnum; i++) {
      const Out &o = all[i];
      img.set_sh(i, Sh::sh_name, name_off[i]);
      img.set_sh(i, Sh::sh_type, o.s.type);
      img.set_sh(i, Sh::sh_flags, o.s.flags);
      img.set_sh(i, Sh::sh_offset, o.offset);
      img.set_sh(i, Sh::sh_size, o.size);
      img.set_sh(i, Sh::sh_link, o.s.link);
      img.set_sh(i, Sh::sh_info, o.s.info);
      img.set_sh(i, Sh::sh_addralign, o.s.addralign);
      img.set_sh(i, Sh::sh_entsize, o.s.entsize);
    }
    return img;
  }
};

// A file under /tmp holding `bytes`, removed when this goes out of scope.
class TempFile {
public:
  explicit TempFile(const Bytes &bytes, const char *suffix = ".ko") {
    std::string tmpl = std::string("/tmp/kmx-elftest-XXXXXX") + suffix;
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back(0);
    int fd = mkstemps(buf.data(), static_cast<int>(std::strlen(suffix)));
    if (fd < 0) return;
    path_ = buf.data();
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fd);
  }
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFile(const TempFile &) = delete;
  TempFile &operator=(const TempFile &) = delete;
  const std::string &path() const { return path_; }
  bool ok() const { return !path_.empty(); }

private:
  std::string path_;
};

}  // namespace kmx::test
