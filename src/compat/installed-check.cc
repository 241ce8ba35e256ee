#include "compat/installed-check.h"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>

#include "base/mapped-file.h"
#include "base/strings.h"
#include "config/modprobe-config.h"
#include "elf/module-elf.h"

namespace kmx {

namespace {

namespace fs = std::filesystem;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string read_or_empty(const fs::path &p) {
  auto t = read_file(p.string());
  return t ? *t : std::string();
}

// The names a DKMS package builds: each `BUILT_MODULE_NAME[N]=NAME` of its dkms.conf (a shell
// fragment; the value may be quoted), wherever it stands on a line.
std::vector<std::string> dkms_built_module_names(std::string_view conf) {
  static constexpr std::string_view key = "BUILT_MODULE_NAME[";
  std::vector<std::string> out;
  for (size_t at = conf.find(key); at != std::string_view::npos; at = conf.find(key, at + 1)) {
    std::string_view rest = conf.substr(at + key.size());
    size_t digits = rest.find_first_not_of("0123456789");
    if (digits == 0 || digits == std::string_view::npos || !rest.substr(digits).starts_with("]=")) continue;
    rest.remove_prefix(digits + 2);
    if (!rest.empty() && (rest.front() == '"' || rest.front() == '\'')) rest.remove_prefix(1);
    size_t len = rest.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
    if (len == std::string_view::npos) len = rest.size();
    if (len > 0) out.emplace_back(rest.substr(0, len));
  }
  return out;
}

// Regular module files under `dir`, sorted.
std::vector<fs::path> module_files(const fs::path &dir, bool skip_kernel_dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (skip_kernel_dir && it.depth() == 0 && it->path().filename() == "kernel" && it->is_directory(ec)) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec) && has_module_extension(it->path().filename().string())) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// One kernel's modules: the in-tree names it ships and its out-of-tree files by name.
struct KernelModules {
  std::set<std::string> shipped;                    // in-tree and builtin names
  std::map<std::string, std::string> out_of_tree;   // name -> file (ROOT-relative path kept)
};

struct DkmsModule {
  std::string package;  // NAME/VER
  std::string dir;      // var/lib/dkms/NAME/VER
  std::set<std::string> names;
  std::map<std::string, std::set<std::string>> built;  // REL -> names in REL/ARCH/module
};

// DIR/source/dkms.conf, DIR/source being DKMS's link to /usr/src/NAME-VER: an absolute link is
// followed inside ROOT, not on this machine.
std::string dkms_conf_text(const fs::path &root, const fs::path &dir) {
  fs::path src = dir / "source";
  std::error_code ec;
  if (fs::is_symlink(src, ec)) {
    fs::path target = fs::read_symlink(src, ec);
    if (!ec && target.is_absolute()) src = root / target.relative_path();
  }
  return read_or_empty(src / "dkms.conf");
}

}  // namespace

std::vector<std::string> parse_module_list(std::string_view text) {
  std::vector<std::string> out;
  for_each_line(text, [&](std::string_view line, size_t) {
    size_t c = line.find_first_of("#;");
    if (c != std::string_view::npos) line = line.substr(0, c);
    line = trim(line);
    if (line.empty()) return;
    size_t sp = line.find_first_of(" \t");
    out.push_back(normalize_module_name(line.substr(0, sp)));
  });
  return out;
}

std::string grub_cmdline(std::string_view text) {
  std::vector<std::string> parts;
  for_each_line(text, [&](std::string_view line, size_t) {
    line = trim(line);
    for (std::string_view key : {"GRUB_CMDLINE_LINUX=", "GRUB_CMDLINE_LINUX_DEFAULT="}) {
      if (!line.starts_with(key)) continue;
      std::string_view v = line.substr(key.size());
      if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
        v = v.substr(1, v.size() - 2);
      if (!trim(v).empty()) parts.emplace_back(trim(v));
    }
  });
  return join(parts, " ");
}

std::vector<std::string> make_log_errors(std::string_view text, size_t max) {
  std::vector<std::string> out;
  for_each_line(text, [&](std::string_view line, size_t) {
    if (out.size() >= max) return;
    if (line.find("error:") != std::string_view::npos || line.find(" undefined!") != std::string_view::npos)
      out.emplace_back(trim(line));
  });
  return out;
}

std::vector<std::string> undeclared_functions(const std::vector<std::string> &errors) {
  static constexpr std::string_view key = "implicit declaration of function ";
  std::vector<std::string> out;
  for (std::string_view line : errors) {
    size_t at = line.find(key);
    if (at == std::string_view::npos) continue;
    std::string_view rest = line.substr(at + key.size());
    if (rest.starts_with("'")) rest.remove_prefix(1);
    else if (rest.starts_with("\xe2\x80\x98")) rest.remove_prefix(3);
    else continue;
    size_t len = rest.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
    if (len == std::string_view::npos) len = rest.size();
    if (len > 0) out.emplace_back(rest.substr(0, len));
  }
  return out;
}

LoadVerdict missing_verdict(const MissingModule &m, const KernelProfile &k) {
  LoadVerdict v;
  v.module = m.name;
  v.path = "(no build for " + k.release + ")";
  v.loads = false;
  v.err = ENOENT;
  v.errno_name = "ENOENT";
  v.check_id = "M1";
  std::string detail = m.why + (m.device.empty() ? "" : "; needed by device " + m.device) +
                       (m.detail.empty() ? "" : "; " + m.detail);
  v.checks.push_back({"M1", "missing after reboot", StepResult::refuse, detail});
  v.messages.push_back("modprobe: FATAL: Module " + m.name + " not found in directory /lib/modules/" + k.release);
  if (!m.hint.empty()) v.hints.push_back(m.hint);
  return v;
}

Result<InstalledPlan> plan_installed_check(const InstalledRequest &req) {
  const std::string root = req.root.empty() ? "/" : req.root;
  const fs::path r(root);
  InstalledPlan plan;

  // Installed kernels: ROOT/lib/modules/REL directories.
  std::vector<std::string> releases;
  std::error_code ec;
  for (const auto &e : fs::directory_iterator(r / "lib/modules", ec))
    if (e.is_directory(ec)) releases.push_back(e.path().filename().string());
  if (releases.empty()) return fail(Errc::not_found, (r / "lib/modules").string() + ": no kernel installed here");
  std::sort(releases.begin(), releases.end());
  if (!req.only_release.empty() && std::find(releases.begin(), releases.end(), req.only_release) == releases.end())
    return fail(Errc::not_found, (r / "lib/modules" / req.only_release).string() + ": kernel not installed");

  // Each kernel's in-tree names and out-of-tree files.
  std::map<std::string, KernelModules> per;
  for (const auto &rel : releases) {
    KernelModules &km = per[rel];
    fs::path tree = r / "lib/modules" / rel;
    for (const auto &p : module_files(tree / "kernel", false)) km.shipped.insert(module_name_from_path(p.string()));
    for (const auto &name : parse_module_list(read_or_empty(tree / "modules.builtin")))
      km.shipped.insert(module_name_from_path(name));
    for (const auto &p : module_files(tree, true)) {
      auto m = read_module(p.string());
      std::string name = module_name_from_path(p.string());
      if (m) {
        if (m->get("intree").value_or("") == "Y") {
          km.shipped.insert(name);
          continue;
        }
        if (auto n = m->get("name")) name = normalize_module_name(*n);
      }
      km.out_of_tree.emplace(name, p.string());
    }
  }

  // DKMS: var/lib/dkms/NAME/VER with builds in REL/ARCH/module (`dkms status` says "built";
  // "installed" once copied into lib/modules/REL, the only place modprobe looks).
  std::vector<DkmsModule> dkms;
  for (const auto &pkg : fs::directory_iterator(r / "var/lib/dkms", ec)) {
    if (!pkg.is_directory(ec)) continue;
    for (const auto &ver : fs::directory_iterator(pkg.path(), ec)) {
      if (!ver.is_directory(ec) || ver.is_symlink(ec)) continue;
      DkmsModule d;
      d.package = pkg.path().filename().string() + "/" + ver.path().filename().string();
      d.dir = ver.path().string();
      for (const auto &kdir : fs::directory_iterator(ver.path(), ec)) {
        std::string rel = kdir.path().filename().string();
        if (!per.contains(rel)) continue;
        for (const auto &arch : fs::directory_iterator(kdir.path(), ec))
          for (const auto &p : module_files(arch.path() / "module", false)) {
            std::string name = module_name_from_path(p.string());
            d.names.insert(name);
            d.built[rel].insert(name);
          }
      }
      for (const std::string &n : dkms_built_module_names(dkms_conf_text(r, ver.path())))
        d.names.insert(normalize_module_name(n));
      if (d.names.empty()) d.names.insert(normalize_module_name(pkg.path().filename().string()));
      dkms.push_back(std::move(d));
    }
  }

  // The command line and the blacklist.
  plan.cmdline = grub_cmdline(read_or_empty(r / "etc/default/grub"));
  if (req.cmdline_given) plan.cmdline = req.cmdline;
  else if (!req.proc_cmdline.empty()) plan.cmdline += (plan.cmdline.empty() ? "" : " ") + std::string(trim(req.proc_cmdline));
  TargetState cmd_state;
  apply_cmdline(plan.cmdline, cmd_state);
  Diag diag;
  ModprobeConfigSources src;
  src.root = root == "/" ? "" : root;
  src.kcmdline_path = "";
  ModprobeConfig cfg = load_modprobe_config(src, diag);
  auto blacklisted = [&](const std::string &name) {
    return cmd_state.blacklist.contains(name) || cfg.is_blacklisted(name) || cfg.is_forbidden(name);
  };

  // What the machine uses, by name, with why.
  std::map<std::string, std::string> used;
  auto use = [&](const std::string &name, const std::string &why) { used.emplace(name, why); };
  for (const auto &f : {"etc/modules", "etc/initramfs-tools/modules"})
    for (const auto &n : parse_module_list(read_or_empty(r / f))) use(n, "named in /" + std::string(f));
  std::vector<fs::path> load_d;
  for (const auto &e : fs::directory_iterator(r / "etc/modules-load.d", ec))
    if (e.path().extension() == ".conf") load_d.push_back(e.path());
  std::sort(load_d.begin(), load_d.end());
  for (const auto &f : load_d)
    for (const auto &n : parse_module_list(read_or_empty(f)))
      use(n, "named in /etc/modules-load.d/" + f.filename().string());
  std::set<std::string> loaded;
  for_each_line(req.proc_modules, [&](std::string_view line, size_t) {
    line = trim(line);
    if (line.empty()) return;
    std::string name(line.substr(0, line.find(' ')));
    loaded.insert(name);
    use(name, "loaded now");
  });
  for (const auto &[rel, km] : per)
    for (const auto &[name, path] : km.out_of_tree) use(name, "built for " + rel + " (" + path + ")");
  for (const auto &d : dkms)
    for (const auto &n : d.names) use(n, "DKMS package " + d.package);

  for (const auto &rel : releases) {
    if (!req.only_release.empty() && rel != req.only_release) continue;
    const KernelModules &km = per[rel];
    InstalledKernel k;
    k.release = rel;
    fs::path tree = r / "lib/modules" / rel;
    k.spec = tree.string();
    for (const fs::path &f : {r / "boot" / ("vmlinuz-" + rel), r / "boot" / ("config-" + rel),
                              r / "boot" / ("System.map-" + rel), r / "usr/src" / ("linux-headers-" + rel) / "Module.symvers"})
      if (fs::exists(f, ec)) k.spec += "," + f.string();
    for (const auto &[name, path] : km.out_of_tree) {
      if (blacklisted(name)) {
        plan.blacklisted.insert(name);
        continue;
      }
      k.modules.push_back(path);
    }
    for (const auto &[name, why] : used) {
      if (km.shipped.contains(name) || km.out_of_tree.contains(name)) continue;
      if (blacklisted(name)) {
        plan.blacklisted.insert(name);
        continue;
      }
      MissingModule m{name, why, "", "", ""};
      const DkmsModule *from = nullptr;
      for (const auto &d : dkms)
        if (d.names.contains(name)) from = &d;
      if (from) {
        fs::path log = fs::path(from->dir) / "build/make.log";
        std::string text = read_or_empty(log);
        std::string first = text.substr(0, text.find('\n'));
        if (auto b = from->built.find(rel); b != from->built.end() && b->second.contains(name)) {
          m.detail = "DKMS built " + from->package + " for " + rel + " but did not install it (dkms status: built)";
          m.hint = "dkms install " + from->package + " -k " + rel;
        } else if (!text.empty() && first.find("for kernel " + rel + " ") != std::string::npos) {
          auto errs = make_log_errors(text);
          m.detail = "DKMS build of " + from->package + " for " + rel + " failed" +
                     (errs.empty() ? "" : ": " + join(errs, " | "));
          m.hint = "see " + log.string() + "; a newer " + from->package.substr(0, from->package.find('/')) +
                   " may support " + rel;
          std::vector<std::string> known;
          if (req.api_changes)
            for (const std::string &f : undeclared_functions(errs))
              for (const ApiChange &c : *req.api_changes)
                if (c.symbol == f) known.push_back(api_change_hint(c));
          if (!known.empty()) m.hint = join(known, "; ") + " (" + m.hint + ")";
        } else {
          m.hint = "dkms install " + from->package + " -k " + rel;
        }
      } else if (loaded.contains(name) && why == "loaded now") {
        m.hint = rel + " does not ship " + name + " (compare its config with the running kernel's)";
      } else {
        m.hint = "build " + name + " against linux-headers-" + rel + " and install it in /lib/modules/" + rel + "/updates";
      }
      k.missing.push_back(std::move(m));
    }
    plan.kernels.push_back(std::move(k));
  }
  return plan;
}

}  // namespace kmx
