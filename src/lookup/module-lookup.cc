#include "lookup/module-lookup.h"

#include <fnmatch.h>

#include <sstream>

#include "base/mapped-file.h"
#include "elf/module-elf.h"
#include "index/trie-index.h"

namespace kmx {

std::optional<std::string> normalize_alias(const std::string &alias) {
  std::string out;
  out.reserve(alias.size());
  for (size_t i = 0; i < alias.size(); i++) {
    char c = alias[i];
    if (c == '[') {
      size_t close = alias.find(']', i);
      if (close == std::string::npos) return std::nullopt;
      out.append(alias, i, close - i + 1);
      i = close;
    } else if (c == ']') {
      return std::nullopt;
    } else {
      out.push_back(c == '-' ? '_' : c);
    }
  }
  return out;
}

namespace {

// Iterate the lines of a text index file; a missing file has no lines.
template <typename Fn>
void for_each_line(const std::string &path, Fn &&fn) {
  auto text = read_file(path);
  if (!text) return;
  std::string_view all = *text;
  size_t i = 0;
  while (i < all.size()) {
    size_t nl = all.find('\n', i);
    if (nl == std::string_view::npos) nl = all.size();
    if (!fn(all.substr(i, nl - i))) return;
    i = nl + 1;
  }
}

// A .bin index of the module directory, mapped for the duration of one query. nullopt
// when the file is absent or unusable: the caller then falls back to the text twin.
std::optional<IndexFile> open_index(const std::string &path) {
  auto f = IndexFile::open(path);
  if (!f) return std::nullopt;
  return std::move(*f);
}

// "PATH: DEP..." -> absolute PATH
std::string dep_line_path(const std::string &dir, std::string_view line) {
  std::string_view path = line.substr(0, line.find(':'));
  return path.starts_with("/") ? std::string(path) : dir + "/" + std::string(path);
}

}  // namespace

FoundModule ModuleDir::module_by_name(const std::string &name) const {
  if (auto dep = from_moddep(name)) return *dep;
  return FoundModule{name, "", false};
}

std::optional<FoundModule> ModuleDir::from_moddep(const std::string &name) const {
  if (name.find(':') != std::string::npos) return std::nullopt;
  if (auto idx = open_index(dir_ + "/modules.dep.bin")) {
    auto v = idx->reader().lookup(name);
    if (!v || !*v) return std::nullopt;
    return FoundModule{name, dep_line_path(dir_, **v), false};
  }
  std::optional<FoundModule> found;
  for_each_line(dir_ + "/modules.dep", [&](std::string_view line) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return true;
    std::string_view path = line.substr(0, colon);
    if (module_name_from_path(path) != name) return true;
    std::string abs = path.starts_with("/") ? std::string(path) : dir_ + "/" + std::string(path);
    found = FoundModule{name, abs, false};
    return false;
  });
  return found;
}

std::optional<FoundModule> ModuleDir::from_builtin(const std::string &name) const {
  if (auto idx = open_index(dir_ + "/modules.builtin.bin")) {
    auto v = idx->reader().lookup(name);
    if (!v || !*v) return std::nullopt;
    return FoundModule{name, "", true};
  }
  std::optional<FoundModule> found;
  for_each_line(dir_ + "/modules.builtin", [&](std::string_view line) {
    if (module_name_from_path(line) != name) return true;
    found = FoundModule{name, "", true};
    return false;
  });
  return found;
}

// Every value of every pattern matching `alias`, in kmod's order and with its duplicates
// (kmod_lookup_alias_from_alias_bin appends one module per value).
std::vector<FoundModule> ModuleDir::from_alias_index(const std::string &file, const std::string &alias) const {
  std::vector<FoundModule> out;
  auto idx = open_index(dir_ + "/" + file + ".bin");
  if (!idx) return from_alias_file(file, alias, file == "modules.symbols");
  auto vals = idx->reader().search_wild(alias);
  if (!vals) return out;
  for (const IndexValue &v : *vals) out.push_back(module_by_name(v.value));
  return out;
}

std::vector<FoundModule> ModuleDir::from_alias_file(const std::string &file, const std::string &alias, bool exact) const {
  std::vector<FoundModule> out;
  for_each_line(dir_ + "/" + file, [&](std::string_view line) {
    // "alias PATTERN MODULE"
    if (!line.starts_with("alias ")) return true;
    std::string_view rest = line.substr(6);
    size_t sp = rest.rfind(' ');
    if (sp == std::string_view::npos) return true;
    auto pattern_norm = normalize_alias(std::string(rest.substr(0, sp)));
    if (!pattern_norm) return true;
    std::string pattern = *pattern_norm;
    std::string mod(rest.substr(sp + 1));
    bool match = exact ? pattern == alias : fnmatch(pattern.c_str(), alias.c_str(), 0) == 0;
    if (match) out.push_back(module_by_name(mod));
    return true;
  });
  return out;
}

std::vector<FoundModule> ModuleDir::from_builtin_aliases(const std::string &alias) const {
  std::vector<FoundModule> out;
  if (auto idx = open_index(dir_ + "/modules.builtin.alias.bin")) {
    auto vals = idx->reader().search_wild(alias);
    if (vals)
      for (const IndexValue &v : *vals) out.push_back({v.value, "", true});
    return out;
  }
  auto text = read_file(dir_ + "/modules.builtin.modinfo");
  if (!text) return out;
  std::stringstream ss(*text);
  std::string entry;
  while (std::getline(ss, entry, '\0')) {
    size_t dot = entry.find('.');
    if (dot == std::string::npos || entry.compare(dot + 1, 6, "alias=") != 0) continue;
    std::string pattern = entry.substr(dot + 7);
    if (fnmatch(pattern.c_str(), alias.c_str(), 0) != 0) continue;
    std::string mod = normalize_module_name(entry.substr(0, dot));
    bool dup = false;
    for (const FoundModule &m : out) dup |= m.name == mod;
    if (!dup) out.push_back({mod, "", true});
  }
  return out;
}

std::vector<FoundModule> ModuleDir::lookup(const std::string &given) const {
  auto alias = normalize_alias(given);
  if (!alias) return {};
  if (auto m = from_moddep(*alias)) return {*m};
  if (alias->starts_with("symbol:")) {
    auto v = from_alias_index("modules.symbols", *alias);
    if (!v.empty()) return v;
  }
  if (auto v = from_alias_index("modules.alias", *alias); !v.empty()) return v;
  if (auto m = from_builtin(*alias)) return {*m};
  return from_builtin_aliases(*alias);
}

std::optional<FoundModule> ModuleDir::lookup_name(const std::string &given) const {
  std::string name = normalize_module_name(given.substr(0, given.find('.')));
  if (auto m = from_moddep(name)) return m;
  if (auto m = from_builtin(name)) return m;
  // kmod's name lookup also asks the builtin alias index, and takes its first answer.
  auto v = from_builtin_aliases(name);
  if (!v.empty()) return v.front();
  return std::nullopt;
}

Result<std::vector<std::string>> ModuleDir::builtin_modinfo(const std::string &name) const {
  auto text = read_file(dir_ + "/modules.builtin.modinfo");
  if (!text) return fail(std::move(text).error());
  std::vector<std::string> out;
  std::string prefix = name + ".";
  std::string_view all = *text;
  size_t i = 0;
  while (i < all.size()) {
    size_t end = all.find('\0', i);
    if (end == std::string_view::npos) end = all.size();
    std::string_view s = all.substr(i, end - i);
    i = end + 1;
    if (s.size() > prefix.size() && s.starts_with(prefix)) out.emplace_back(s.substr(prefix.size()));
  }
  return out;
}

}  // namespace kmx
