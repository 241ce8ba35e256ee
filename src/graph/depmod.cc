#include "graph/depmod.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/atomic-file.h"
#include "base/mapped-file.h"
#include "base/parallel.h"
#include "elf/kernel-symbols.h"
#include "elf/module-elf.h"
#include "graph/kmod-hash.h"

namespace kmx {

namespace {

constexpr size_t kmod_path_max = 4096;

std::string errstr(int e) { return std::strerror(e); }

bool starts_with_dir(std::string_view path, std::string_view dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

// Module metadata is data: a byte that ends or splits a line of a text index (any C0 control
// character, newline and NUL included) would let a module write lines of its choosing into
// modules.softdep or modules.alias, which modprobe reads as configuration. With ascii_only,
// bytes >= 0x80 are refused too: the .bin tries hold 7-bit ASCII only (kmod indexes such
// bytes through signed-char arithmetic). Returns a description of the first bad byte.
std::optional<std::string> bad_byte(std::string_view s, bool ascii_only) {
  for (size_t i = 0; i < s.size(); i++) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && (c < 0x80 || !ascii_only)) continue;
    char buf[80];
    std::snprintf(buf, sizeof buf, "%s 0x%02x at byte %zu", c < 0x20 ? "a control character" : "a non-ASCII byte", c, i);
    return std::string(buf);
  }
  return std::nullopt;
}

// `s` with its control bytes and bytes >= 0x80 written as \xNN, for a message of one line.
std::string escaped(std::string_view s) {
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x80) {
      out += ch;
      continue;
    }
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    out += buf;
  }
  return out;
}

}  // namespace

std::optional<std::string> kmod_alias_normalize(std::string_view alias) {
  std::string buf;
  size_t i = 0;
  for (; i < kmod_path_max - 1 && i < alias.size(); i++) {
    char c = alias[i];
    if (c == '-') {
      buf.push_back('_');
    } else if (c == ']') {
      return std::nullopt;
    } else if (c == '[') {
      while (i < alias.size() && alias[i] != ']') buf.push_back(alias[i++]);
      if (i >= alias.size()) return std::nullopt;
      buf.push_back(']');
    } else {
      buf.push_back(c);
    }
  }
  return buf;
}

// ---- symbols -------------------------------------------------------------------------

void Depmod::add_symbol(std::string_view name, bool prefix_skipped, u64 crc, i64 owner) {
  if (!prefix_skipped && !name.empty() && name[0] == opts_.sym_prefix) name.remove_prefix(1);
  // kmod's hash_add(): an existing entry is replaced.
  symbols_[std::string(name)] = Symbol{owner, crc};
}

const std::pair<const std::string, Depmod::Symbol> *Depmod::find_symbol(std::string_view name) const {
  if (!name.empty() && name[0] == '.') name.remove_prefix(1);  // PPC64: .foo == foo
  if (!name.empty() && name[0] == opts_.sym_prefix) name.remove_prefix(1);
  auto it = symbols_.find(name);
  return it == symbols_.end() ? nullptr : &*it;
}

void Depmod::add_fake_symbols() {
  add_symbol("__this_module", true, 0, -1);
  add_symbol("_GLOBAL_OFFSET_TABLE_", true, 0, -1);
  if (!find_symbol("TOC.")) add_symbol("TOC.", true, 0, -1);
}

// kmod's depmod -E: a line counts when its third field is exactly "vmlinux" (as strtok(" \t")
// sees it, newline kept); its CRC must then be hex, or the line is reported and skipped. Lines
// kmod skips silently (too few fields, another owner) are skipped here too.
Status Depmod::load_symvers(const std::string &path) {
  auto text = read_file(path);
  if (!text) return fail(text.error());
  for (const SymversLine &l : parse_symvers_lines(*text)) {
    if (l.fields.size() < 3 || l.module() != "vmlinux" || l.module_ends_line) continue;
    if (!l.crc) {
      diag_.error(path + ":" + std::to_string(l.lineno) + " Invalid symbol version " + std::string(l.fields[0]) + ": " +
                  errstr(l.crc_errno));
      continue;
    }
    add_symbol(l.symbol(), false, *l.crc, -1);
  }
  add_fake_symbols();
  return {};
}

// kmod's depmod -F: every line needs two spaces (else it is reported with its newline); the rest
// after them, less one leading symbol prefix, names an export when it starts with __ksymtab_.
Status Depmod::load_system_map(const std::string &path) {
  auto text = read_file(path);
  if (!text) return fail(text.error());
  for (const SystemMapLine &l : parse_system_map_lines(*text)) {
    if (l.problem != SystemMapProblem::none) {
      diag_.error(path + ":" + std::to_string(l.lineno) + ": invalid line: " + std::string(l.text) +
                  (l.terminated ? "\n" : ""));
      continue;
    }
    std::string_view name = l.name;
    if (!name.empty() && name[0] == opts_.sym_prefix) name.remove_prefix(1);
    if (auto sym = ksymtab_export(name)) add_symbol(*sym, true, 0, -1);
  }
  add_fake_symbols();
  return {};
}

// ---- discovery -----------------------------------------------------------------------

// kmod's depmod_module_is_higher_priority(): true when the module already found (`old`)
// beats the new path. Lengths are "DIR/" + module name, as kmod measures them.
bool Depmod::existing_is_higher_priority(const DepmodConfig &cfg, const Candidate &old, const Candidate &neu) const {
  const std::string &dirname = opts_.dirname;
  size_t newlen = neu.baselen + 1 + neu.modname.size();
  size_t oldlen = old.baselen + 1 + old.modname.size();
  std::string_view newpath(neu.path), oldpath(old.path);
  std::string_view relnew, relold;
  bool has_relnew = newpath.compare(0, dirname.size(), dirname) == 0 && newlen >= dirname.size() + 1;
  bool has_relold = oldpath.compare(0, dirname.size(), dirname) == 0 && oldlen >= dirname.size() + 1;
  if (has_relnew) relnew = newpath.substr(dirname.size() + 1, newlen - (dirname.size() + 1));
  if (has_relold) relold = oldpath.substr(dirname.size() + 1, oldlen - (dirname.size() + 1));

  for (const std::string &ov : cfg.overrides) {
    if (has_relnew && relnew == ov) return false;
    if (has_relold && relold == ov) return true;
  }

  int i = 0, bprio = -1, oldprio = -1, newprio = -1;
  for (const DepmodSearch &se : cfg.searches) {
    if (se.type == SearchType::builtin) {
      bprio = i;
    } else if (se.type == SearchType::external) {
      for (const std::string &ext : cfg.externals) {
        if (starts_with_dir(newpath.substr(0, newlen), ext)) newprio = i;
        if (starts_with_dir(oldpath.substr(0, oldlen), ext)) oldprio = i;
        i++;
      }
    } else if (relnew.size() > se.path.size() && relnew[se.path.size()] == '/' &&
               relnew.compare(0, se.path.size(), se.path) == 0) {
      newprio = i;
    } else if (relold.size() > se.path.size() && relold[se.path.size()] == '/' &&
               relold.compare(0, se.path.size(), se.path) == 0) {
      oldprio = i;
    }
    i++;
  }
  if (newprio < 0) newprio = bprio;
  if (oldprio < 0) oldprio = bprio;
  return newprio <= oldprio;
}

bool Depmod::indexable_path(const std::string &path) {
  // What the indexes hold: the path below the module directory (all of it for an external one).
  std::string_view shown = starts_with_dir(path, opts_.dirname) ? std::string_view(path).substr(opts_.dirname.size() + 1) : path;
  auto bad = bad_byte(shown, true);
  if (!bad) return true;
  diag_.warn("ignoring module " + escaped(path) + ": its path has " + *bad + ", and kmx indexes only printable 7-bit ASCII");
  return false;
}

void Depmod::search_file(const DepmodConfig &cfg, const std::string &path, size_t baselen) {
  if (!has_module_extension(std::string_view(path).substr(baselen + 1))) return;
  if (!indexable_path(path)) return;
  Candidate c{path, baselen, module_name_from_path(path)};
  auto it = by_name_.find(c.modname);
  if (it != by_name_.end()) {
    if (existing_is_higher_priority(cfg, it->second, c)) return;
    it->second = std::move(c);
    return;
  }
  std::string name = c.modname;
  by_name_.emplace(std::move(name), std::move(c));
}

static bool should_exclude(const DepmodConfig &cfg, const char *name) {
  if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) return true;
  if (std::strcmp(name, "build") == 0 || std::strcmp(name, "source") == 0) return true;
  for (const std::string &e : cfg.excludes)
    if (e == name) return true;
  return false;
}

// `path` ends with '/'; readdir order, as kmod (ties between equal priorities go to the
// first one found).
void Depmod::search_dir(const DepmodConfig &cfg, int dfd, std::string &path, unsigned depth) {
  DIR *d = ::fdopendir(dfd);
  if (!d) {
    diag_.error("fdopendir(" + std::to_string(dfd) + "): " + errstr(errno));
    ::close(dfd);
    return;
  }
  size_t base = path.size();
  while (struct dirent *de = ::readdir(d)) {
    const char *name = de->d_name;
    if (should_exclude(cfg, name)) continue;
    path.resize(base);
    path += name;
    bool is_dir;
    if (de->d_type == DT_REG) is_dir = false;
    else if (de->d_type == DT_DIR) is_dir = true;
    else {
      struct stat st;
      if (::fstatat(::dirfd(d), name, &st, 0) < 0) {
        diag_.error("fstatat(" + std::to_string(::dirfd(d)) + ", " + name + "): " + errstr(errno));
        continue;
      }
      if (S_ISREG(st.st_mode)) is_dir = false;
      else if (S_ISDIR(st.st_mode)) is_dir = true;
      else {
        char mode[16];
        std::snprintf(mode, sizeof mode, "%o", st.st_mode & S_IFMT);
        diag_.error("unsupported file type " + path + ": " + mode);
        continue;
      }
    }
    if (is_dir) {
      int fd = ::openat(::dirfd(d), name, O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        diag_.error("openat(" + std::to_string(::dirfd(d)) + ", " + name + ", O_RDONLY): " + errstr(errno));
        continue;
      }
      // kmod follows directory symlinks without limit (a loop exhausts its stack); stop at a
      // depth no real tree reaches.
      if (depth >= 64) {
        diag_.error("directory nesting too deep, skipped: " + path);
        ::close(fd);
        continue;
      }
      path += '/';
      search_dir(cfg, fd, path, depth + 1);
    } else {
      search_file(cfg, path, base - 1);
    }
  }
  path.resize(base);
  ::closedir(d);
}

Status Depmod::search_path(const DepmodConfig &cfg, const std::string &dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    diag_.error("could not open directory " + dir + ": " + errstr(e));
    return fail_errno(e, "could not open directory " + dir + ": " + errstr(e));
  }
  std::string path = dir + "/";
  search_dir(cfg, fd, path, 0);
  return {};
}

Status Depmod::search(const DepmodConfig &cfg) {
  TRY(search_path(cfg, opts_.dirname));
  for (const std::string &ext : cfg.externals) (void)search_path(cfg, ext);
  build_array();
  return {};
}

Status Depmod::add_files(const std::vector<std::string> &paths) {
  for (const std::string &p : paths) {
    if (p.empty() || p[0] != '/') return fail(Errc::invalid_argument, p + ": not absolute path.");
    struct stat st;
    if (::stat(p.c_str(), &st) != 0) {
      int e = errno;
      return fail_errno(e, "could not create module " + p + ": " + errstr(e));
    }
    if (!indexable_path(p)) continue;
    Candidate c{p, p.rfind('/'), module_name_from_path(p)};
    if (auto it = by_name_.find(c.modname); it != by_name_.end()) {
      // libkmod's module pool refuses a second path for a name (with its own log line);
      // the same path again passes the pool and fails depmod's hash_add_unique().
      if (it->second.path != p) {
        diag_.error("../libkmod/libkmod-module.c:428 kmod_module_new_from_path() kmod_module '" + c.modname +
                    "' already exists with different path: new-path='" + p + "' old-path='" + it->second.path + "'");
        return fail(Errc::exists, "could not create module " + p + ": " + errstr(EEXIST));
      }
      diag_.error("hash_add_unique " + c.modname + ": " + errstr(EEXIST));
      return fail(Errc::exists, "could not add module " + p + ": " + errstr(EEXIST));
    }
    std::string name = c.modname;
    by_name_.emplace(std::move(name), std::move(c));
  }
  build_array();
  return {};
}

void Depmod::build_array() {
  std::vector<const Candidate *> cands;
  cands.reserve(by_name_.size());
  for (const auto &[name, c] : by_name_) cands.push_back(&c);
  KmodHashOrder order(512);
  std::sort(cands.begin(), cands.end(), [&](const Candidate *a, const Candidate *b) { return order(a->modname, b->modname); });
  const std::string &dirname = opts_.dirname;
  mods_.clear();
  mods_.reserve(cands.size());
  for (const Candidate *c : cands) {
    DepmodModule m;
    m.path = c->path;
    m.modname = c->modname;
    m.baselen = c->baselen;
    if (starts_with_dir(m.path, dirname)) {
      m.relpath = m.path.substr(dirname.size() + 1);
      size_t len = (c->baselen - (dirname.size() + 1)) + m.modname.size() + 1 + 3;
      m.uncrelpath = m.relpath.substr(0, std::min(len, m.relpath.size()));
    }
    m.idx = static_cast<u32>(mods_.size());
    mods_.push_back(std::move(m));
  }
  by_name_.clear();
  sort_by_order_file();
}

// fgets(buf, PATH_MAX) line splitting: at most 4095 bytes per piece, '\n' kept.
static std::vector<std::string_view> fgets_lines(std::string_view all) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < all.size()) {
    size_t nl = all.find('\n', pos);
    size_t end = nl == std::string_view::npos ? all.size() : nl + 1;
    if (end - pos > kmod_path_max - 1) end = pos + kmod_path_max - 1;
    out.push_back(all.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

void Depmod::sort_by_order_file() {
  std::string order_path = opts_.dirname + "/modules.order";
  auto text = read_file(order_path);
  if (!text) {
    int e = text.error().sys_errno ? text.error().sys_errno : ENOENT;
    diag_.warn("could not open modules.order at " + opts_.dirname + ": " + errstr(e));
    return;
  }
  auto lines = fgets_lines(*text);
  for (size_t i = 0; i < lines.size(); i++) {
    if (lines[i].back() != '\n') {
      diag_.error(opts_.dirname + "/modules.order:" + std::to_string(i + 1) + " corrupted line misses '\\n'");
      return;
    }
  }
  int total = static_cast<int>(lines.size()) + 1;
  std::unordered_map<std::string_view, u32> by_unc;
  for (const DepmodModule &m : mods_)
    if (!m.uncrelpath.empty()) by_unc.emplace(m.uncrelpath, m.idx);
  for (size_t i = 0; i < lines.size(); i++) {
    std::string_view l = lines[i].substr(0, lines[i].size() - 1);
    // fgets stops at NUL too: kmod only sees the part before it.
    l = l.substr(0, l.find('\0'));
    auto it = by_unc.find(l);
    if (it == by_unc.end()) continue;
    mods_[it->second].sort_idx = static_cast<int>(i + 1) - total;
  }
  std::stable_sort(mods_.begin(), mods_.end(), [](const DepmodModule &a, const DepmodModule &b) { return a.sort_idx < b.sort_idx; });
  for (u32 i = 0; i < mods_.size(); i++) mods_[i].idx = i;
}

// ---- loading -------------------------------------------------------------------------

void Depmod::read_facts() {
  std::unordered_map<std::string, FactsCacheEntry> cache;
  if (!opts_.cache_path.empty()) {
    if (auto f = MappedFile::open(opts_.cache_path)) {
      auto entries = decode_facts_cache(f->view());
      if (entries) {
        for (FactsCacheEntry &e : *entries) {
          std::string p = e.path;
          cache.emplace(std::move(p), std::move(e));
        }
      } else {
        diag_.report(Severity::info, "ignoring depmod cache " + opts_.cache_path + ": " + entries.error().msg);
      }
    }
  }
  std::vector<FileStamp> stamps(mods_.size());
  std::vector<u8> hit(mods_.size(), 0);
  parallel_for_each(
      mods_.size(),
      [&](size_t i) {
        DepmodModule &m = mods_[i];
        auto st = stat_stamp(m.path);
        if (st) stamps[i] = *st;
        if (st && !cache.empty()) {
          auto it = cache.find(m.path);
          if (it != cache.end() && it->second.stamp == *st) {
            m.facts = it->second.facts;
            hit[i] = 1;
            return;
          }
        }
        m.facts = read_module_facts(m.path);
      },
      opts_.jobs);
  for (u8 h : hit) (h ? stats_.cached : stats_.read)++;

  if (!opts_.cache_path.empty() && opts_.write_cache && stats_.read > 0) {
    std::vector<FactsCacheEntry> out;
    out.reserve(mods_.size());
    for (size_t i = 0; i < mods_.size(); i++) {
      // Failed reads due to I/O are not cached: they may succeed next time.
      if (mods_[i].facts.error != 0 && mods_[i].facts.error != EINVAL && mods_[i].facts.error != ENOEXEC) continue;
      out.push_back(FactsCacheEntry{mods_[i].path, stamps[i], mods_[i].facts});
    }
    Bytes blob = encode_facts_cache(out);
    auto w = write_file_atomic(opts_.cache_path, ByteView(blob).as_string(), 0644);
    if (!w) diag_.report(Severity::info, "could not write depmod cache: " + w.error().msg);
  }
}

void Depmod::load_dependencies() {
  for (DepmodModule &m : mods_) {
    for (const DepSymbol &ds : m.facts.dep_symbols) {
      const auto *sym = find_symbol(ds.name);
      if (!sym) {
        if (opts_.print_unknown && !ds.weak) diag_.warn(m.path + " needs unknown symbol " + ds.name);
        continue;
      }
      if (opts_.check_symvers && sym->second.crc != ds.crc && !ds.weak && opts_.print_unknown)
        diag_.warn(m.path + " disagrees about version of symbol " + ds.name);
      if (sym->second.owner < 0) continue;
      u32 owner = static_cast<u32>(sym->second.owner);
      if (std::find(m.deps.begin(), m.deps.end(), owner) != m.deps.end()) continue;
      m.deps.push_back(owner);
      mods_[owner].users++;
      if (show_) show_(m.path + " needs \"" + sym->first + "\": " + mods_[owner].path + "\n");
    }
  }
}

// Drops the modinfo values no index may hold (bad_byte), each with a warning that names the
// module and the key. Aliases must be 7-bit ASCII as well, so that modules.alias and
// modules.alias.bin always list the same aliases.
void Depmod::drop_unindexable_info(DepmodModule &m) {
  std::erase_if(m.facts.info, [&](const std::pair<std::string, std::string> &kv) {
    auto bad = bad_byte(kv.second, kv.first == "alias");
    if (bad) diag_.warn(m.path + ": modinfo " + kv.first + " value has " + *bad + ": not indexed");
    return bad.has_value();
  });
}

Status Depmod::load() {
  read_facts();
  for (DepmodModule &m : mods_) {
    drop_unindexable_info(m);
    if (m.facts.error != 0) {
      if (m.facts.error != ENOENT) diag_.error("failed to load symbols from " + m.path + ": " + errstr(m.facts.error));
      // kmod's line says only "Invalid argument"; a module refused for its size says why.
      if (!m.facts.reason.empty()) diag_.report(m.facts.over_limit ? Severity::warning : Severity::info, m.facts.reason);
      continue;
    }
    for (const auto &[name, crc] : m.facts.exports) add_symbol(name, false, crc, m.idx);
  }
  load_dependencies();
  TRY(calculate_dependencies());
  prepare_outputs();
  return {};
}

Status Depmod::calculate_dependencies() {
  size_t n = mods_.size();
  std::vector<u32> users(n), roots;
  roots.reserve(n);
  for (u32 i = 0; i < n; i++) {
    users[i] = mods_[i].users;
    if (users[i] == 0) roots.push_back(i);
  }
  int n_sorted = 0;
  while (!roots.empty()) {
    u32 src = roots.back();
    roots.pop_back();
    mods_[src].dep_sort_idx = n_sorted++;
    for (u32 dst : mods_[src].deps) {
      if (--users[dst] == 0) roots.push_back(dst);
    }
  }
  if (static_cast<size_t>(n_sorted) < n) {
    report_cycles(users);
    return fail(Errc::invalid_argument, "dependency cycle");
  }
  for (DepmodModule &m : mods_)
    std::sort(m.deps.begin(), m.deps.end(), [&](u32 a, u32 b) { return mods_[a].dep_sort_idx < mods_[b].dep_sort_idx; });
  return {};
}

// kmod's depmod_report_cycles(): a DFS from each remaining module with users, reporting a
// cycle each time the walk comes back to its start.
void Depmod::report_cycles(const std::vector<u32> &users) {
  struct Vertex {
    i64 parent;
    u32 mod;
  };
  // kmod keeps the roots in a circular kmod_list whose head pointer moves to the element
  // after any removed one (kmod_list_remove_data() returns node->next), which decides the
  // start of the next walk; reproduce that with a ring and a head index.
  std::vector<u32> ring;
  for (u32 i = 0; i < mods_.size(); i++)
    if (users[i] > 0) ring.push_back(i);
  size_t head = 0;
  auto remove_at = [&](size_t p) {
    ring.erase(ring.begin() + static_cast<std::ptrdiff_t>(p));
    head = ring.empty() ? 0 : p % ring.size();
  };
  auto remove_root = [&](u32 m) {
    auto it = std::find(ring.begin(), ring.end(), m);
    if (it != ring.end()) remove_at(static_cast<size_t>(it - ring.begin()));
  };
  std::vector<std::string> loop_set;
  size_t budget = 1000000;  // kmod can loop forever on cycles not through the start
  while (!ring.empty()) {
    u32 root = ring[head];
    remove_at(head);
    std::vector<Vertex> vertices{{-1, root}};
    std::vector<size_t> stack{0};
    while (!stack.empty() && budget > 0) {
      budget--;
      size_t vi = stack.back();
      stack.pop_back();
      u32 m = vertices[vi].mod;
      if (mods_[m].visited && m == root) {
        std::vector<u32> rev;
        for (i64 v = vertices[vi].parent; v >= 0; v = vertices[v].parent) {
          rev.push_back(vertices[v].mod);
          const std::string &name = mods_[vertices[v].mod].modname;
          if (std::find(loop_set.begin(), loop_set.end(), name) == loop_set.end()) loop_set.push_back(name);
        }
        std::string buf;
        for (auto it = rev.rbegin(); it != rev.rend(); ++it) {
          buf += mods_[*it].modname + " -> ";
          remove_root(*it);
        }
        buf += mods_[m].modname;
        diag_.error("Cycle detected: " + buf);
        continue;
      }
      mods_[m].visited = true;
      if (mods_[m].deps.empty()) {
        remove_root(m);
        continue;
      }
      for (u32 dep : mods_[m].deps) {
        vertices.push_back({static_cast<i64>(vi), dep});
        stack.push_back(vertices.size() - 1);
      }
    }
  }
  diag_.error("Found " + std::to_string(loop_set.size()) + " modules in dependency cycles!");
}

}  // namespace kmx
