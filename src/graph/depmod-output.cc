// Rendering of depmod's output files, in kmod 30's words and order (tools/depmod.c
// output_*). The .bin tries come from index/ (IndexBuilder, format in trie-writer.cc).
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "base/mapped-file.h"
#include "base/parallel.h"
#include "elf/module-elf.h"
#include "graph/depmod.h"
#include "graph/kmod-hash.h"
#include "index/trie-index.h"

namespace kmx {

namespace {

constexpr size_t kmod_path_max = 4096;

std::string serialize(const IndexBuilder &b, Diag &d) {
  auto bytes = b.serialize();
  if (!bytes) {
    d.error(bytes.error().msg);
    return {};
  }
  return std::string(ByteView(*bytes).as_string());
}

// index_insert() into the index written as `file`: a failure is an error. True when the key
// was there already (depmod -w warns).
bool insert(IndexBuilder &idx, const char *file, std::string_view key, std::string_view value, u32 priority,
            Diag &d) {
  auto dup = idx.insert(key, value, priority);
  if (!dup) {
    d.error(std::string(file) + ": " + dup.error().msg);
    return false;
  }
  return *dup;
}

// An input file of the module directory; when it cannot be read, depmod warns and writes
// nothing from it.
std::optional<std::string> read_input(const std::string &dir, const char *name, Diag &d) {
  auto text = read_file(dir + "/" + name);
  if (!text) {
    int e = text.error().sys_errno ? text.error().sys_errno : ENOENT;
    d.warn(std::string("could not open ") + name + " at " + dir + ": " + std::strerror(e));
    return std::nullopt;
  }
  return std::move(*text);
}

// modules.softdep and modules.weakdep: `header`, then "KEY MODNAME VALUE" for each `key` entry
// of every module's .modinfo.
std::string dependency_lines(const std::vector<DepmodModule> &mods, std::string header, std::string_view key) {
  for (const DepmodModule &m : mods)
    for (const auto &[k, v] : m.facts.info)
      if (k == key) header += std::string(key) + " " + m.modname + " " + v + "\n";
  return header;
}

// sscanf(value, "<prefix>%u-%u", &maj, &min) == 2
bool scan_major_minor(std::string_view value, std::string_view prefix, unsigned &maj, unsigned &min) {
  if (value.substr(0, prefix.size()) != prefix) return false;
  std::string rest(value.substr(prefix.size()));
  unsigned a, b;
  if (std::sscanf(rest.c_str(), "%u-%u", &a, &b) != 2) return false;
  maj = a;
  min = b;
  return true;
}

}  // namespace

std::vector<u32> Depmod::all_sorted_deps(u32 m) const {
  std::vector<u32> out;
  std::vector<u8> seen(mods_.size(), 0);
  std::vector<u32> stack(mods_[m].deps.rbegin(), mods_[m].deps.rend());
  while (!stack.empty()) {
    u32 d = stack.back();
    stack.pop_back();
    if (seen[d]) continue;
    seen[d] = 1;
    out.push_back(d);
    for (auto it = mods_[d].deps.rbegin(); it != mods_[d].deps.rend(); ++it)
      if (!seen[*it]) stack.push_back(*it);
  }
  std::sort(out.begin(), out.end(), [&](u32 a, u32 b) { return mods_[a].dep_sort_idx < mods_[b].dep_sort_idx; });
  return out;
}

std::string Depmod::out_deps(Diag &) const {
  std::string out;
  for (u32 i = 0; i < mods_.size(); i++) {
    out += mods_[i].compressed_path();
    out += ':';
    for (u32 d : closure_[i]) {
      out += ' ';
      out += mods_[d].compressed_path();
    }
    out += '\n';
  }
  return out;
}

std::string Depmod::out_deps_bin(Diag &d) const {
  IndexBuilder idx;
  for (u32 i = 0; i < mods_.size(); i++) {
    std::string line = mods_[i].compressed_path() + ":";
    for (u32 d : closure_[i]) line += " " + mods_[d].compressed_path();
    if (insert(idx, "modules.dep.bin", mods_[i].modname, line, mods_[i].idx, d) && opts_.warn_dups)
      d.warn("duplicate module deps:\n" + line);
  }
  return serialize(idx, d);
}

std::string Depmod::out_aliases(Diag &) const {
  std::string out = "# Aliases extracted from modules themselves.\n";
  for (const DepmodModule &m : mods_)
    for (const auto &[k, v] : m.facts.info)
      if (k == "alias") out += "alias " + v + " " + m.modname + "\n";
  return out;
}

std::string Depmod::out_aliases_bin(Diag &d) const {
  IndexBuilder idx;
  for (const DepmodModule &m : mods_) {
    for (const auto &[k, v] : m.facts.info) {
      if (k != "alias") continue;
      auto alias = kmod_alias_normalize(v);
      if (!alias) {
        d.warn("Unmatched bracket in " + v);
        continue;
      }
      if (insert(idx, "modules.alias.bin", *alias, m.modname, m.idx, d) && opts_.warn_dups)
        d.warn("duplicate module alias:\n" + *alias + " " + m.modname);
    }
  }
  return serialize(idx, d);
}

std::string Depmod::out_softdeps(Diag &) const {
  return dependency_lines(mods_, "# Soft dependencies extracted from modules themselves.\n", "softdep");
}

std::string Depmod::out_weakdeps(Diag &) const {
  return dependency_lines(mods_, "# Weak dependencies extracted from modules themselves.\n", "weakdep");
}

void Depmod::prepare_outputs() {
  closure_.resize(mods_.size());
  parallel_for_each(mods_.size(), [&](size_t i) { closure_[i] = all_sorted_deps(static_cast<u32>(i)); }, opts_.jobs);
  symbol_order_ = symbol_order();
}

std::vector<std::string> Depmod::symbol_order() const {
  std::vector<std::string> names;
  names.reserve(symbols_.size());
  for (const auto &[name, sym] : symbols_)
    if (sym.owner >= 0) names.push_back(name);
  KmodHashOrder order(2048);
  std::vector<std::pair<u32, const std::string *>> keyed;
  keyed.reserve(names.size());
  for (const std::string &n : names) keyed.emplace_back(order.bucket(n), &n);
  std::sort(keyed.begin(), keyed.end(), [](const auto &a, const auto &b) {
    if (a.first != b.first) return a.first < b.first;
    return *a.second < *b.second;
  });
  std::vector<std::string> out;
  out.reserve(keyed.size());
  for (const auto &k : keyed) out.push_back(*k.second);
  return out;
}

std::string Depmod::out_symbols(Diag &) const {
  std::string out = "# Aliases for symbols, used by symbol_request().\n";
  for (const std::string &name : symbol_order_)
    out += "alias symbol:" + name + " " + mods_[symbols_.at(name).owner].modname + "\n";
  return out;
}

std::string Depmod::out_symbols_bin(Diag &d) const {
  IndexBuilder idx;
  for (const std::string &name : symbol_order_) {
    const DepmodModule &owner = mods_[symbols_.at(name).owner];
    std::string alias = "symbol:" + name;
    if (insert(idx, "modules.symbols.bin", alias, owner.modname, owner.idx, d) && opts_.warn_dups)
      d.warn("duplicate module syms:\n" + alias + " " + owner.modname);
  }
  return serialize(idx, d);
}

std::string Depmod::out_builtin_bin(Diag &d) const {
  auto text = read_input(opts_.dirname, "modules.builtin", d);
  if (!text) return {};
  IndexBuilder idx;
  std::string_view all = *text;
  size_t pos = 0;
  while (pos < all.size()) {
    size_t nl = all.find('\n', pos);
    size_t end = nl == std::string_view::npos ? all.size() : nl + 1;
    if (end - pos > kmod_path_max - 1) end = pos + kmod_path_max - 1;
    std::string_view line = all.substr(pos, end - pos);
    pos = end;
    line = line.substr(0, line.find('\0'));  // what fgets() hands to C string code
    if (line.empty() || !std::isalpha(static_cast<unsigned char>(line[0]))) {
      d.error("Invalid modules.builtin line: " + std::string(line));
      continue;
    }
    // path_to_modname(): basename, up to the first '.', '-' -> '_' (a '\n' stays if no '.').
    size_t slash = line.rfind('/');
    std::string_view base = slash == std::string_view::npos ? line : line.substr(slash + 1);
    if (base.empty()) continue;
    std::string modname = normalize_module_name(base.substr(0, base.find('.')));
    insert(idx, "modules.builtin.bin", modname, "", 0, d);
  }
  return serialize(idx, d);
}

// modules.builtin.modinfo is "MODNAME.KEY=VALUE\0" records; kmod walks it with
// flush_stream_to(), whose quirks (a record without '=' swallows the next one) are kept.
std::string Depmod::out_builtin_alias_bin(Diag &d) const {
  auto text = read_input(opts_.dirname, "modules.builtin.modinfo", d);
  if (!text) return {};
  const std::string &in = *text;
  size_t pos = 0;
  bool eof = false;
  auto getc = [&]() -> int {
    if (pos >= in.size()) {
      eof = true;
      return EOF;
    }
    return static_cast<unsigned char>(in[pos++]);
  };
  auto flush_to = [&](int endchar, std::string &dst) -> size_t {
    dst.clear();
    int c;
    for (c = getc(); c != EOF && c != endchar && c != '\0' && dst.size() < kmod_path_max; c = getc())
      dst.push_back(static_cast<char>(c));
    if (dst.size() == kmod_path_max) {
      d.warn("Could not flush stream: " + std::to_string(ENOSPC) + ". Partial content: " + dst);
      dst.pop_back();
    }
    if (c != endchar) dst.clear();
    return dst.size();
  };
  auto flush = [&](int endchar) {
    int c;
    for (c = getc(); c != EOF && c != endchar && c != '\0'; c = getc()) {
    }
  };
  IndexBuilder idx;
  std::string modname, key, value;
  while (!eof) {
    if (!flush_to('.', modname)) continue;
    flush_to('=', key);
    if (key != "alias") {
      flush('\0');
      continue;
    }
    if (!flush_to('\0', value)) continue;
    auto alias = kmod_alias_normalize(value);
    if (!alias) {
      d.warn("Unmatched bracket in " + value);
      continue;
    }
    insert(idx, "modules.builtin.alias.bin", *alias, modname, 0, d);
  }
  return serialize(idx, d);
}

std::string Depmod::out_devname(Diag &d) const {
  std::string out;
  bool empty = true;
  for (const DepmodModule &m : mods_) {
    std::optional<std::string> devname;
    char type = 0;
    unsigned major = 0, minor = 0;
    for (const auto &[k, v] : m.facts.info) {
      if (k != "alias") continue;
      unsigned maj, min;
      if (v.rfind("devname:", 0) == 0) {
        devname = v.substr(8);
      } else if (scan_major_minor(v, "char-major-", maj, min)) {
        type = 'c';
        major = maj;
        minor = min;
      } else if (scan_major_minor(v, "block-major-", maj, min)) {
        type = 'b';
        major = maj;
        minor = min;
      }
      if (type != 0 && devname) break;
    }
    if (!devname) continue;
    if (type == 0) {
      d.error("Module '" + m.modname + "' has devname (" + *devname + ") but lacks major and minor information. Ignoring.");
      continue;
    }
    if (empty) {
      out += "# Device nodes to trigger on-demand module loading.\n";
      empty = false;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, " %c%u:%u\n", type, major, minor);
    out += m.modname + " " + *devname + buf;
  }
  return out;
}

std::vector<DepmodFile> Depmod::render(bool include_weakdep) const {
  using Fn = std::string (Depmod::*)(Diag &) const;
  struct Spec {
    const char *name;
    Fn fn;
    bool binary;
  };
  std::vector<Spec> specs = {
      {"modules.dep", &Depmod::out_deps, false},
      {"modules.dep.bin", &Depmod::out_deps_bin, true},
      {"modules.alias", &Depmod::out_aliases, false},
      {"modules.alias.bin", &Depmod::out_aliases_bin, true},
      {"modules.softdep", &Depmod::out_softdeps, false},
      {"modules.weakdep", &Depmod::out_weakdeps, false},
      {"modules.symbols", &Depmod::out_symbols, false},
      {"modules.symbols.bin", &Depmod::out_symbols_bin, true},
      {"modules.builtin.bin", &Depmod::out_builtin_bin, true},
      {"modules.builtin.alias.bin", &Depmod::out_builtin_alias_bin, true},
      {"modules.devname", &Depmod::out_devname, false},
  };
  if (!include_weakdep)
    specs.erase(std::remove_if(specs.begin(), specs.end(), [](const Spec &s) { return std::strcmp(s.name, "modules.weakdep") == 0; }),
                specs.end());
  // Each file is rendered on its own (they only read the loaded state); diagnostics are
  // collected per file and replayed in kmod's table order, so output does not depend on
  // thread timing.
  std::vector<DepmodFile> files(specs.size());
  std::vector<Diag> diags(specs.size());
  parallel_for_each(
      specs.size(),
      [&](size_t i) {
        files[i] = DepmodFile{specs[i].name, (this->*specs[i].fn)(diags[i]), specs[i].binary};
      },
      opts_.jobs);
  for (const Diag &d : diags)
    for (const DiagMessage &m : d.messages()) diag_.report(m.severity, m.msg);
  return files;
}

std::string Depmod::render_stdout() const {
  Diag d[5];
  std::string out = out_deps(d[0]) + out_aliases(d[1]) + out_softdeps(d[2]) + out_symbols(d[3]) + out_devname(d[4]);
  for (const Diag &x : d)
    for (const DiagMessage &m : x.messages()) diag_.report(m.severity, m.msg);
  return out;
}

}  // namespace kmx
