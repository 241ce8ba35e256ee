// Fuzz target for the module reader: parse_module() (decompression by magic, signature
// trailer, ELF checks, .modinfo, __versions, symbols, exports, build-id) must return a
// ModuleInfo or an Error for any input, never crash, hang or read out of bounds. Every field
// of the result is touched so that a dangling view or an uninitialised value shows up under
// ASan/MSan, and ElfFile's accessors are driven directly too.
#include <cstddef>
#include <cstdint>

#include "elf/elf-file.h"
#include "elf/module-elf.h"
#include "elf/module-signature.h"

namespace {

volatile size_t sink;

void touch(const std::string &s) {
  size_t h = s.size();
  for (char c : s) h = h * 31 + static_cast<unsigned char>(c);
  sink = sink + h;
}
void touch(const kmx::Bytes &b) {
  size_t h = b.size();
  for (kmx::u8 c : b) h = h * 31 + c;
  sink = sink + h;
}

void touch(const kmx::ModuleInfo &mi) {
  sink = sink + mi.file_size + mi.elf_size + mi.is64 + mi.little_endian + mi.e_machine +
         static_cast<size_t>(mi.compression) + mi.this_module_size.value_or(0);
  for (const kmx::ModinfoEntry &e : mi.modinfo) {
    touch(e.key);
    touch(e.value);
  }
  for (const kmx::SymbolVersion &v : mi.versions) {
    touch(v.name);
    sink = sink + v.crc;
  }
  for (const kmx::ImportedSymbol &i : mi.imports) {
    touch(i.name);
    sink = sink + i.weak + i.crc.value_or(0);
  }
  for (const kmx::ExportedSymbol &e : mi.exports) {
    touch(e.name);
    touch(e.ns);
    sink = sink + static_cast<size_t>(e.license) + e.crc.value_or(0);
  }
  for (const std::string &s : mi.ksymtab_strings) touch(s);
  if (mi.signature) {
    const kmx::ModuleSignature &s = *mi.signature;
    sink = sink + s.algo + s.hash + s.id_type + s.sig_len;
    touch(s.id_type_name);
    touch(s.hash_algo);
    touch(s.signer);
    touch(s.key_id);
    touch(s.signature);
  }
  touch(mi.signature_problem);
  touch(mi.build_id);
  if (auto v = mi.get("vermagic")) touch(*v);
  for (const std::string &a : mi.get_all("alias")) touch(a);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kmx::ByteView in(data, size);
  // Small caps keep decompression bombs from dominating the run and put the count limits
  // (sections, symbols, table entries) within reach of small inputs.
  kmx::ReadLimits limits;
  limits.max_module_size = 16u << 20;
  limits.max_sections = 64;
  limits.max_symbols = 256;
  auto mi = kmx::parse_module(in, limits);
  if (mi) touch(*mi);
  else touch(mi.error().msg);

  // The ELF layer on its own, on the raw bytes (no decompression, no trailer split).
  auto elf = kmx::ElfFile::parse(in, size % 2 ? 64 : UINT64_MAX);
  if (!elf) {
    touch(elf.error().msg);
    return 0;
  }
  for (size_t i = 0; i < elf->sections().size(); i++) {
    const kmx::ElfSection &s = elf->sections()[i];
    touch(std::string(s.name));
    sink = sink + s.type + s.flags + s.offset + s.size + s.link + s.info + s.entsize;
    auto d = elf->section_data(static_cast<kmx::u32>(i));
    if (d && !d->empty()) sink = sink + (*d)[0] + (*d)[d->size() - 1] + elf->read_uint(*d, 0, 4).value_or(0);
    if (d) sink = sink + elf->read_uint(*d, d->size() > 8 ? d->size() - 8 : 0, 8).value_or(0);
  }
  auto syms = elf->symbols(size % 3 ? 256 : UINT64_MAX);
  if (syms) {
    for (const kmx::ElfSymbol &s : *syms) {
      touch(std::string(s.name));
      sink = sink + s.value + s.size + s.shndx + s.bind + s.type;
    }
  } else {
    touch(syms.error().msg);
  }
  (void)elf->find_section(".modinfo");
  (void)elf->section_data(0xffffffffu);

  kmx::SplitModule split = kmx::split_signature(in);
  if (split.has_signature) {
    auto sig = kmx::parse_signature(split);
    if (sig) touch(sig->signer);
  }
  return 0;
}
