// parse_module/read_module on exact inputs from the in-test builder (.modinfo, __versions,
// imports, exports by label, compression, caps), and on the peer testsuite's real test
// modules, checked against kmod's own tools (/usr/sbin/modinfo, modprobe --dump-modversions,
// modprobe --show-exports) and readelf, run at test time on the same files.
#include "elf/module-elf.h"

#include <gtest/gtest.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "elf-builder.h"
#include "test-support.h"
#include "elf/elf-types.h"

using namespace kmx;
using namespace kmx::test;
namespace fs = std::filesystem;

namespace {

struct FlavorParam {
  bool is64, le;
  u16 machine;
  const char *name;
};
const FlavorParam kFlavors[] = {
    {true, true, 62, "elf64le"},
    {true, false, 22, "elf64be"},  // EM_S390
    {false, true, 3, "elf32le"},   // EM_386
    {false, false, 20, "elf32be"}, // EM_PPC
};

// struct modversion_info[] in the flavour's layout.
Bytes versions_section(const FlavorParam &f, const std::vector<std::pair<u64, std::string>> &v) {
  Bytes b;
  unsigned crc = f.is64 ? 8 : 4;
  for (const auto &[c, name] : v) {
    size_t base = b.size();
    b.resize(base + 64, 0);
    put_uint(b, base, c, crc, f.le);
    std::memcpy(b.data() + base + crc, name.data(), std::min<size_t>(name.size(), 64 - crc));
  }
  return b;
}

Result<ModuleInfo> parse(const Bytes &b, const ReadLimits &l = {}) { return parse_module(ByteView(b), l); }

std::vector<std::pair<std::string, std::string>> entries(const ModuleInfo &mi) {
  std::vector<std::pair<std::string, std::string>> v;
  for (const ModinfoEntry &e : mi.modinfo) v.emplace_back(e.key, e.value);
  return v;
}

// kmod's view of .modinfo: `modinfo -0` prints "filename:   PATH\0" then every key=value
// string of the file in order, then the signature fields when signed.
std::vector<std::pair<std::string, std::string>> kmod_modinfo_of(const std::string &path) {
  std::string out = run_cmd(std::string(kmod_modinfo) + " -0 '" + path + "' 2>/dev/null");
  std::vector<std::pair<std::string, std::string>> v;
  size_t i = 0;
  bool first = true;
  static const std::set<std::string> sig_keys = {"sig_id", "signer", "sig_key", "sig_hashalgo", "signature"};
  while (i < out.size()) {
    size_t end = out.find('\0', i);
    if (end == std::string::npos) end = out.size();
    std::string s = out.substr(i, end - i);
    i = end + 1;
    if (first) {  // filename
      first = false;
      continue;
    }
    size_t eq = s.find('=');
    std::string key = eq == std::string::npos ? s : s.substr(0, eq);
    if (sig_keys.count(key)) continue;
    v.emplace_back(key, eq == std::string::npos ? "" : s.substr(eq + 1));
  }
  return v;
}

// ---------------------------------------------------------------------------------------
// .modinfo

class ModuleFlavor : public ::testing::TestWithParam<FlavorParam> {};

TEST_P(ModuleFlavor, ModinfoPaddingAndDuplicates) {
  const FlavorParam &f = GetParam();
  ElfBuilder b(f.is64, f.le, f.machine);
  Bytes mi = {0, 0, 0};  // leading padding, as the linker leaves between .modinfo pieces
  Bytes s = nul_strings({"license=GPL", "alias=pci:v1", "", "", "alias=pci:v2", "author=A=B", "empty=", "=novalue"});
  mi.insert(mi.end(), s.begin(), s.end());
  mi.insert(mi.end(), {0, 0, 0, 0});
  b.add(".modinfo", mi);
  auto r = parse(b.build().bytes);
  ASSERT_TRUE(r) << r.error().msg;
  EXPECT_EQ(entries(*r), (std::vector<std::pair<std::string, std::string>>{{"license", "GPL"},
                                                                          {"alias", "pci:v1"},
                                                                          {"alias", "pci:v2"},
                                                                          {"author", "A=B"},
                                                                          {"empty", ""},
                                                                          {"", "novalue"}}));
  EXPECT_EQ(r->get_all("alias"), (std::vector<std::string>{"pci:v1", "pci:v2"}));
  EXPECT_EQ(r->get("alias"), "pci:v1");
  EXPECT_EQ(r->get("nothere"), std::nullopt);
  EXPECT_EQ(r->is64, f.is64);
  EXPECT_EQ(r->little_endian, f.le);
  EXPECT_EQ(r->e_machine, f.machine);
  EXPECT_EQ(r->compression, Compression::none);
  EXPECT_FALSE(r->signature);
  EXPECT_EQ(r->signature_problem, "");
  EXPECT_EQ(r->this_module_size, std::nullopt);
}

// Strings without '=' and an unterminated last string, compared with what kmod's modinfo
// makes of the same file.
TEST(ModuleElf, ModinfoOddStringsAsKmodReadsThem) {
  if (!executable(kmod_modinfo)) GTEST_SKIP() << "skipped: " << kmod_modinfo << " not installed";
  struct Case {
    const char *name;
    Bytes modinfo;
  };
  Bytes unterminated = nul_strings({"license=GPL"});
  for (char c : std::string("author=X")) unterminated.push_back(static_cast<u8>(c));
  const Case cases[] = {
      {"no-equals", nul_strings({"license=GPL", "noequals", "alias=a"})},
      {"unterminated-last", unterminated},
      {"padding", Bytes{0, 0, 'a', '=', '1', 0, 0, 0, 'b', '=', '2', 0, 0}},
      {"duplicates", nul_strings({"alias=x", "alias=x", "depends=", "alias=y"})},
  };
  for (const Case &c : cases) {
    ElfBuilder b;
    b.add(".modinfo", c.modinfo);
    b.add(".gnu.linkonce.this_module", Bytes(64, 0));
    Bytes img = b.build().bytes;
    TempFile tmp(img);
    auto r = parse(img);
    ASSERT_TRUE(r) << r.error().msg;
    EXPECT_EQ(entries(*r), kmod_modinfo_of(tmp.path())) << c.name;
  }
}

// ---------------------------------------------------------------------------------------
// __versions and imports

TEST_P(ModuleFlavor, VersionsAndImports) {
  const FlavorParam &f = GetParam();
  ElfBuilder b(f.is64, f.le, f.machine);
  b.add(".modinfo", nul_strings({"license=GPL"}));
  u64 big = f.is64 ? 0x1122334455667788ull : 0x55667788u;
  b.add("__versions", versions_section(f, {{0xdeadbeef, "module_layout"}, {0x12345678, "printk"}, {big, "weak_one"},
                                           {1, std::string(64 - (f.is64 ? 8 : 4) - 1, 'n')}}));
  b.add(".text", Bytes(16, 0));
  b.undef("printk");
  b.undef("weak_one", elf::STB_WEAK);
  b.undef("unversioned");
  b.def("init_module", ".text", 0);
  ElfBuilder::Symbol empty;  // an undefined symbol with no name is not an import
  b.sym(empty);
  auto r = parse(b.build().bytes);
  ASSERT_TRUE(r) << r.error().msg;
  ASSERT_EQ(r->versions.size(), 4u);
  EXPECT_EQ(r->versions[0].name, "module_layout");
  EXPECT_EQ(r->versions[0].crc, 0xdeadbeefu);
  EXPECT_EQ(r->versions[2].crc, big);
  EXPECT_EQ(r->versions[3].name.size(), 64 - (f.is64 ? 8u : 4u) - 1);
  ASSERT_EQ(r->imports.size(), 3u);
  EXPECT_EQ(r->imports[0].name, "printk");
  EXPECT_FALSE(r->imports[0].weak);
  EXPECT_EQ(r->imports[0].crc, 0x12345678u);
  EXPECT_EQ(r->imports[1].name, "weak_one");
  EXPECT_TRUE(r->imports[1].weak);
  EXPECT_EQ(r->imports[1].crc, big);
  EXPECT_EQ(r->imports[2].name, "unversioned");
  EXPECT_EQ(r->imports[2].crc, std::nullopt);
}

TEST_P(ModuleFlavor, VersionsUnterminatedName) {
  const FlavorParam &f = GetParam();
  ElfBuilder b(f.is64, f.le, f.machine);
  u32 idx = b.add("__versions", versions_section(f, {{1, "ok"}, {2, std::string(64, 'x')}}));
  auto r = parse(b.build().bytes);
  // kmod reads on (its depmod still resolves the module's imports); kmx records the problem.
  ASSERT_TRUE(r) << r.error().msg;
  EXPECT_EQ(r->versions_problem, "section [" + std::to_string(idx) + "] __versions entry 1 has an unterminated name");
  ASSERT_EQ(r->versions.size(), 2u);
  EXPECT_EQ(r->versions[0].name, "ok");
  EXPECT_EQ(r->versions[1].name, std::string(f.is64 ? 56 : 60, 'x'));
}

TEST_P(ModuleFlavor, VersionsSizeNotMultiple) {
  const FlavorParam &f = GetParam();
  ElfBuilder b(f.is64, f.le, f.machine);
  Bytes v = versions_section(f, {{1, "ok"}});
  v.resize(100);
  u32 idx = b.add("__versions", v);
  auto r = parse(b.build().bytes);
  ASSERT_TRUE(r) << r.error().msg;
  EXPECT_EQ(r->versions_problem, "section [" + std::to_string(idx) + "] __versions size 100 is not a multiple of 64");
  ASSERT_EQ(r->versions.size(), 1u);
  EXPECT_EQ(r->versions[0].name, "ok");
}

// __versions as kmod dumps it, for files made here in every flavour (CRCs printed as
// 0x%08llx). ".dotted": kmod's reader drops one leading '.' of a name (ppc64 ELFv1 dot
// symbols), so kmod's view of that entry is "dotted".
TEST(ModuleElf, VersionsMatchKmodDump) {
  if (!executable(kmod_modprobe)) GTEST_SKIP() << "skipped: " << kmod_modprobe << " not installed";
  for (const FlavorParam &f : kFlavors) {
    ElfBuilder b(f.is64, f.le, f.machine);
    b.add(".modinfo", nul_strings({"license=GPL"}));
    b.add("__versions",
          versions_section(f, {{0xdeadbeef, "module_layout"}, {0x0badcafe, "printk"}, {7, "x"}, {8, ".dotted"}}));
    b.undef("printk");
    Bytes img = b.build().bytes;
    TempFile tmp(img);
    auto r = parse(img);
    ASSERT_TRUE(r) << r.error().msg;
    std::string ours;
    for (const SymbolVersion &v : r->versions) {
      char buf[128];
      std::snprintf(buf, sizeof buf, "0x%08llx\t%s\n", static_cast<unsigned long long>(v.crc), v.name.c_str());
      ours += buf;
    }
    EXPECT_EQ(ours, run_cmd(std::string(kmod_modprobe) + " --dump-modversions " + tmp.path() + " 2>&1")) << f.name;
  }
}

// ---------------------------------------------------------------------------------------
// Exports, by the __ksymtab_/__kstrtabns_/__crc_ labels.

TEST_P(ModuleFlavor, ExportsByLabel) {
  const FlavorParam &f = GetParam();
  ElfBuilder b(f.is64, f.le, f.machine);
  b.add(".modinfo", nul_strings({"license=GPL"}));
  b.add("__ksymtab", Bytes(24, 0));
  b.add("__ksymtab_gpl", Bytes(12, 0));
  b.add("__ksymtab_gpl_future", Bytes(12, 0));
  Bytes kcrc, kcrc_gpl;
  append_uint(kcrc, 0xaaaa0001, 4, f.le);
  append_uint(kcrc, 0xaaaa0002, 4, f.le);
  append_uint(kcrc_gpl, 0xbbbb0001, 4, f.le);
  b.add("__kcrctab", kcrc);
  b.add("__kcrctab_gpl", kcrc_gpl);
  // "MY_NS" is at offset 28.
  b.add("__ksymtab_strings", nul_strings({"second", "first", "gpl_one", "future", "MY_NS"}));
  // Symbol order differs from table order on purpose: exports follow the tables.
  b.def("__ksymtab_second", "__ksymtab", 12, elf::STB_LOCAL);
  b.def("__ksymtab_first", "__ksymtab", 0, elf::STB_LOCAL);
  b.def("__ksymtab_gpl_one", "__ksymtab_gpl", 0, elf::STB_LOCAL);
  b.def("__ksymtab_future", "__ksymtab_gpl_future", 0, elf::STB_LOCAL);
  b.def("__ksymtab_not_in_a_table", ".modinfo", 0, elf::STB_LOCAL);  // not an export
  b.def("__kstrtabns_gpl_one", "__ksymtab_strings", 28, elf::STB_LOCAL);
  b.def("__kstrtabns_first", "__ksymtab_strings", 0x1000, elf::STB_LOCAL);  // past the end: no namespace
  b.def("__crc_first", "__kcrctab", 0, elf::STB_LOCAL);
  b.def("__crc_second", "__kcrctab", 4, elf::STB_LOCAL);
  b.def("__crc_gpl_one", "__kcrctab_gpl", 0, elf::STB_LOCAL);
  ElfBuilder::Symbol abs;  // old kernels: the CRC is the symbol's absolute value
  abs.name = "__crc_future";
  abs.shndx = elf::SHN_ABS;
  abs.value = f.is64 ? 0xffffffff12345678ull : 0x12345678u;
  abs.bind = elf::STB_LOCAL;
  b.sym(abs);
  auto r = parse(b.build().bytes);
  ASSERT_TRUE(r) << r.error().msg;
  ASSERT_EQ(r->exports.size(), 4u);
  const auto &e = r->exports;
  EXPECT_EQ(e[0].name, "first");
  EXPECT_EQ(e[0].license, ExportLicense::plain);
  EXPECT_EQ(e[0].ns, "");
  EXPECT_EQ(e[0].crc, 0xaaaa0001u);
  EXPECT_EQ(e[1].name, "second");
  EXPECT_EQ(e[1].crc, 0xaaaa0002u);
  EXPECT_EQ(e[2].name, "gpl_one");
  EXPECT_EQ(e[2].license, ExportLicense::gpl);
  EXPECT_EQ(e[2].ns, "MY_NS");
  EXPECT_EQ(e[2].crc, 0xbbbb0001u);
  EXPECT_EQ(e[3].name, "future");
  EXPECT_EQ(e[3].license, ExportLicense::gpl_future);
  EXPECT_EQ(e[3].crc, 0x12345678u);
  EXPECT_EQ(r->ksymtab_strings, (std::vector<std::string>{"second", "first", "gpl_one", "future", "MY_NS"}));
  EXPECT_TRUE(r->imports.empty());
}

TEST(ModuleElf, ExportCrcOutOfRangeIsAbsent) {
  ElfBuilder b;
  b.add("__ksymtab", Bytes(12, 0));
  b.add("__kcrctab", Bytes(4, 0));
  b.def("__ksymtab_x", "__ksymtab", 0);
  b.def("__crc_x", "__kcrctab", 2);  // 4 bytes at 2 do not fit
  auto r = parse(b.build().bytes);
  ASSERT_TRUE(r) << r.error().msg;
  ASSERT_EQ(r->exports.size(), 1u);
  EXPECT_EQ(r->exports[0].crc, std::nullopt);
}

TEST_P(ModuleFlavor, ThisModuleSizeAndBuildId) {
  const FlavorParam &f = GetParam();
  ElfBuilder b(f.is64, f.le, f.machine);
  b.add(".gnu.linkonce.this_module", Bytes(0x380, 0));
  Bytes note;
  append_uint(note, 4, 4, f.le);   // namesz
  append_uint(note, 20, 4, f.le);  // descsz
  append_uint(note, 3, 4, f.le);   // NT_GNU_BUILD_ID
  for (char c : std::string("GNU", 4)) note.push_back(static_cast<u8>(c));
  for (u8 i = 0; i < 20; i++) note.push_back(static_cast<u8>(0xa0 + i));
  b.add(".note.gnu.build-id", note, elf::SHT_NOTE);
  auto r = parse(b.build().bytes);
  ASSERT_TRUE(r) << r.error().msg;
  EXPECT_EQ(r->this_module_size, 0x380u);
  ASSERT_EQ(r->build_id.size(), 20u);
  EXPECT_EQ(r->build_id[0], 0xa0);
  EXPECT_EQ(r->build_id[19], 0xb3);
}

INSTANTIATE_TEST_SUITE_P(Flavors, ModuleFlavor, ::testing::ValuesIn(kFlavors),
                         [](const auto &info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------------------
// Compression, by magic, with the libraries' own encoders.

Bytes xz_encode(const Bytes &in) {
  Bytes out(lzma_stream_buffer_bound(in.size()));
  size_t pos = 0;
  if (lzma_easy_buffer_encode(1, LZMA_CHECK_CRC64, nullptr, in.data(), in.size(), out.data(), &pos, out.size()) !=
      LZMA_OK)
    return {};
  out.resize(pos);
  return out;
}

Bytes zstd_encode(const Bytes &in) {
  Bytes out(ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  if (ZSTD_isError(n)) return {};
  out.resize(n);
  return out;
}

Bytes gzip_encode(const Bytes &in) {
  z_stream s{};
  if (deflateInit2(&s, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  Bytes out(deflateBound(&s, in.size()) + 32);
  s.next_in = const_cast<Bytef *>(in.data());
  s.avail_in = static_cast<uInt>(in.size());
  s.next_out = out.data();
  s.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&s, Z_FINISH);
  out.resize(s.total_out);
  deflateEnd(&s);
  return rc == Z_STREAM_END ? out : Bytes{};
}

Bytes sample_module() {
  ElfBuilder b;
  b.add(".modinfo", nul_strings({"license=GPL", "name=sample", "vermagic=6.1.0 SMP mod_unload"}));
  b.add(".gnu.linkonce.this_module", Bytes(0x380, 0));
  b.add(".text", Bytes(4096, 0x90));  // something worth compressing
  b.undef("printk");
  return b.build().bytes;
}

TEST(ModuleElf, CompressedInputs) {
  Bytes plain = sample_module();
  struct Case {
    Compression c;
    Bytes data;
  };
  const Case cases[] = {{Compression::xz, xz_encode(plain)},
                        {Compression::zstd, zstd_encode(plain)},
                        {Compression::gzip, gzip_encode(plain)}};
  for (const Case &c : cases) {
    ASSERT_FALSE(c.data.empty());
    auto r = parse(c.data);
    ASSERT_TRUE(r) << compression_name(c.c) << ": " << r.error().msg;
    EXPECT_EQ(r->compression, c.c);
    EXPECT_EQ(r->file_size, c.data.size());
    EXPECT_EQ(r->elf_size, plain.size());
    EXPECT_EQ(r->get("name"), "sample");
    ASSERT_EQ(r->imports.size(), 1u);
    EXPECT_EQ(r->this_module_size, 0x380u);

    // The cap: one byte short of the image fails with EFBIG and says so; exactly enough works.
    auto capped = parse(c.data, ReadLimits{plain.size() - 1});
    ASSERT_FALSE(capped) << compression_name(c.c);
    EXPECT_EQ(capped.error().to_errno(), EFBIG);
    EXPECT_NE(capped.error().msg.find("exceeds the limit of " + std::to_string(plain.size() - 1) + " bytes"),
              std::string::npos)
        << capped.error().msg;
    EXPECT_TRUE(parse(c.data, ReadLimits{plain.size()})) << compression_name(c.c);

    // A truncated stream is an error, not a short module.
    Bytes cut(c.data.begin(), c.data.begin() + static_cast<long>(c.data.size() / 2));
    EXPECT_FALSE(parse(cut)) << compression_name(c.c);
  }
}

// A small stream that inflates far past the cap (a "bomb") is refused without allocating it.
TEST(ModuleElf, DecompressionBombIsCapped) {
  Bytes zeros(16 << 20, 0);
  Bytes z = zstd_encode(zeros);
  ASSERT_LT(z.size(), 64u << 10);
  auto r = parse(z, ReadLimits{1 << 20});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().to_errno(), EFBIG);
}

TEST(ModuleElf, ReadModuleNamesTheFile) {
  Bytes img = sample_module();
  img[0] = 0;
  TempFile tmp(img);
  auto r = read_module(tmp.path());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().msg, "'" + tmp.path() + "': not an ELF file (bad magic)");
  EXPECT_EQ(r.error().to_errno(), ENOEXEC);

  auto missing = read_module("/nonexistent/dir/x.ko");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().to_errno(), ENOENT);
  EXPECT_NE(missing.error().msg.find("/nonexistent/dir/x.ko"), std::string::npos) << missing.error().msg;

  // kmod cannot map an empty file and says EINVAL.
  TempFile empty(Bytes{});
  auto e = read_module(empty.path());
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().msg, "'" + empty.path() + "': empty file");
  EXPECT_EQ(e.error().to_errno(), EINVAL);

  TempFile good(sample_module());
  auto ok = read_module(good.path());
  ASSERT_TRUE(ok) << ok.error().msg;
  EXPECT_EQ(ok->path, good.path());
}

TEST(ModuleElf, ModuleNameFromPath) {
  struct Case {
    const char *path, *name;
  };
  const Case cases[] = {
      {"/lib/modules/6.1.0/kernel/drivers/net/e1000e.ko", "e1000e"},
      {"/lib/modules/6.1.0/kernel/sound/snd-hda-intel.ko.xz", "snd_hda_intel"},
      {"snd-pcm.ko.zst", "snd_pcm"},
      {"dir.with.dots/mod-a.ko.gz", "mod_a"},
      {"noext", "noext"},
      {"/trailing/", ""},
      {"", ""},
      {".hidden.ko", ""},
  };
  for (const Case &c : cases) EXPECT_EQ(module_name_from_path(c.path), c.name) << c.path;
  EXPECT_EQ(normalize_module_name("a-b-c"), "a_b_c");
}

// ---------------------------------------------------------------------------------------
// The peer testsuite's real modules (built by kbuild), checked against kmod and readelf.

std::vector<std::string> peer_module_files() {
  std::vector<std::string> v;
  std::error_code ec;
  for (auto &e : fs::directory_iterator(test::peer_modules, ec))
    if (e.path().string().find(".ko") != std::string::npos) v.push_back(e.path().string());
  std::sort(v.begin(), v.end());
  return v;
}

// The uncompressed bytes of a fixture, by the system's own tools (not by kmx).
std::string plain_copy(const std::string &path, const std::string &dir) {
  std::string tool = path.ends_with(".xz") ? "xz -dc" : path.ends_with(".zst") ? "zstd -qdc" : path.ends_with(".gz") ? "gzip -dc" : "cat";
  std::string out = dir + "/" + fs::path(path).filename().string() + ".plain.ko";
  if (std::system((tool + " '" + path + "' > '" + out + "' 2>/dev/null").c_str()) != 0) return "";
  return out;
}

TEST(ModuleElfPeer, MatchesKmodAndReadelf) {
  std::vector<std::string> mods = peer_module_files();
  if (mods.empty()) GTEST_SKIP() << "skipped: " << test::peer_modules << " not present";
  if (!executable(kmod_modinfo) || !executable(kmod_modprobe)) GTEST_SKIP() << "skipped: kmod tools not installed";
  kmx::test::TempDir tmp("kmx-elftest-peer");  // removed however the test ends
  ASSERT_FALSE(tmp.path.empty());
  const std::string &dir = tmp.path;
  size_t checked = 0, with_exports = 0;
  for (const std::string &path : mods) {
    SCOPED_TRACE(path);
    auto r = read_module(path);
    ASSERT_TRUE(r) << r.error().msg;
    std::string plain = plain_copy(path, dir);
    ASSERT_NE(plain, "");
    EXPECT_EQ(r->elf_size, fs::file_size(plain));

    // .modinfo, in order, as kmod's modinfo prints it.
    EXPECT_EQ(entries(*r), kmod_modinfo_of(plain));

    // __versions, as modprobe --dump-modversions prints it.
    std::string ours;
    for (const SymbolVersion &v : r->versions) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "0x%08llx\t%s\n", static_cast<unsigned long long>(v.crc), v.name.c_str());
      ours += buf;
    }
    EXPECT_EQ(ours, run_cmd(std::string(kmod_modprobe) + " --dump-modversions '" + plain + "' 2>/dev/null"));

    // Exports with their CRCs, as modprobe --show-exports lists them (when there are any).
    std::string kmod_exports = run_cmd(std::string(kmod_modprobe) + " --show-exports '" + plain + "' 2>/dev/null");
    std::set<std::string> theirs, mine;
    std::istringstream es(kmod_exports);
    std::string line;
    while (std::getline(es, line)) theirs.insert(line);
    for (const ExportedSymbol &e : r->exports) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "0x%08llx\t%s", static_cast<unsigned long long>(e.crc.value_or(0)), e.name.c_str());
      mine.insert(buf);
    }
    EXPECT_EQ(mine, theirs);
    with_exports += !mine.empty();

    // Imports: readelf's undefined symbols with a name, weak ones marked.
    std::set<std::string> und, our_und;
    std::istringstream ss(run_cmd("readelf -sW '" + plain + "' 2>/dev/null"));
    while (std::getline(ss, line)) {
      std::istringstream ls(line);
      std::string num, value, size, type, bind, vis, ndx, name;
      if (!(ls >> num >> value >> size >> type >> bind >> vis >> ndx >> name)) continue;
      if (ndx == "UND") und.insert(name + (bind == "WEAK" ? " weak" : ""));
    }
    for (const ImportedSymbol &i : r->imports) our_und.insert(i.name + (i.weak ? " weak" : ""));
    EXPECT_EQ(our_und, und);

    // .gnu.linkonce.this_module's size, as readelf shows it.
    std::istringstream sec(run_cmd("readelf -SW '" + plain + "' 2>/dev/null"));
    std::optional<u64> this_module;
    while (std::getline(sec, line)) {
      size_t rb = line.find(']');
      if (rb == std::string::npos) continue;
      std::istringstream ls(line.substr(rb + 1));
      std::string name, type, addr, off, size;
      if ((ls >> name >> type >> addr >> off >> size) && name == ".gnu.linkonce.this_module")
        this_module = std::stoull(size, nullptr, 16);
    }
    EXPECT_EQ(r->this_module_size, this_module);
    fs::remove(plain);
    checked++;
  }
  EXPECT_GE(checked, 10u);
  EXPECT_GE(with_exports, 5u);
}

// Past a count limit a module is bad input (Errc::too_large, EINVAL as kmod would say for a
// module it cannot use), refused before anything is allocated for the entries.
TEST(ModuleElf, CountLimitsMakeBadInput) {
  ElfBuilder b;
  b.add(".modinfo", nul_strings({"license=GPL", "alias=a", "alias=b", "alias=c"}));
  b.add(".gnu.linkonce.this_module", Bytes(64, 0));
  for (int i = 0; i < 5; i++) b.undef("sym" + std::to_string(i));
  Bytes img = b.build().bytes;
  ASSERT_TRUE(parse(img));

  ReadLimits few;
  few.max_symbols = 4;  // .modinfo has 4 strings: fits; .symtab has 6 entries: does not
  auto r = parse(img, few);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::too_large);
  EXPECT_EQ(r.error().sys_errno, EINVAL);
  EXPECT_EQ(r.error().msg, "section [3] .symtab has 6 symbols, more than the limit of 4 for a module");

  few.max_symbols = 3;
  r = parse(img, few);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().msg, ".modinfo has more than 3 entries, the limit for a module");

  ReadLimits sections;
  sections.max_sections = 5;
  r = parse(img, sections);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::too_large);
  EXPECT_EQ(r.error().msg, "6 sections, more than the limit of 5 for a module");
}

// The errno kmod's libkmod gives each kind of unreadable file, carried by the error itself
// (depmod reports it without reading the file a second time).
TEST(ModuleElf, ErrnoAsLibkmodSaysIt) {
  auto errno_of = [](Bytes b) {
    auto r = parse(b);
    return r ? 0 : r.error().sys_errno;
  };
  EXPECT_EQ(errno_of(Bytes{}), EINVAL);                             // empty
  EXPECT_EQ(errno_of(bytes_of("abc")), EINVAL);                     // shorter than the magic
  EXPECT_EQ(errno_of(bytes_of("not an ELF file at all")), ENOEXEC);  // no ELF magic
  Bytes short_elf = bytes_of("\x7f" "ELF");
  short_elf.resize(16, 0);
  EXPECT_EQ(errno_of(short_elf), ENOEXEC);  // no room past e_ident
  short_elf[4] = 2;
  short_elf[5] = 1;
  short_elf.resize(40, 0);
  EXPECT_EQ(errno_of(short_elf), EINVAL);  // ELF, but the header is cut short
}

}  // namespace

TEST(ModuleExtension, KmodSuffixes) {
  // The one test of a module file name (depmod, modinfo, check, scan, kernel profiles).
  EXPECT_TRUE(has_module_extension("a.ko"));
  EXPECT_TRUE(has_module_extension("a.ko.xz"));
  EXPECT_TRUE(has_module_extension("a.ko.zst"));
  EXPECT_TRUE(has_module_extension("a.ko.gz"));
  EXPECT_FALSE(has_module_extension(".ko"));
  EXPECT_FALSE(has_module_extension("a.ko.bz2"));
  EXPECT_FALSE(has_module_extension("a.o"));
  EXPECT_TRUE(has_module_extension("/lib/modules/6.1/kernel/a-b.ko.xz"));
}
