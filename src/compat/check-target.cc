#include "compat/check-target.h"

#include <cstring>
#include <filesystem>

#include "base/proc-modules.h"
#include "base/strings.h"
#include "compat/load-check.h"
#include "elf/module-elf.h"

namespace kmx {

namespace fs = std::filesystem;

CheckTargets check_target_specs(const TargetRequest &req) {
  CheckTargets t;
  t.release = req.release;
  if (!req.kernels.empty()) {
    for (std::string k : req.kernels) {
      if (!req.extra.empty()) k.append(",").append(join(req.extra, ","));
      t.specs.push_back(k);
    }
    return t;
  }
  std::string spec;
  if (!req.targets.empty()) {
    spec = join(req.targets, ",");
  } else if (!req.basedir.empty() && req.release.empty()) {
    spec = req.basedir;  // the only release under BASEDIR/lib/modules
  } else if (!req.basedir.empty() || !req.release.empty()) {
    std::string rel = req.release.empty() ? req.running_release : req.release;
    std::string root = req.basedir.empty() ? "/" : req.basedir;
    spec = root;
    t.release = rel;
    if (!fs::is_directory(root + "/lib/modules/" + rel)) spec = req.basedir + "/lib/modules/" + rel;
  } else {
    t.running = true;
    const std::string &rel = req.running_release;
    spec = "/lib/modules/" + rel;
    for (std::string f : {"/boot/config-" + rel, "/boot/System.map-" + rel})
      if (fs::exists(f)) spec += "," + f;
    t.release = rel;
  }
  if (!req.extra.empty()) spec.append(",").append(join(req.extra, ","));
  t.specs.push_back(spec);
  return t;
}

Result<CheckTargets> load_check_targets(const TargetRequest &req) {
  CheckTargets t = check_target_specs(req);
  for (const auto &spec : t.specs) {
    TRY_ASSIGN(KernelProfile p, load_profile(spec, t.specs.size() == 1 ? t.release : "", req.cache_dir));
    t.profiles.push_back(std::move(p));
  }
  return t;
}

std::string release_from_headers_path(std::string_view path) {
  for (fs::path d = fs::path(path).lexically_normal(); !d.empty() && d != d.parent_path(); d = d.parent_path()) {
    std::string name = d.filename().string();
    if (name.starts_with("linux-headers-")) return name.substr(std::strlen("linux-headers-"));
  }
  return "";
}

Result<KernelProfile> load_history_profile(const std::string &spec, const std::string &cache_dir) {
  TRY_ASSIGN(KernelProfile p, load_profile(spec, "", cache_dir));
  if (p.release.empty() || p.major == 0) {
    std::string rel = release_from_headers_path(std::string_view(spec).substr(0, spec.find(',')));
    if (!rel.empty()) {
      p.release = rel;
      parse_release(p.release, p.major, p.minor);
    }
  }
  return p;
}

void add_loaded_module(const ModuleInfo &m, const std::string &path, TargetState &state,
                       std::vector<KernelProfile> &profiles) {
  std::string name = normalize_module_name(m.get("name").value_or(module_name_from_path(path)));
  state.loaded.insert(name);
  if (!license_is_gpl_compatible(m.get("license").value_or("unspecified"))) state.proprietary.insert(name);
  for (auto &p : profiles)
    for (const auto &e : m.exports) p.exports.try_emplace(e.name, KernelExport{name, e.license, e.ns, e.crc});
}

Status add_loaded_list(std::string_view text, const std::string &what, TargetState &state) {
  auto mods = parse_proc_modules(text);
  if (!mods) return fail(mods.error().code, what + ": " + mods.error().msg);
  for (const auto &m : *mods) {
    state.loaded.insert(m.name);
    if (m.taints.find('P') != std::string::npos) state.proprietary.insert(m.name);
  }
  return {};
}

}  // namespace kmx
