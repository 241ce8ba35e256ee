#include "elf/module-elf.h"

#include <algorithm>
#include <unordered_map>

#include "base/mapped-file.h"
#include "elf/elf-file.h"
#include "elf/elf-types.h"
#include "elf/module-signature.h"

namespace kmx {

using namespace elf;

std::vector<std::string> ModuleInfo::get_all(std::string_view key) const {
  std::vector<std::string> out;
  for (const ModinfoEntry &e : modinfo)
    if (e.key == key) out.push_back(e.value);
  return out;
}

std::optional<std::string> ModuleInfo::get(std::string_view key) const {
  for (const ModinfoEntry &e : modinfo)
    if (e.key == key) return e.value;
  return std::nullopt;
}

std::string normalize_module_name(std::string_view name) {
  std::string s(name);
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

bool has_module_extension(std::string_view name) {
  for (std::string_view ext : {".ko", ".ko.gz", ".ko.xz", ".ko.zst"})
    if (name.size() > ext.size() && name.substr(name.size() - ext.size()) == ext) return true;
  return false;
}

std::string module_name_from_path(std::string_view path) {
  size_t slash = path.rfind('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return normalize_module_name(base.substr(0, base.find('.')));
}

namespace {

std::string num(u64 v) { return std::to_string(v); }

Failure too_many(const std::string &what, u64 limit) {
  return Failure{Error{Errc::too_large, what + " has more than " + num(limit) + " entries, the limit for a module", EINVAL}};
}

// .modinfo: NUL-separated "key=value" strings; runs of NULs are padding between entries.
Status read_modinfo(ByteView sec, ModuleInfo &mi, u64 limit) {
  std::string_view all = sec.as_string();
  size_t i = 0;
  while (i < all.size()) {
    size_t end = all.find('\0', i);
    if (end == std::string_view::npos) end = all.size();  // unterminated last string: kept, as kmod does
    std::string_view s = all.substr(i, end - i);
    i = end + 1;
    if (s.empty()) continue;
    if (mi.modinfo.size() >= limit) return too_many(".modinfo", limit);
    size_t eq = s.find('=');
    // A string without '=' is a key with an empty value, as kmod_module_get_info() reads it.
    if (eq == std::string_view::npos) mi.modinfo.push_back({std::string(s), ""});
    else mi.modinfo.push_back({std::string(s.substr(0, eq)), std::string(s.substr(eq + 1))});
  }
  return {};
}

// __versions is read leniently, as kmod reads it: a section whose size is not a multiple of
// the entry size still yields its whole entries, and an unterminated name ends at its field.
// Either is recorded in versions_problem (the kernel itself would refuse the module) rather
// than failing the module, so that depmod still computes its dependencies as kmod does.
Status read_versions(const ElfFile &elf, ModuleInfo &mi, u64 limit) {
  if (auto idx = elf.find_section("__versions")) {
    TRY_ASSIGN(ByteView sec, elf.section_data(*idx));
    const unsigned crc_size = elf.is64() ? 8 : 4;
    const u64 entry = 64;
    if (sec.size() / entry > limit) return too_many("__versions", limit);
    if (sec.size() % entry != 0)
      mi.versions_problem = "section [" + num(*idx) + "] __versions size " + num(sec.size()) +
                            " is not a multiple of " + num(entry);
    for (u64 off = 0; off + entry <= sec.size(); off += entry) {
      SymbolVersion v;
      v.crc = *elf.read_uint(sec, off, crc_size);
      std::string_view name = sec.sub(off + crc_size, entry - crc_size)->as_string();
      size_t nul = name.find('\0');
      if (nul == std::string_view::npos && mi.versions_problem.empty())
        mi.versions_problem = "section [" + num(*idx) + "] __versions entry " + num(off / entry) +
                              " has an unterminated name";
      // A leading '.' (ppc64 ELFv1 function descriptors) is not part of the symbol name: the
      // kernel's dedotify_versions() and kmod both drop it.
      std::string_view n = name.substr(0, nul);
      if (n.starts_with('.')) n.remove_prefix(1);
      v.name = std::string(n);
      mi.versions.push_back(std::move(v));
    }
  }
  auto crcs_idx = elf.find_section("__version_ext_crcs");
  auto names_idx = elf.find_section("__version_ext_names");
  if (crcs_idx && names_idx) {
    TRY_ASSIGN(ByteView crcs, elf.section_data(*crcs_idx));
    TRY_ASSIGN(ByteView names, elf.section_data(*names_idx));
    Cursor nc(names);
    if (crcs.size() / 4 > limit) return too_many("__version_ext_crcs", limit);
    for (u64 off = 0; off + 4 <= crcs.size(); off += 4) {
      std::string_view name = nc.cstr();
      if (!nc.ok())
        return fail(Errc::invalid_format, "section [" + num(*names_idx) + "] __version_ext_names has fewer names than " +
                                              "__version_ext_crcs has CRCs");
      mi.versions.push_back({std::string(name), *elf.read_uint(crcs, off, 4)});
    }
  }
  return {};
}

ExportLicense license_of_section(std::string_view name, bool &is_ksymtab) {
  is_ksymtab = true;
  if (name == "__ksymtab") return ExportLicense::plain;
  if (name == "__ksymtab_gpl") return ExportLicense::gpl;
  if (name == "__ksymtab_gpl_future") return ExportLicense::gpl_future;
  is_ksymtab = false;
  return ExportLicense::plain;
}

Status read_symbols(const ElfFile &elf, ModuleInfo &mi, u64 limit) {
  TRY_ASSIGN(std::vector<ElfSymbol> syms, elf.symbols(limit));
  const auto &secs = elf.sections();

  std::unordered_map<std::string_view, u64> crc_of;
  for (const SymbolVersion &v : mi.versions) crc_of.emplace(v.name, v.crc);

  // Labels of the export tables, keyed by export name.
  std::unordered_map<std::string_view, const ElfSymbol *> ns_label, crc_label;
  struct Ksym {
    const ElfSymbol *sym;
    ExportLicense lic;
    u32 shndx;
  };
  std::vector<Ksym> ksyms;

  bool first = true;
  for (const ElfSymbol &s : syms) {
    if (first) {  // index 0 is the reserved null symbol
      first = false;
      continue;
    }
    if (s.shndx == SHN_UNDEF) {
      if (s.name.empty()) continue;
      ImportedSymbol imp;
      imp.name = std::string(s.name);
      imp.weak = s.bind == STB_WEAK;
      if (auto it = crc_of.find(s.name); it != crc_of.end()) imp.crc = it->second;
      mi.imports.push_back(std::move(imp));
      continue;
    }
    std::string_view n = s.name;
    if (n.starts_with("__ksymtab_") && s.shndx < secs.size()) {
      bool is_ksymtab;
      ExportLicense lic = license_of_section(secs[s.shndx].name, is_ksymtab);
      if (is_ksymtab) ksyms.push_back({&s, lic, s.shndx});
    } else if (n.starts_with("__kstrtabns_")) {
      ns_label.emplace(n.substr(12), &s);
    } else if (n.starts_with("__crc_")) {
      crc_label.emplace(n.substr(6), &s);
    }
  }

  // Export order is table order: plain, GPL, GPL-future tables, each by entry offset.
  std::stable_sort(ksyms.begin(), ksyms.end(), [](const Ksym &a, const Ksym &b) {
    if (a.lic != b.lic) return a.lic < b.lic;
    return a.sym->value < b.sym->value;
  });
  for (const Ksym &k : ksyms) {
    ExportedSymbol e;
    std::string_view name = k.sym->name.substr(10);
    e.name = std::string(name);
    e.license = k.lic;
    if (auto it = ns_label.find(name); it != ns_label.end() && it->second->shndx < secs.size()) {
      TRY_ASSIGN(ByteView strs, elf.section_data(it->second->shndx));
      if (auto tail = strs.from(it->second->value)) {
        std::string_view s = tail->as_string();
        e.ns = std::string(s.substr(0, s.find('\0')));
      }
    }
    if (auto it = crc_label.find(name); it != crc_label.end()) {
      const ElfSymbol *c = it->second;
      if (c->shndx == SHN_ABS) {
        e.crc = c->value & 0xffffffffu;
      } else if (c->shndx < secs.size()) {
        TRY_ASSIGN(ByteView tab, elf.section_data(c->shndx));
        e.crc = elf.read_uint(tab, c->value, 4);
      }
    }
    mi.exports.push_back(std::move(e));
  }
  return {};
}

Status read_ksymtab_strings(ByteView sec, ModuleInfo &mi, u64 limit) {
  std::string_view all = sec.as_string();
  size_t i = 0;
  while (i < all.size()) {
    size_t end = all.find('\0', i);
    if (end == std::string_view::npos) end = all.size();
    if (end > i) {
      if (mi.ksymtab_strings.size() >= limit) return too_many("__ksymtab_strings", limit);
      mi.ksymtab_strings.emplace_back(all.substr(i, end - i));
    }
    i = end + 1;
  }
  return {};
}

// ELF note: namesz, descsz, type (file byte order), then name and desc each padded to 4.
void read_build_id(const ElfFile &elf, ByteView sec, ModuleInfo &mi) {
  u64 off = 0;
  while (off + 12 <= sec.size()) {
    u64 namesz = *elf.read_uint(sec, off, 4), descsz = *elf.read_uint(sec, off + 4, 4);
    u64 type = *elf.read_uint(sec, off + 8, 4);
    u64 name_off = off + 12, desc_off = name_off + ((namesz + 3) & ~u64(3));
    auto desc = sec.sub(desc_off, descsz);
    if (!desc) return;
    auto name = sec.sub(name_off, namesz);
    if (type == NT_GNU_BUILD_ID && name && name->as_string() == std::string_view("GNU\0", 4)) {
      mi.build_id.assign(desc->begin(), desc->end());
      return;
    }
    off = desc_off + ((descsz + 3) & ~u64(3));
  }
}

}  // namespace

Result<ModuleInfo> parse_module(ByteView file, const ReadOptions &opts) {
  ModuleInfo mi;
  mi.file_size = file.size();
  // kmod cannot map an empty file and reports EINVAL; keep its errno.
  if (file.empty()) return Failure{Error{Errc::invalid_format, "empty file", EINVAL}};
  mi.compression = detect_compression(file);
  Buffer owned;
  ByteView image = file;
  if (mi.compression != Compression::none) {
    TRY_ASSIGN(owned, decompress(mi.compression, file, opts.max_module_size));
    image = owned;
  }

  SplitModule split = split_signature(image);
  mi.signature_problem = split.problem;
  if (split.has_signature) {
    auto sig = parse_signature(split);
    if (sig) mi.signature = std::move(*sig);
    else mi.signature_problem = sig.error().msg;
  }
  mi.elf_size = split.elf.size();

  auto parsed = ElfFile::parse(split.elf, opts.max_sections);
  if (!parsed) {
    Error e = std::move(parsed).error();
    // libkmod: kmod_file_open() reads 6 bytes of magic (a shorter file is EINVAL), then
    // elf_identify() says ENOEXEC for an image without room for e_ident or the ELF magic;
    // anything wrong after that is EINVAL.
    static const u8 elfmag[4] = {0x7f, 'E', 'L', 'F'};
    if (file.size() < 6) e.sys_errno = EINVAL;
    else if (image.size() <= 16 || !std::equal(elfmag, elfmag + 4, image.begin())) e.sys_errno = ENOEXEC;
    else if (e.sys_errno == 0) e.sys_errno = EINVAL;
    return fail(std::move(e));
  }
  ElfFile &elf = *parsed;
  mi.is64 = elf.is64();
  mi.little_endian = elf.little_endian();
  mi.e_machine = elf.machine();
  mi.e_type = elf.type();

  if (auto idx = elf.find_section(".modinfo")) {
    TRY_ASSIGN(ByteView sec, elf.section_data(*idx));
    TRY(read_modinfo(sec, mi, opts.max_symbols));
  }
  if (opts.symbols) {
    TRY(read_versions(elf, mi, opts.max_symbols));
    TRY(read_symbols(elf, mi, opts.max_symbols));
    if (auto idx = elf.find_section("__ksymtab_strings")) {
      TRY_ASSIGN(ByteView sec, elf.section_data(*idx));
      TRY(read_ksymtab_strings(sec, mi, opts.max_symbols));
    }
  }
  if (auto idx = elf.find_section(".gnu.linkonce.this_module")) mi.this_module_size = elf.sections()[*idx].size;
  if (auto idx = elf.find_section(".note.gnu.build-id")) {
    TRY_ASSIGN(ByteView sec, elf.section_data(*idx));
    read_build_id(elf, sec, mi);
  }
  return mi;
}

Result<ModuleInfo> read_module(const std::string &path, const ReadOptions &opts) {
  auto file = MappedFile::open(path);
  if (!file) return fail(with_context(std::move(file).error(), path));
  auto mi = parse_module(file->view(), opts);
  if (!mi) return fail(with_context(std::move(mi).error(), path));
  mi->path = path;
  return mi;
}

}  // namespace kmx
