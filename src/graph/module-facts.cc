// ModuleFacts extraction and the cache format.
//
// CACHE FORMAT (kmx-private, file "modules.kmx-cache" beside the indexes)
//   "KMXDEPC2"                 8-byte magic (the digit is the format version)
//   u64 LE checksum            FNV-1a 64 of every byte after this field
//   u32 LE entry count
//   entries: str path, u64 size, u64 mtime_ns, u64 ctime_ns, u64 ino, u64 dev, i32 error,
//            u8 over_limit, str reason,
//            u32 n + n x (str name, u64 crc)                 exports
//            u32 n + n x (str name, u64 crc, u8 weak)        dep symbols
//            u32 n + n x (str key, str value)                info
//   str = u32 LE length + bytes. A file that is short, long, or fails the checksum is
//   rejected whole; the caller then rebuilds every entry from the modules.
#include "graph/module-facts.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "base/mapped-file.h"
#include "elf/module-elf.h"

namespace kmx {

ModuleFacts facts_from_module_info(const ModuleInfo &mi) {
  ModuleFacts f;
  for (const ExportedSymbol &e : mi.exports)
    if (e.crc) f.exports.emplace_back(e.name, *e.crc);
  if (f.exports.empty())
    for (const std::string &s : mi.ksymtab_strings) f.exports.emplace_back(s, 0);

  // kmod_elf_get_dependency_symbols() ignores a __versions section whose size is not a
  // multiple of the entry size altogether (no CRCs, no extra entries); the ELF layer reads
  // its whole entries anyway and says so in versions_problem.
  static const std::vector<SymbolVersion> none;
  const std::vector<SymbolVersion> &versions =
      mi.versions_problem.find("is not a multiple of") != std::string::npos ? none : mi.versions;
  std::unordered_map<std::string_view, size_t> first_version;
  for (size_t i = 0; i < versions.size(); i++) first_version.emplace(versions[i].name, i);
  std::vector<bool> visited(versions.size(), false);
  for (const ImportedSymbol &imp : mi.imports) {
    DepSymbol d;
    d.name = imp.name;
    d.weak = imp.weak;
    if (auto it = first_version.find(imp.name); it != first_version.end()) {
      d.crc = versions[it->second].crc;
      visited[it->second] = true;
    }
    f.dep_symbols.push_back(std::move(d));
  }
  for (size_t i = 0; i < versions.size(); i++)
    if (!visited[i]) f.dep_symbols.push_back(DepSymbol{versions[i].name, versions[i].crc, false});

  for (const ModinfoEntry &e : mi.modinfo)
    if (e.key == "alias" || e.key == "softdep" || e.key == "weakdep")
      // kmod reads a string without '=' as key with an empty value.
      f.info.emplace_back(e.key, e.value == e.key ? std::string() : e.value);
  return f;
}

ModuleFacts read_module_facts(const std::string &path) {
  auto mi = read_module(path);
  if (mi) return facts_from_module_info(*mi);
  ModuleFacts f;
  f.reason = mi.error().msg;
  // read_module() carries the errno kmod's libkmod would end up with (module-elf.h); the
  // file is not read, let alone decompressed, a second time to find it.
  f.error = mi.error().sys_errno ? mi.error().sys_errno : EINVAL;
  f.over_limit = mi.error().code == Errc::too_large;
  return f;
}

Result<FileStamp> stat_stamp(const std::string &path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return fail_errno(errno, "cannot stat '" + path + "': " + std::strerror(errno));
  FileStamp s;
  s.size = static_cast<u64>(st.st_size);
  s.mtime_ns = static_cast<u64>(st.st_mtim.tv_sec) * 1000000000ull + static_cast<u64>(st.st_mtim.tv_nsec);
  s.ctime_ns = static_cast<u64>(st.st_ctim.tv_sec) * 1000000000ull + static_cast<u64>(st.st_ctim.tv_nsec);
  s.ino = st.st_ino;
  s.dev = st.st_dev;
  return s;
}

namespace {

constexpr char cache_magic[8] = {'K', 'M', 'X', 'D', 'E', 'P', 'C', '2'};


// Grow, then store in place: GCC 12 misreads vector::insert from a small array as an
// out-of-bounds memcpy (-Warray-bounds), which would break -Werror builds.
void put32(Bytes &out, u32 v) {
  out.resize(out.size() + 4);
  store<u32, true>(out.data() + out.size() - 4, v);
}
void put64(Bytes &out, u64 v) {
  out.resize(out.size() + 8);
  store<u64, true>(out.data() + out.size() - 8, v);
}
void putstr(Bytes &out, std::string_view s) {
  put32(out, static_cast<u32>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

std::string getstr(Cursor &c) {
  u32 n = c.le32();
  ByteView b = c.bytes(n);
  return std::string(b.as_string());
}

}  // namespace

Bytes encode_facts_cache(const std::vector<FactsCacheEntry> &entries) {
  Bytes out(cache_magic, cache_magic + 8);
  put64(out, 0);
  put32(out, static_cast<u32>(entries.size()));
  for (const FactsCacheEntry &e : entries) {
    putstr(out, e.path);
    put64(out, e.stamp.size);
    put64(out, e.stamp.mtime_ns);
    put64(out, e.stamp.ctime_ns);
    put64(out, e.stamp.ino);
    put64(out, e.stamp.dev);
    put32(out, static_cast<u32>(e.facts.error));
    out.push_back(e.facts.over_limit ? 1 : 0);
    putstr(out, e.facts.reason);
    put32(out, static_cast<u32>(e.facts.exports.size()));
    for (const auto &[n, crc] : e.facts.exports) {
      putstr(out, n);
      put64(out, crc);
    }
    put32(out, static_cast<u32>(e.facts.dep_symbols.size()));
    for (const DepSymbol &d : e.facts.dep_symbols) {
      putstr(out, d.name);
      put64(out, d.crc);
      out.push_back(d.weak ? 1 : 0);
    }
    put32(out, static_cast<u32>(e.facts.info.size()));
    for (const auto &[k, v] : e.facts.info) {
      putstr(out, k);
      putstr(out, v);
    }
  }
  store<u64, true>(out.data() + 8, fnv1a64(ByteView(out.data() + 16, out.size() - 16)));
  return out;
}

Result<std::vector<FactsCacheEntry>> decode_facts_cache(ByteView data) {
  if (data.size() < 20 || !std::equal(cache_magic, cache_magic + 8, data.begin()))
    return fail(Errc::invalid_format, "not a kmx depmod cache (bad magic or version)");
  if (load<u64, true>(data.data() + 8) != fnv1a64(ByteView(data.data() + 16, data.size() - 16)))
    return fail(Errc::invalid_format, "depmod cache checksum mismatch");
  Cursor c(data, 16);
  u32 count = c.le32();
  std::vector<FactsCacheEntry> out;
  // Each entry takes at least 64 bytes; refuse counts the file cannot hold.
  if (static_cast<u64>(count) * 64 > c.remaining()) return fail(Errc::invalid_format, "depmod cache entry count too large");
  out.reserve(count);
  for (u32 i = 0; i < count && c.ok(); i++) {
    FactsCacheEntry e;
    e.path = getstr(c);
    e.stamp.size = c.read<u64, true>();
    e.stamp.mtime_ns = c.read<u64, true>();
    e.stamp.ctime_ns = c.read<u64, true>();
    e.stamp.ino = c.read<u64, true>();
    e.stamp.dev = c.read<u64, true>();
    e.facts.error = static_cast<int>(c.le32());
    e.facts.over_limit = c.u8v() != 0;
    e.facts.reason = getstr(c);
    u32 n = c.le32();
    if (n > c.remaining()) return fail(Errc::invalid_format, "depmod cache truncated");
    for (u32 j = 0; j < n && c.ok(); j++) {
      std::string name = getstr(c);
      u64 crc = c.read<u64, true>();
      e.facts.exports.emplace_back(std::move(name), crc);
    }
    n = c.le32();
    if (n > c.remaining()) return fail(Errc::invalid_format, "depmod cache truncated");
    for (u32 j = 0; j < n && c.ok(); j++) {
      DepSymbol d;
      d.name = getstr(c);
      d.crc = c.read<u64, true>();
      d.weak = c.u8v() != 0;
      e.facts.dep_symbols.push_back(std::move(d));
    }
    n = c.le32();
    if (n > c.remaining()) return fail(Errc::invalid_format, "depmod cache truncated");
    for (u32 j = 0; j < n && c.ok(); j++) {
      std::string k = getstr(c);
      std::string v = getstr(c);
      e.facts.info.emplace_back(std::move(k), std::move(v));
    }
    out.push_back(std::move(e));
  }
  if (!c.ok() || !c.at_end()) return fail(Errc::invalid_format, "depmod cache truncated or has trailing bytes");
  return out;
}

}  // namespace kmx
