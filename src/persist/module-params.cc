#include "persist/module-params.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/mapped-file.h"
#include "elf/module-elf.h"

namespace kmx {
namespace {

std::string normalise(std::string_view name) {
  std::string s(name);
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

bool needs_quotes(std::string_view v) {
  return v.empty() || v.find_first_of(" \t\n") != std::string_view::npos;
}

}  // namespace

Result<std::map<std::string, std::string>> read_writable_params(const std::string &sys_root, const std::string &module) {
  TRY(validate_module_name(module));
  std::string mdir = sys_root + "/module/" + normalise(module);
  struct stat st;
  if (stat(mdir.c_str(), &st) != 0) return fail(Errc::not_found, "module " + module + " is not loaded ('" + mdir + "' missing)");
  std::map<std::string, std::string> out;
  std::string pdir = mdir + "/parameters";
  DIR *d = opendir(pdir.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    return fail_errno(errno, "could not open '" + pdir + "': " + std::strerror(errno));
  }
  while (struct dirent *e = readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    std::string path = pdir + "/" + n;
    if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if ((st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) == 0) continue;
    // A write-only parameter (no read bit) cannot be saved; sysfs refuses the read.
    auto text = read_file(path);
    if (!text) continue;
    std::string v = std::move(*text);
    if (!v.empty() && v.back() == '\n') v.pop_back();
    out[n] = std::move(v);
  }
  closedir(d);
  return out;
}

Status save_module_params(PersistStore &store, const std::string &sys_root, const std::string &module) {
  TRY_ASSIGN(auto params, read_writable_params(sys_root, module));
  return store.save_params(normalise(module), params);
}

std::vector<std::string> option_names(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) i++;
    if (i >= s.size()) break;
    // One word: quotes may open anywhere and hide spaces (kernel next_arg()).
    size_t start = i;
    bool in_quote = false;
    size_t eq = std::string_view::npos;
    for (; i < s.size(); i++) {
      char c = s[i];
      if (c == '"') in_quote = !in_quote;
      else if (!in_quote && (c == ' ' || c == '\t' || c == '\n')) break;
      else if (c == '=' && eq == std::string_view::npos) eq = i;  // next_arg(): the first '=', quoted or not
    }
    std::string_view word = s.substr(start, (eq == std::string_view::npos ? i : eq) - start);
    if (!word.empty() && word.front() == '"') word.remove_prefix(1);
    if (!word.empty()) out.push_back(normalise(word));
  }
  return out;
}

std::vector<std::string> params_to_apply(const std::vector<PersistEntry> &stored, std::string_view load_options,
                                         const std::vector<std::string> &module_params) {
  std::vector<std::string> named = option_names(load_options);
  std::vector<std::string> declared;
  for (const std::string &p : module_params) declared.push_back(normalise(p));
  std::vector<std::string> out;
  for (const PersistEntry &e : stored) {
    std::string key = normalise(e.key);
    if (std::find(named.begin(), named.end(), key) != named.end()) continue;
    if (e.kind == EntryKind::user && std::find(declared.begin(), declared.end(), key) == declared.end()) continue;
    if (e.value.find('"') != std::string::npos) continue;  // next_arg() cannot pass it (no escapes)
    if (needs_quotes(e.value)) out.push_back(e.key + "=\"" + e.value + "\"");
    else out.push_back(e.key + "=" + e.value);
  }
  return out;
}

std::vector<std::string> declared_params(const std::string &module_path) {
  std::vector<std::string> out;
  auto info = read_module(module_path);
  if (!info) return out;
  // module_param() writes parmtype=NAME:TYPE; module_param_cb() writes none, and such a
  // parameter shows only by its MODULE_PARM_DESC, parm=NAME:TEXT (loop's max_loop).
  for (const char *key : {"parmtype", "parm"})
    for (const std::string &v : info->get_all(key)) {
      std::string name = v.substr(0, v.find(':'));
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
    }
  return out;
}

Result<std::vector<std::string>> stored_to_apply(PersistStore &store, std::string_view module,
                                                 const std::optional<std::string> &module_path, std::string_view load_options) {
  TRY_ASSIGN(std::vector<PersistEntry> entries, store.list(normalise(module)));
  if (entries.empty()) return std::vector<std::string>{};
  std::vector<std::string> declared;
  bool any_user = std::any_of(entries.begin(), entries.end(), [](const PersistEntry &e) { return e.kind == EntryKind::user; });
  if (any_user && module_path) {
    declared = declared_params(*module_path);
  } else if (any_user) {
    for (const PersistEntry &e : entries) declared.push_back(e.key);
  }
  return params_to_apply(entries, load_options, declared);
}

}  // namespace kmx
