#include "lookup/probe.h"

#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include <fmt/core.h>

#include "elf/module-elf.h"
#include "lookup/module-lookup.h"

namespace kmx {

namespace {

enum IndexId { DEP, ALIAS, SYMBOL, BUILTIN_ALIAS, BUILTIN, INDEX_COUNT };
const char *const index_names[INDEX_COUNT] = {
    "modules.dep.bin", "modules.alias.bin", "modules.symbols.bin",
    "modules.builtin.alias.bin", "modules.builtin.bin"};

bool empty_file(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && st.st_size == 0;
}

}  // namespace

struct ProbeContext::Index {
  bool tried = false;
  std::optional<IndexFile> file;
};

ProbeContext::ProbeContext(std::string dirname, const ModprobeConfig &cfg,
                           std::function<void(const std::string &)> warn)
    : dirname_(std::move(dirname)), cfg_(cfg), warn_(std::move(warn)) {
  for (int i = 0; i < INDEX_COUNT; i++) indexes_.push_back(std::make_unique<Index>());
}

ProbeContext::~ProbeContext() = default;

ProbeContext::Index *ProbeContext::index(int which) {
  Index *idx = indexes_[which].get();
  if (!idx->tried) {
    idx->tried = true;
    std::string path = dirname_ + "/" + index_names[which];
    auto f = IndexFile::open(path);
    if (f) {
      idx->file.emplace(std::move(*f));
    } else if (f.error().code != Errc::not_found && warn_ && !empty_file(path)) {
      // kmod's depmod writes an empty modules.builtin.bin when there is no modules.builtin;
      // like kmod, that is simply "nothing there". Anything else unusable is reported.
      warn_(fmt::format("{}: unusable index, ignored: {}", path, f.error().msg));
    }
  }
  return idx->file ? idx : nullptr;
}

std::optional<std::string> ProbeContext::search_moddep(const std::string &name) {
  Index *idx = index(DEP);
  if (!idx) return std::nullopt;
  auto v = idx->file->reader().lookup(name);
  if (!v) {
    if (warn_) warn_(fmt::format("{}/modules.dep.bin: {}", dirname_, v.error().msg));
    return std::nullopt;
  }
  return *v;
}

ProbeModule *ProbeContext::new_module(const std::string &key, const std::string &name,
                                      std::optional<std::string> alias) {
  auto it = pool_.find(key);
  if (it != pool_.end()) return it->second.get();
  auto m = std::make_unique<ProbeModule>();
  m->key = key;
  m->name = name;
  m->alias = std::move(alias);
  ProbeModule *raw = m.get();
  pool_.emplace(key, std::move(m));
  return raw;
}

ProbeModule *ProbeContext::from_name(const std::string &name) {
  return new_module(name, name, std::nullopt);
}

ProbeModule *ProbeContext::name_lookup(const std::string &name) {
  if (auto line = search_moddep(name)) {
    ProbeModule *m = from_name(name);
    parse_depline(m, *line);
    return m;
  }
  if (Index *idx = index(BUILTIN)) {
    auto v = idx->file->reader().lookup(name);
    if (v && v->has_value()) {
      ProbeModule *m = from_name(name);
      m->builtin = 1;
      return m;
    }
  }
  std::vector<ProbeModule *> out;
  alias_bin(BUILTIN_ALIAS, name, out);
  if (out.empty()) return nullptr;
  out.front()->builtin = 1;
  return out.front();
}

ProbeModule *ProbeContext::from_alias(const std::string &alias, const std::string &name) {
  return new_module(name + "\\" + alias, name, alias);
}

ProbeModule *ProbeContext::from_path(const std::string &given) {
  std::string abs = given;
  if (abs.empty() || abs[0] != '/') {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd)) abs = std::string(cwd) + "/" + given;
  }
  std::string name = module_name_from_path(abs);
  ProbeModule *m = from_name(name);
  if (!m->path) m->path = abs;
  return m;
}

void ProbeContext::parse_depline(ProbeModule *m, const std::string &line) {
  if (m->dep_init) return;
  m->dep_init = true;
  size_t colon = line.find(':');
  if (colon == std::string::npos) return;
  auto join = [&](std::string_view p) {
    return p.starts_with("/") ? std::string(p) : dirname_ + "/" + std::string(p);
  };
  if (!m->path) m->path = join(std::string_view(line).substr(0, colon));
  std::vector<ProbeModule *> deps;
  std::string_view rest = std::string_view(line).substr(colon + 1);
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) i++;
    size_t j = i;
    while (j < rest.size() && rest[j] != ' ' && rest[j] != '\t') j++;
    if (j > i) {
      std::string p = join(rest.substr(i, j - i));
      ProbeModule *d = from_name(module_name_from_path(p));
      if (!d->path) d->path = p;
      deps.push_back(d);
    }
    i = j;
  }
  m->deps.assign(deps.rbegin(), deps.rend());
}

const std::string *ProbeContext::path(ProbeModule *m) {
  if (m->path) return &*m->path;
  if (m->dep_init) return nullptr;
  if (auto line = search_moddep(m->name); line) parse_depline(m, *line);
  return m->path ? &*m->path : nullptr;
}

const std::vector<ProbeModule *> &ProbeContext::dependencies(ProbeModule *m) {
  if (!m->dep_init) {
    if (auto line = search_moddep(m->name); line) parse_depline(m, *line);
  }
  return m->deps;
}

bool ProbeContext::is_builtin(ProbeModule *m) {
  if (m->builtin < 0) {
    bool yes = false;
    if (Index *idx = index(BUILTIN)) {
      auto v = idx->file->reader().lookup(m->name);
      yes = v && v->has_value();
    }
    m->builtin = yes ? 1 : 0;
  }
  return m->builtin == 1;
}

std::string ProbeContext::options(const ProbeModule *m) const {
  std::string out;
  for (const ModuleOption &o : cfg_.options) {
    if (!(o.modname == m->name || (m->alias && o.modname == *m->alias))) continue;
    if (o.options.empty()) continue;
    if (!out.empty()) out.push_back(' ');
    out += o.options;
  }
  return out;
}

const std::string *ProbeContext::install_command(ProbeModule *m) {
  if (!m->install_set) {
    m->install_set = true;
    for (const ModprobeCommand &c : cfg_.install_commands) {
      if (fnmatch(c.modname.c_str(), m->name.c_str(), 0) != 0) continue;
      m->install_cmd = &c.command;
      break;
    }
  }
  return m->install_cmd;
}

const std::string *ProbeContext::remove_command(ProbeModule *m) {
  if (!m->remove_set) {
    m->remove_set = true;
    for (const ModprobeCommand &c : cfg_.remove_commands) {
      if (fnmatch(c.modname.c_str(), m->name.c_str(), 0) != 0) continue;
      m->remove_cmd = &c.command;
      break;
    }
  }
  return m->remove_cmd;
}

void ProbeContext::softdeps(ProbeModule *m, std::vector<ProbeModule *> &pre,
                            std::vector<ProbeModule *> &post) {
  pre.clear();
  post.clear();
  for (const ModprobeSoftdep &s : cfg_.softdeps) {
    if (fnmatch(s.modname.c_str(), m->name.c_str(), 0) != 0) continue;
    for (const std::string &d : s.pre)
      if (auto l = lookup(d)) pre.insert(pre.end(), l->begin(), l->end());
    for (const std::string &d : s.post)
      if (auto l = lookup(d)) post.insert(post.end(), l->begin(), l->end());
    break;
  }
}

bool ProbeContext::is_blacklisted(const ProbeModule *m) const {
  for (const std::string &b : cfg_.blacklists)
    if (b == m->name) return true;
  return false;
}

bool ProbeContext::is_forbidden(const ProbeModule *m) const { return cfg_.is_forbidden(m->name); }

std::string ProbeContext::forbidden_reason(const ProbeModule *m, const ProbeModule *top) {
  return "forbidden by a 'forbid " + m->name + "' line in the kmx configuration" +
         (m == top ? std::string() : " (needed by '" + top->name + "')");
}

void ProbeContext::alias_bin(int which, const std::string &name, std::vector<ProbeModule *> &out) {
  Index *idx = index(which);
  if (!idx) return;
  auto vals = idx->file->reader().search_wild(name);
  if (!vals) {
    if (warn_) warn_(fmt::format("{}/{}: {}", dirname_, index_names[which], vals.error().msg));
    return;
  }
  for (const IndexValue &v : *vals) out.push_back(from_alias(name, v.value));
}

std::optional<std::vector<ProbeModule *>> ProbeContext::lookup(const std::string &given) {
  auto norm = normalize_alias(given);
  if (!norm) return std::nullopt;
  const std::string &alias = *norm;
  std::vector<ProbeModule *> out;

  // 1. config aliases
  for (const ModprobeAlias &a : cfg_.aliases)
    if (fnmatch(a.name.c_str(), alias.c_str(), 0) == 0) out.push_back(from_alias(a.name, a.modname));
  if (!out.empty()) return out;

  // 2. modules.dep
  if (alias.find(':') == std::string::npos) {
    if (auto line = search_moddep(alias)) {
      ProbeModule *m = from_name(alias);
      parse_depline(m, *line);
      return std::vector<ProbeModule *>{m};
    }
  }

  // 3. symbols
  if (alias.starts_with("symbol:")) {
    alias_bin(SYMBOL, alias, out);
    if (!out.empty()) return out;
  }

  // 4. install / remove commands (exact name)
  for (const ModprobeCommand &c : cfg_.install_commands) {
    if (c.modname != alias) continue;
    ProbeModule *m = from_name(c.modname);
    m->install_set = true;
    m->install_cmd = &c.command;
    return std::vector<ProbeModule *>{m};
  }
  for (const ModprobeCommand &c : cfg_.remove_commands) {
    if (c.modname != alias) continue;
    ProbeModule *m = from_name(c.modname);
    m->remove_set = true;
    m->remove_cmd = &c.command;
    return std::vector<ProbeModule *>{m};
  }

  // 5. modules.alias
  alias_bin(ALIAS, alias, out);
  if (!out.empty()) return out;

  // 6. modules.builtin
  if (Index *idx = index(BUILTIN)) {
    auto v = idx->file->reader().lookup(alias);
    if (v && v->has_value()) {
      ProbeModule *m = from_name(alias);
      m->builtin = 1;
      return std::vector<ProbeModule *>{m};
    }
  }

  // 7. modules.builtin.alias
  alias_bin(BUILTIN_ALIAS, alias, out);
  for (ProbeModule *m : out) m->builtin = 1;
  return out;
}

void ProbeContext::fill_softdep(ProbeModule *m, std::vector<ProbeModule *> &out) {
  std::vector<ProbeModule *> pre, post;
  softdeps(m, pre, post);
  for (ProbeModule *p : pre) get_probe_list(p, false, false, out);
  out.push_back(m);
  m->ignorecmd = !pre.empty() || !post.empty();
  for (ProbeModule *p : post) get_probe_list(p, false, false, out);
}

void ProbeContext::get_probe_list(ProbeModule *m, bool required, bool ignorecmd,
                                  std::vector<ProbeModule *> &out) {
  if (m->visited) return;
  m->visited = true;
  std::vector<ProbeModule *> deps = dependencies(m);
  if (required) {
    m->required = true;
    for (ProbeModule *d : deps) d->required = true;
  }
  for (ProbeModule *d : deps) fill_softdep(d, out);
  if (ignorecmd) {
    out.push_back(m);
    m->ignorecmd = true;
  } else {
    fill_softdep(m, out);
  }
}

std::vector<ProbeModule *> ProbeContext::probe_list(ProbeModule *m, bool ignorecmd) {
  for (auto &[k, mod] : pool_) {
    mod->visited = false;
    mod->required = false;
  }
  std::vector<ProbeModule *> out;
  get_probe_list(m, true, ignorecmd, out);
  return out;
}

}  // namespace kmx
