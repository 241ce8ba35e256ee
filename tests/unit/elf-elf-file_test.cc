// ElfFile: one case per malformation (exact message and errno), extended numbering, symbol
// tables, and positive reads in all four flavours; the in-test builder's output is also
// cross-checked against binutils' readelf so that the builder itself cannot be wrong silently.
#include "elf/elf-file.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <functional>
#include <memory>
#include <sstream>

#include "elf-builder.h"
#include "test-support.h"
#include "elf/elf-types.h"

using namespace kmx;
using namespace kmx::test;

namespace {

std::string hx(u64 v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}
std::string dec(u64 v) { return std::to_string(v); }

struct FlavorParam {
  bool is64, le;
  u16 machine;
  const char *name;
};
const FlavorParam kFlavors[] = {
    {true, true, 62, "elf64le"},   // EM_X86_64
    {true, false, 21, "elf64be"},  // EM_PPC64
    {false, true, 40, "elf32le"},  // EM_ARM
    {false, false, 8, "elf32be"},  // EM_MIPS
};

// A small module-like object: two PROGBITS sections, a NOBITS one and a symbol table.
ElfBuilder sample(const FlavorParam &f) {
  ElfBuilder b(f.is64, f.le, f.machine);
  ElfBuilder::Section text;
  text.name = ".text";
  text.flags = 6;
  text.data = {0x90, 0x90, 0x90, 0xc3};
  text.addralign = 16;
  b.add(text);
  b.add(".modinfo", nul_strings({"license=GPL", "name=sample"}));
  ElfBuilder::Section bss;
  bss.name = ".bss";
  bss.type = elf::SHT_NOBITS;
  bss.nobits_size = 0x1000;
  b.add(bss);
  b.def("init_module", ".text", 0, elf::STB_GLOBAL);
  b.def("local_helper", ".text", 2, elf::STB_LOCAL);
  b.undef("printk");
  b.undef("maybe_there", elf::STB_WEAK);
  ElfBuilder::Symbol abs;
  abs.name = "__crc_sample";
  abs.shndx = elf::SHN_ABS;
  abs.value = 0x12345678;
  b.sym(abs);
  return b;
}

class ElfFlavor : public ::testing::TestWithParam<FlavorParam> {};

TEST_P(ElfFlavor, ParsesSectionsAndSymbols) {
  const FlavorParam &f = GetParam();
  Image img = sample(f).build();
  auto r = ElfFile::parse(ByteView(img.bytes));
  ASSERT_TRUE(r) << r.error().msg;
  EXPECT_EQ(r->is64(), f.is64);
  EXPECT_EQ(r->little_endian(), f.le);
  EXPECT_EQ(r->machine(), f.machine);
  const auto &secs = r->sections();
  ASSERT_EQ(secs.size(), 7u);  // null .text .modinfo .bss .symtab .strtab .shstrtab
  EXPECT_EQ(secs[0].name, "");
  EXPECT_EQ(secs[1].name, ".text");
  EXPECT_EQ(secs[1].flags, 6u);
  EXPECT_EQ(secs[1].size, 4u);
  EXPECT_EQ(secs[3].type, elf::SHT_NOBITS);
  EXPECT_EQ(secs[3].size, 0x1000u);
  EXPECT_EQ(secs[4].type, elf::SHT_SYMTAB);
  EXPECT_EQ(secs[4].link, 5u);
  EXPECT_EQ(secs[4].entsize, f.is64 ? 24u : 16u);
  EXPECT_EQ(secs[6].name, ".shstrtab");
  EXPECT_EQ(r->find_section(".modinfo"), 2u);
  EXPECT_EQ(r->find_section(".nothere"), std::nullopt);
  EXPECT_EQ(r->find_section(""), std::nullopt);  // section 0 is never returned

  auto text = r->section_data(1);
  ASSERT_TRUE(text);
  EXPECT_EQ(Bytes(text->begin(), text->end()), (Bytes{0x90, 0x90, 0x90, 0xc3}));
  auto bss = r->section_data(3);
  ASSERT_TRUE(bss);
  EXPECT_TRUE(bss->empty());
  auto bad = r->section_data(7);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().msg, "section index 7 out of range (7 sections)");
  EXPECT_EQ(bad.error().to_errno(), EINVAL);

  auto syms = r->symbols();
  ASSERT_TRUE(syms) << syms.error().msg;
  ASSERT_EQ(syms->size(), 6u);
  EXPECT_EQ((*syms)[0].name, "");
  EXPECT_EQ((*syms)[1].name, "init_module");
  EXPECT_EQ((*syms)[1].shndx, 1u);
  EXPECT_EQ((*syms)[1].bind, elf::STB_GLOBAL);
  EXPECT_EQ((*syms)[2].name, "local_helper");
  EXPECT_EQ((*syms)[2].value, 2u);
  EXPECT_EQ((*syms)[2].bind, elf::STB_LOCAL);
  EXPECT_EQ((*syms)[3].name, "printk");
  EXPECT_EQ((*syms)[3].shndx, elf::SHN_UNDEF);
  EXPECT_EQ((*syms)[4].bind, elf::STB_WEAK);
  EXPECT_EQ((*syms)[5].shndx, elf::SHN_ABS);
  EXPECT_EQ((*syms)[5].value, 0x12345678u);

  // read_uint follows the file's byte order.
  Bytes four = {1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(r->read_uint(ByteView(four), 0, 4), f.le ? 0x04030201u : 0x01020304u);
  EXPECT_EQ(r->read_uint(ByteView(four), 0, 8), f.le ? 0x0807060504030201ull : 0x0102030405060708ull);
  EXPECT_EQ(r->read_uint(ByteView(four), 5, 4), std::nullopt);
}

// The builder's output as binutils sees it: names, types, offsets and sizes of sections and
// the symbols' values, binding and section index. Guards the builder (and so every other
// case here) against layout mistakes.
TEST_P(ElfFlavor, BuilderAgreesWithReadelf) {
  const FlavorParam &f = GetParam();
  Image img = sample(f).build();
  TempFile tmp(img.bytes);
  ASSERT_TRUE(tmp.ok());
  std::string sections = run_cmd("readelf -SW " + tmp.path() + " 2>&1");
  std::string symbols = run_cmd("readelf -sW " + tmp.path() + " 2>/dev/null");
  if (sections.find("Section Headers") == std::string::npos) GTEST_SKIP() << "readelf not usable: " << sections;

  auto r = ElfFile::parse(ByteView(img.bytes));
  ASSERT_TRUE(r) << r.error().msg;
  int matched = 0;
  std::istringstream ss(sections);
  std::string line;
  while (std::getline(ss, line)) {
    size_t lb = line.find('['), rb = line.find(']');
    if (lb == std::string::npos || rb == std::string::npos || line.find("Nr]") != std::string::npos) continue;
    unsigned idx = static_cast<unsigned>(std::stoul(line.substr(lb + 1, rb - lb - 1)));
    if (idx == 0) continue;
    std::istringstream ls(line.substr(rb + 1));
    std::string name, type, addr, off, size;
    ls >> name >> type >> addr >> off >> size;
    ASSERT_LT(idx, r->sections().size());
    const ElfSection &s = r->sections()[idx];
    EXPECT_EQ(name, s.name) << line;
    EXPECT_EQ(std::stoull(off, nullptr, 16), s.offset) << line;
    EXPECT_EQ(std::stoull(size, nullptr, 16), s.size) << line;
    const char *want = s.type == elf::SHT_PROGBITS ? "PROGBITS"
                       : s.type == elf::SHT_NOBITS ? "NOBITS"
                       : s.type == elf::SHT_SYMTAB ? "SYMTAB"
                                                   : "STRTAB";
    EXPECT_EQ(type, want) << line;
    matched++;
  }
  EXPECT_EQ(matched, 6);

  auto syms = r->symbols();
  ASSERT_TRUE(syms);
  int nsyms = 0;
  std::istringstream ys(symbols);
  while (std::getline(ys, line)) {
    std::istringstream ls(line);
    std::string num, value, size, type, bind, vis, ndx, name;
    if (!(ls >> num >> value >> size >> type >> bind >> vis >> ndx)) continue;
    if (num.empty() || num.back() != ':' || num == "Num:") continue;
    ls >> name;
    unsigned i = static_cast<unsigned>(std::stoul(num));
    ASSERT_LT(i, syms->size());
    const ElfSymbol &s = (*syms)[i];
    EXPECT_EQ(name, s.name) << line;
    EXPECT_EQ(std::stoull(value, nullptr, 16), s.value) << line;
    std::string want_ndx = s.shndx == elf::SHN_UNDEF ? "UND" : s.shndx == elf::SHN_ABS ? "ABS" : dec(s.shndx);
    EXPECT_EQ(ndx, want_ndx) << line;
    EXPECT_EQ(bind, s.bind == elf::STB_LOCAL ? "LOCAL" : s.bind == elf::STB_WEAK ? "WEAK" : "GLOBAL") << line;
    nsyms++;
  }
  EXPECT_EQ(nsyms, 6);
}

TEST_P(ElfFlavor, ExtendedNumberingForcedOnSmallFile) {
  ElfBuilder b = sample(GetParam());
  b.extended_numbering = true;
  Image img = b.build();
  ASSERT_EQ(img.ehdr(Ehdr::e_shnum), 0u);
  ASSERT_EQ(img.ehdr(Ehdr::e_shstrndx), 0xffffu);
  auto r = ElfFile::parse(ByteView(img.bytes));
  ASSERT_TRUE(r) << r.error().msg;
  EXPECT_EQ(r->sections().size(), 7u);
  EXPECT_EQ(r->sections()[6].name, ".shstrtab");
  EXPECT_EQ(r->find_section(".modinfo"), 2u);
}

// More than SHN_LORESERVE sections: the real count lives in section 0's sh_size, the name
// table index in its sh_link, and a symbol defined in a section above 0xff00 needs
// SHT_SYMTAB_SHNDX.
TEST_P(ElfFlavor, ExtendedNumberingAndSymtabShndx) {
  ElfBuilder b(GetParam().is64, GetParam().le, GetParam().machine);
  b.filler_sections = 0xff05;
  u32 data_idx = b.add(".data.high", Bytes{1, 2, 3, 4});
  ASSERT_GT(data_idx, 0xff00u);
  ElfBuilder::Symbol s;
  s.name = "high_symbol";
  s.xindex = data_idx;
  s.value = 2;
  b.sym(s);
  b.undef("printk");
  Image img = b.build();
  ASSERT_EQ(img.ehdr(Ehdr::e_shnum), 0u);
  ASSERT_EQ(img.ehdr(Ehdr::e_shstrndx), 0xffffu);
  ASSERT_NE(img.symtab_shndx, 0u);

  auto r = ElfFile::parse(ByteView(img.bytes));
  ASSERT_TRUE(r) << r.error().msg;
  EXPECT_EQ(r->sections().size(), img.shnum);
  EXPECT_EQ(r->find_section(".data.high"), data_idx);
  EXPECT_EQ(r->find_section(".shstrtab"), img.shstrndx);
  auto syms = r->symbols();
  ASSERT_TRUE(syms) << syms.error().msg;
  ASSERT_EQ(syms->size(), 3u);
  EXPECT_EQ((*syms)[1].name, "high_symbol");
  EXPECT_EQ((*syms)[1].shndx, data_idx);
  EXPECT_EQ((*syms)[2].shndx, elf::SHN_UNDEF);
}

TEST_P(ElfFlavor, XindexWithoutShndxEntryIsAnError) {
  ElfBuilder b = sample(GetParam());
  Image img = b.build();
  img.set_sym_shndx(3, elf::SHN_XINDEX);  // printk, with no SHT_SYMTAB_SHNDX section at all
  auto r = ElfFile::parse(ByteView(img.bytes));
  ASSERT_TRUE(r);
  auto syms = r->symbols();
  ASSERT_FALSE(syms);
  EXPECT_EQ(syms.error().msg, "symbol 3 uses SHN_XINDEX but SHT_SYMTAB_SHNDX has no entry");
  EXPECT_EQ(syms.error().to_errno(), EINVAL);
}

TEST_P(ElfFlavor, NoSymtabGivesNoSymbols) {
  const FlavorParam &f = GetParam();
  ElfBuilder b(f.is64, f.le, f.machine);
  b.add(".modinfo", nul_strings({"a=b"}));
  Image img = b.build();
  auto r = ElfFile::parse(ByteView(img.bytes));
  ASSERT_TRUE(r) << r.error().msg;
  auto syms = r->symbols();
  ASSERT_TRUE(syms);
  EXPECT_TRUE(syms->empty());
}

INSTANTIATE_TEST_SUITE_P(Flavors, ElfFlavor, ::testing::ValuesIn(kFlavors),
                         [](const auto &info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------------------
// Malformations: each case breaks one thing in an otherwise valid file, in every flavour,
// and names the exact message. `where` says whether parse() or symbols() must fail.

enum class Stage { parse, symbols };

struct Malformation {
  const char *name;
  Stage stage;
  // Breaks the image and returns the message the reader must give.
  std::function<std::string(Image &)> apply;
  int err;
};

const Malformation kMalformations[] = {
    {"BadMagic", Stage::parse,
     [](Image &m) {
       m.bytes[1] = 'X';
       return std::string("not an ELF file (bad magic)");
     },
     ENOEXEC},
    {"ShorterThanIdent", Stage::parse,
     [](Image &m) {
       m.bytes.resize(10);
       return std::string("file too small for ELF identification (10 bytes)");
     },
     ENOEXEC},
    {"BadClass", Stage::parse,
     [](Image &m) {
       m.bytes[4] = 3;
       return std::string("invalid ELF class 3");
     },
     ENOEXEC},
    {"ClassNone", Stage::parse,
     [](Image &m) {
       m.bytes[4] = 0;
       return std::string("invalid ELF class 0");
     },
     ENOEXEC},
    {"BadEncoding", Stage::parse,
     [](Image &m) {
       m.bytes[5] = 7;
       return std::string("invalid ELF data encoding 7");
     },
     ENOEXEC},
    {"TruncatedHeader", Stage::parse,
     [](Image &m) {
       size_t n = m.is64 ? 63 : 51;
       m.bytes.resize(n);
       return "file too small for an ELF header (" + dec(n) + " bytes)";
     },
     ENOEXEC},
    {"ShentsizeWrong", Stage::parse,
     [](Image &m) {
       u64 want = m.shentsize();
       m.set_ehdr(Ehdr::e_shentsize, want - 1);
       return "e_shentsize " + dec(want - 1) + " is not " + dec(want);
     },
     EINVAL},
    {"ShentsizeOtherClass", Stage::parse,
     [](Image &m) {
       u64 want = m.shentsize(), other = m.is64 ? 40 : 64;
       m.set_ehdr(Ehdr::e_shentsize, other);
       return "e_shentsize " + dec(other) + " is not " + dec(want);
     },
     EINVAL},
    {"NoSectionHeaderTable", Stage::parse,
     [](Image &m) {
       m.set_ehdr(Ehdr::e_shoff, 0);
       return std::string("no section header table");
     },
     EINVAL},
    {"ShoffPastEnd", Stage::parse,
     [](Image &m) {
       u64 off = m.bytes.size() - 8;
       m.set_ehdr(Ehdr::e_shoff, off);
       return "e_shoff " + hx(off) + " past end of file (" + hx(m.bytes.size()) + ")";
     },
     EINVAL},
    {"ShoffHuge", Stage::parse,
     [](Image &m) {
       u64 off = m.is64 ? ~0ull - 8 : 0xfffffff8u;
       m.set_ehdr(Ehdr::e_shoff, off);
       return "e_shoff " + hx(off) + " past end of file (" + hx(m.bytes.size()) + ")";
     },
     EINVAL},
    {"ShnumPastEnd", Stage::parse,
     [](Image &m) {
       m.set_ehdr(Ehdr::e_shnum, m.shnum + 1);
       return "section header table (" + dec(m.shnum + 1) + " entries at " + hx(m.shoff) + ") past end of file (" +
              hx(m.bytes.size()) + ")";
     },
     EINVAL},
    {"TableTruncated", Stage::parse,
     [](Image &m) {
       m.bytes.resize(m.bytes.size() - 1);
       return "section header table (" + dec(m.shnum) + " entries at " + hx(m.shoff) + ") past end of file (" +
              hx(m.bytes.size()) + ")";
     },
     EINVAL},
    {"ExtendedShnumZero", Stage::parse,
     [](Image &m) {
       m.set_ehdr(Ehdr::e_shnum, 0);  // and section 0's sh_size stays 0
       return "section header table (0 entries at " + hx(m.shoff) + ") past end of file (" + hx(m.bytes.size()) + ")";
     },
     EINVAL},
    {"ExtendedShnumHuge", Stage::parse,
     [](Image &m) {
       u64 n = m.is64 ? 0x2000000000000000ull : 0xffffffffull;  // 64-bit: n * 64 overflows
       m.set_ehdr(Ehdr::e_shnum, 0);
       m.set_sh(0, Sh::sh_size, n);
       return "section header table (" + dec(n) + " entries at " + hx(m.shoff) + ") past end of file (" +
              hx(m.bytes.size()) + ")";
     },
     EINVAL},
    {"ShstrndxOutOfRange", Stage::parse,
     [](Image &m) {
       m.set_ehdr(Ehdr::e_shstrndx, m.shnum);
       return "e_shstrndx " + dec(m.shnum) + " out of range (" + dec(m.shnum) + " sections)";
     },
     EINVAL},
    {"XindexShstrndxOutOfRange", Stage::parse,
     [](Image &m) {
       m.set_ehdr(Ehdr::e_shstrndx, 0xffff);
       m.set_sh(0, Sh::sh_link, 1000);
       return "e_shstrndx 1000 out of range (" + dec(m.shnum) + " sections)";
     },
     EINVAL},
    {"SectionPastEnd", Stage::parse,
     [](Image &m) {
       u64 off = m.sh(1, Sh::sh_offset), size = m.bytes.size() - off + 1;
       m.set_sh(1, Sh::sh_size, size);
       return "section [1] sh_offset " + hx(off) + " + sh_size " + hx(size) + " past end of file (" +
              hx(m.bytes.size()) + ")";
     },
     EINVAL},
    {"SectionOffsetPastEnd", Stage::parse,
     [](Image &m) {
       u64 off = m.bytes.size() + 1;
       m.set_sh(2, Sh::sh_offset, off);
       return "section [2] sh_offset " + hx(off) + " + sh_size " + hx(m.sh(2, Sh::sh_size)) +
              " past end of file (" + hx(m.bytes.size()) + ")";
     },
     EINVAL},
    {"SectionOffsetPlusSizeOverflows", Stage::parse,
     [](Image &m) {
       u64 off = m.is64 ? ~0ull - 1 : 0xfffffffeull;
       m.set_sh(1, Sh::sh_offset, off);
       m.set_sh(1, Sh::sh_size, 16);
       return "section [1] sh_offset " + hx(off) + " + sh_size 0x10 past end of file (" + hx(m.bytes.size()) + ")";
     },
     EINVAL},
    {"SectionSizeHuge", Stage::parse,
     [](Image &m) {
       u64 size = m.is64 ? ~0ull : 0xffffffffull;
       m.set_sh(1, Sh::sh_size, size);
       return "section [1] sh_offset " + hx(m.sh(1, Sh::sh_offset)) + " + sh_size " + hx(size) +
              " past end of file (" + hx(m.bytes.size()) + ")";
     },
     EINVAL},
    {"ShstrtabNotTerminated", Stage::parse,
     [](Image &m) {
       u64 end = m.sh(m.shstrndx, Sh::sh_offset) + m.sh(m.shstrndx, Sh::sh_size);
       m.bytes[end - 1] = 'x';
       return "section name table [" + dec(m.shstrndx) + "] is empty or not NUL-terminated";
     },
     EINVAL},
    {"ShstrtabEmpty", Stage::parse,
     [](Image &m) {
       m.set_sh(m.shstrndx, Sh::sh_size, 0);
       return "section name table [" + dec(m.shstrndx) + "] is empty or not NUL-terminated";
     },
     EINVAL},
    {"ShstrtabNobits", Stage::parse,
     [](Image &m) {
       m.set_sh(m.shstrndx, Sh::sh_type, elf::SHT_NOBITS);
       return "section name table [" + dec(m.shstrndx) + "] is not in the file";
     },
     EINVAL},
    {"ShstrndxIsNullSection", Stage::parse,
     [](Image &m) {
       // Section 0 has offset 0 and size 0: an empty name table.
       m.set_ehdr(Ehdr::e_shstrndx, 0);
       return std::string("section name table [0] is empty or not NUL-terminated");
     },
     EINVAL},
    {"ShNamePastEnd", Stage::parse,
     [](Image &m) {
       u64 size = m.sh(m.shstrndx, Sh::sh_size);
       m.set_sh(2, Sh::sh_name, size);
       return "section [2] sh_name " + hx(size) + " past end of section name table (" + hx(size) + ")";
     },
     EINVAL},
    {"ShNameHuge", Stage::parse,
     [](Image &m) {
       m.set_sh(1, Sh::sh_name, 0xffffffffu);
       return "section [1] sh_name 0xffffffff past end of section name table (" + hx(m.sh(m.shstrndx, Sh::sh_size)) +
              ")";
     },
     EINVAL},
    {"SymtabEntsizeWrong", Stage::symbols,
     [](Image &m) {
       m.set_sh(m.symtab, Sh::sh_entsize, m.symsize() + 1);
       return "section [" + dec(m.symtab) + "] .symtab sh_entsize " + dec(m.symsize() + 1) + " is not " +
              dec(m.symsize());
     },
     EINVAL},
    {"SymtabSizeNotMultiple", Stage::symbols,
     [](Image &m) {
       u64 size = m.sh(m.symtab, Sh::sh_size) - 1;
       m.set_sh(m.symtab, Sh::sh_size, size);
       return "section [" + dec(m.symtab) + "] .symtab size " + hx(size) + " is not a multiple of " + dec(m.symsize());
     },
     EINVAL},
    {"SymtabLinkNotStrtab", Stage::symbols,
     [](Image &m) {
       m.set_sh(m.symtab, Sh::sh_link, 1);  // .text
       return "section [" + dec(m.symtab) + "] .symtab sh_link 1 is not a string table";
     },
     EINVAL},
    {"SymtabLinkZero", Stage::symbols,
     [](Image &m) {
       m.set_sh(m.symtab, Sh::sh_link, 0);
       return "section [" + dec(m.symtab) + "] .symtab sh_link 0 is not a string table";
     },
     EINVAL},
    {"SymtabLinkOutOfRange", Stage::symbols,
     [](Image &m) {
       m.set_sh(m.symtab, Sh::sh_link, 0x7fffffff);
       return "section [" + dec(m.symtab) + "] .symtab sh_link 2147483647 is not a string table";
     },
     EINVAL},
    {"StrtabNotTerminated", Stage::symbols,
     [](Image &m) {
       u64 end = m.sh(m.strtab, Sh::sh_offset) + m.sh(m.strtab, Sh::sh_size);
       m.bytes[end - 1] = 'x';
       return "section [" + dec(m.strtab) + "] symbol string table is empty or not NUL-terminated";
     },
     EINVAL},
    {"StrtabEmpty", Stage::symbols,
     [](Image &m) {
       m.set_sh(m.strtab, Sh::sh_size, 0);
       return "section [" + dec(m.strtab) + "] symbol string table is empty or not NUL-terminated";
     },
     EINVAL},
    {"StNamePastEnd", Stage::symbols,
     [](Image &m) {
       u64 size = m.sh(m.strtab, Sh::sh_size);
       m.set_sym_name(2, static_cast<u32>(size));
       return "symbol 2 st_name " + hx(size) + " past end of string table (" + hx(size) + ")";
     },
     EINVAL},
    {"StNameHuge", Stage::symbols,
     [](Image &m) {
       m.set_sym_name(1, 0xfffffff0u);
       return "symbol 1 st_name 0xfffffff0 past end of string table (" + hx(m.sh(m.strtab, Sh::sh_size)) + ")";
     },
     EINVAL},
};

struct MalformationCase {
  const Malformation *m;
  FlavorParam f;
};

std::vector<MalformationCase> all_malformations() {
  std::vector<MalformationCase> v;
  for (const Malformation &m : kMalformations)
    for (const FlavorParam &f : kFlavors) v.push_back({&m, f});
  return v;
}

class ElfMalformed : public ::testing::TestWithParam<MalformationCase> {};

TEST_P(ElfMalformed, ExactMessageAndErrno) {
  const MalformationCase &c = GetParam();
  Image img = sample(c.f).build();
  // The unbroken file must be fine, or the case proves nothing.
  ASSERT_TRUE(ElfFile::parse(ByteView(img.bytes)));
  std::string want = c.m->apply(img);
  auto r = ElfFile::parse(ByteView(img.bytes));
  if (c.m->stage == Stage::parse) {
    ASSERT_FALSE(r) << "parsed a file with " << c.m->name;
    EXPECT_EQ(r.error().msg, want);
    EXPECT_EQ(r.error().to_errno(), c.m->err) << r.error().msg;
    return;
  }
  ASSERT_TRUE(r) << r.error().msg;
  auto syms = r->symbols();
  ASSERT_FALSE(syms) << "read symbols of a file with " << c.m->name;
  EXPECT_EQ(syms.error().msg, want);
  EXPECT_EQ(syms.error().to_errno(), c.m->err) << syms.error().msg;
}

INSTANTIATE_TEST_SUITE_P(Cases, ElfMalformed, ::testing::ValuesIn(all_malformations()), [](const auto &info) {
  return std::string(info.param.m->name) + "_" + info.param.f.name;
});

// Every truncation of a valid file either parses (when the cut only drops unused bytes,
// which cannot happen here since the section table is last) or fails cleanly.
TEST(ElfFile, EveryTruncationFails) {
  for (const FlavorParam &f : kFlavors) {
    Image img = sample(f).build();
    for (size_t n = 0; n < img.bytes.size(); n++) {
      auto r = ElfFile::parse(ByteView(img.bytes.data(), n));
      ASSERT_FALSE(r) << f.name << " cut at " << n;
      int e = r.error().to_errno();
      ASSERT_TRUE(e == ENOEXEC || e == EINVAL) << r.error().msg;
    }
  }
}

// NOBITS sections may claim any size: they have no bytes in the file.
TEST(ElfFile, NobitsSectionIsNotRangeChecked) {
  Image img = sample(kFlavors[0]).build();
  img.set_sh(3, Sh::sh_size, ~0ull);
  img.set_sh(3, Sh::sh_offset, ~0ull);
  auto r = ElfFile::parse(ByteView(img.bytes));
  ASSERT_TRUE(r) << r.error().msg;
  EXPECT_EQ(r->sections()[3].size, ~0ull);
  auto d = r->section_data(3);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->empty());
}

}  // namespace
