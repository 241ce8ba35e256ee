#include "kernel/sysfs-module.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "base/mapped-file.h"
#include "base/strings.h"
#include "elf/module-elf.h"

namespace kmx {
namespace {

std::string module_dir(const KernelRoots &r, const std::string &name) { return r.sys + "/module/" + name; }

Result<i64> read_long(const std::string &path) {
  TRY_ASSIGN(std::string text, read_file(path));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  i64 v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty())
    return fail(Errc::invalid_format, "'" + path + "': not an integer: '" + text + "'");
  return v;
}

}  // namespace

bool module_sysfs_dir_exists(const KernelRoots &r, const std::string &name) {
  struct stat st;
  return stat(module_dir(r, name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<InitState> module_initstate(const KernelRoots &r, const std::string &name) {
  std::string path = module_dir(r, name) + "/initstate";
  auto text = read_file(path);
  if (!text) {
    if (module_sysfs_dir_exists(r, name)) return InitState::coming;
    return fail(Errc::not_found, "module " + name + " is not loaded");
  }
  if (*text == "live\n") return InitState::live;
  if (*text == "coming\n") return InitState::coming;
  if (*text == "going\n") return InitState::going;
  return fail(Errc::invalid_format, "unknown " + path + ": '" + *text + "'");
}

Result<i64> module_refcnt(const KernelRoots &r, const std::string &name) {
  return read_long(module_dir(r, name) + "/refcnt");
}

Result<i64> module_coresize(const KernelRoots &r, const std::string &name) {
  return read_long(module_dir(r, name) + "/coresize");
}

Result<std::vector<std::string>> module_holders(const KernelRoots &r, const std::string &name) {
  std::string path = module_dir(r, name) + "/holders";
  DIR *d = opendir(path.c_str());
  if (!d) return fail_errno(errno, "could not open '" + path + "': " + std::strerror(errno));
  std::vector<std::string> out;
  while (struct dirent *e = readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    out.push_back(normalize_module_name(n));
  }
  closedir(d);
  return out;
}

Result<std::vector<LoadedModule>> loaded_modules(const KernelRoots &r) {
  std::string path = r.proc + "/modules";
  TRY_ASSIGN(std::string text, read_file(path));
  return parse_proc_modules(text);
}

std::optional<Compression> kernel_decompression(const KernelRoots &r) {
  auto text = read_file(r.sys + "/module/compression");
  if (!text) return std::nullopt;
  std::string t = *text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  for (Compression c : {Compression::gzip, Compression::xz, Compression::zstd})
    if (t == compression_name(c)) return c;
  return std::nullopt;
}

bool sysfs_available(const KernelRoots &r) {
  struct stat st;
  return stat((r.sys + "/module").c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool module_is_builtin(const KernelRoots &r, const std::string &name) {
  struct utsname u;
  if (uname(&u) != 0) return false;
  auto text = read_file(r.modules + "/" + u.release + "/modules.builtin");
  if (!text) return false;
  bool found = false;
  for_each_line(*text, [&](std::string_view line, size_t) {
    found = !line.empty() && module_name_from_path(line) == name;
    return !found;
  });
  return found;
}

}  // namespace kmx
