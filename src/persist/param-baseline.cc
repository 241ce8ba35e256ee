#include "persist/param-baseline.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/atomic-file.h"
#include "base/dirs.h"
#include "base/mapped-file.h"
#include "persist/module-params.h"
#include "persist/persist-store.h"

namespace kmx {
namespace {

std::string normalise(std::string s) {
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

Result<u64> sysfs_ino(const std::string &sys_root, const std::string &module) {
  std::string dir = sys_root + "/module/" + module;
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return fail_errno(errno, "'" + dir + "': " + std::strerror(errno));
  return static_cast<u64>(st.st_ino);
}

std::string file_of(const std::string &dir, const std::string &module) { return dir + "/" + module + ".json"; }

}  // namespace

Status write_baseline(const std::string &dir, const std::string &sys_root, const std::string &module_in) {
  TRY(validate_module_name(module_in));
  std::string module = normalise(module_in);
  TRY_ASSIGN(u64 ino, sysfs_ino(sys_root, module));
  TRY_ASSIGN(auto params, read_writable_params(sys_root, module));
  // No writable parameter: "no baseline" means the same thing (nothing to save), and most
  // modules never make kmx create its directory.
  if (params.empty()) return remove_baseline(dir, module);
  nlohmann::json j;
  j["version"] = 1;
  j["module"] = module;
  j["sysfs_ino"] = ino;
  j["params"] = nlohmann::json::object();
  for (const auto &[k, v] : params) j["params"][k] = v;
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) TRY(make_private_dirs(dir));
  // Parameter values are arbitrary bytes; replace invalid UTF-8 rather than fail the dump.
  std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  TRY_ASSIGN(bool written, write_file_atomic(file_of(dir, module), text, 0600));
  (void)written;
  return {};
}

Result<std::optional<ParamBaseline>> read_baseline(const std::string &dir, const std::string &sys_root,
                                                   const std::string &module_in) {
  TRY(validate_module_name(module_in));
  std::string module = normalise(module_in);
  std::string path = file_of(dir, module);
  Result<std::string> text = read_file(path);
  if (!text) {
    if (text.error().code == Errc::not_found) return std::optional<ParamBaseline>();
    return fail(with_context(std::move(text).error(), path));
  }
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  auto bad = [&](const char *what) { return fail(Errc::invalid_format, "'" + path + "': " + what); };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"].get<i64>() != 1)
    return bad("missing or unsupported \"version\" (this kmx knows 1)");
  if (!j.contains("sysfs_ino") || !j["sysfs_ino"].is_number_unsigned()) return bad("missing \"sysfs_ino\"");
  if (!j.contains("params") || !j["params"].is_object()) return bad("missing \"params\" object");
  ParamBaseline b;
  b.module = module;
  b.sysfs_ino = j["sysfs_ino"].get<u64>();
  for (const auto &[k, v] : j["params"].items()) {
    if (!v.is_string()) return bad("a parameter value is not a string");
    b.params[k] = v.get<std::string>();
  }
  Result<u64> ino = sysfs_ino(sys_root, module);
  if (!ino || *ino != b.sysfs_ino) return std::optional<ParamBaseline>();
  return std::optional<ParamBaseline>(std::move(b));
}

Status remove_baseline(const std::string &dir, const std::string &module_in) {
  TRY(validate_module_name(module_in));
  std::string path = file_of(dir, normalise(module_in));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return fail_errno(errno, "'" + path + "': " + std::strerror(errno));
  return {};
}

std::map<std::string, std::string> changed_params(const std::optional<ParamBaseline> &baseline,
                                                  const std::map<std::string, std::string> &current) {
  if (!baseline) return current;
  std::map<std::string, std::string> out;
  for (const auto &[k, v] : current) {
    auto it = baseline->params.find(k);
    if (it == baseline->params.end() || it->second != v) out[k] = v;
  }
  return out;
}

Result<std::map<std::string, std::string>> params_changed_since_load(const std::string &dir, const std::string &sys_root,
                                                                    const std::string &module,
                                                                    std::optional<Error> *baseline_error) {
  TRY_ASSIGN(auto current, read_writable_params(sys_root, module));
  std::optional<ParamBaseline> base;
  if (!dir.empty()) {
    auto b = read_baseline(dir, sys_root, module);
    if (b) base = std::move(*b);
    else if (baseline_error) *baseline_error = std::move(b).error();
  }
  return changed_params(base, current);
}

}  // namespace kmx
