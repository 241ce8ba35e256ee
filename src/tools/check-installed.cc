// kmx check --installed: every kernel installed under ROOT x every out-of-tree module the
// machine uses (compat/installed-check.h finds them). Text output starts with a summary, one
// line per problem with its fix hint, then "Details:" with each verdict in full; --json is the
// array of verdicts (a module missing for a kernel has check_id "M1"); --html the matrix.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fmt/core.h>
#include <map>
#include <set>

#include "base/atomic-file.h"
#include "base/mapped-file.h"
#include "compat/kernel-keys.h"
#include <fcntl.h>
#include "compat/check-target.h"
#include "compat/installed-check.h"
#include "compat/kernel-profile.h"
#include "compat/load-check.h"
#include "config/modprobe-config.h"
#include "daemon/coldplug.h"
#include "elf/module-elf.h"
#include "lookup/probe.h"
#include "tools/check-render.h"
#include "tools/common.h"

namespace kmx {

namespace {

namespace fs = std::filesystem;

// The running machine's Secure Boot state and enrolled MOKs, into `s`: the SecureBoot EFI
// variable; MokListRT from /sys/firmware/efi/mok-variables, else `mokutil --export`.
void read_machine_keys(TargetState &s) {
  std::error_code ec;
  if (!fs::exists("/sys/firmware/efi", ec)) return;  // booted without UEFI: no Secure Boot
  auto sb = read_file("/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e98c0a0d7ba0");
  if (!sb || sb->size() < 5) {
    s.secure_boot_unknown = sb ? "the SecureBoot EFI variable is malformed" : "cannot read the SecureBoot EFI variable: " + sb.error().msg;
    return;
  }
  s.secure_boot = (*sb)[4] == 1;
  if (!s.secure_boot) return;
  if (auto l = read_file("/sys/firmware/efi/mok-variables/MokListRT")) {
    auto c = certs_in_blob(ByteView(reinterpret_cast<const u8 *>(l->data()), l->size()),
                           "/sys/firmware/efi/mok-variables/MokListRT");
    s.mok_certs = std::move(c.certs);
    return;
  }
  // mokutil --export writes MOK-0001.der ... into the current directory.
  char tmpl[] = "/tmp/kmx-mok.XXXXXX";
  if (!mkdtemp(tmpl)) {
    s.mok_unknown = "cannot make a temporary directory";
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir(tmpl) != 0) _exit(127);
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, STDOUT_FILENO), dup2(null, STDERR_FILENO);
    execlp("mokutil", "mokutil", "--export", static_cast<char *>(nullptr));
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    s.mok_unknown = WIFEXITED(status) && WEXITSTATUS(status) == 127 ? "no /sys/firmware/efi/mok-variables and no mokutil"
                                                                       : "mokutil --export failed";
  } else {
    for (const auto &e : fs::directory_iterator(tmpl, ec))
      if (auto c = load_cert_file(e.path().string())) s.mok_certs.insert(s.mok_certs.end(), c->begin(), c->end());
  }
  fs::remove_all(tmpl, ec);
}

// The devices that need the modules in `missing`: every modalias under SYS/devices (the
// coldplug scan the daemon makes) resolved as modprobe resolves it (lookup/probe.h: modprobe.d
// aliases, then modules.alias.bin) in each tree of `old_trees` in turn, where the machine's
// modules are still known. Name -> "DEVPATH (MODALIAS)" of the first device found.
std::map<std::string, std::string> devices_needing(const std::string &sys, const std::vector<std::string> &old_trees,
                                                   const ModprobeConfig &cfg, std::set<std::string> missing) {
  std::map<std::string, std::string> out;
  auto scan = scan_modaliases(sys);
  if (!scan || scan->devices.empty()) return out;
  for (const auto &tree : old_trees) {
    if (missing.empty()) break;
    ProbeContext ctx(tree, cfg);
    for (const auto &d : scan->devices) {
      auto found = ctx.lookup(d.modalias);
      if (!found) continue;
      for (const ProbeModule *m : *found) {
        std::string name = normalize_module_name(m->name);
        if (missing.erase(name)) out.emplace(name, d.devpath + " (" + d.modalias + ")");
      }
    }
  }
  return out;
}

}  // namespace

Status apply_key_options(TargetState &state, const std::vector<std::string> &mok_files, bool secure_boot,
                         bool machine, const std::string &target) {
  state.secure_boot = secure_boot;
  if (machine && !secure_boot && mok_files.empty()) read_machine_keys(state);
  for (const auto &f : mok_files) {
    TRY_ASSIGN(auto c, load_cert_file(f));
    state.mok_certs.insert(state.mok_certs.end(), c.begin(), c.end());
  }
  if (state.secure_boot && state.mok_certs.empty() && state.mok_unknown.empty() && !machine && !target.empty())
    state.mok_unknown = "the enrolled MOKs of " + target + " were not given (--mok FILE)";
  return {};
}

int check_installed(const InstalledOptions &o) {
  auto error = [](const std::string &msg) {
    std::fprintf(stderr, "kmx check: ERROR: %s\n", msg.c_str());
    return 4;
  };
  const bool live = o.root == "/";
  InstalledRequest req;
  req.root = o.root;
  req.only_release = o.release;
  req.cmdline = o.cmdline;
  req.cmdline_given = o.cmdline_given;
  if (live) {
    if (auto t = read_file("/proc/modules")) req.proc_modules = *t;
    if (!o.cmdline_given)
      if (auto t = read_file("/proc/cmdline")) req.proc_cmdline = *t;
  }
  auto api = read_api_changes(o.api_file);
  if (!api) return error(api.error().msg);
  req.api_changes = &*api;
  auto plan = plan_installed_check(req);
  if (!plan) return error(plan.error().msg);

  // Which device needs a missing module, from ROOT/sys (the running system's on /) and the
  // other installed kernels' trees, the running kernel's first.
  std::set<std::string> missing_names;
  for (const auto &k : plan->kernels)
    for (const auto &m : k.missing) missing_names.insert(m.name);
  if (!missing_names.empty()) {
    std::vector<std::string> trees;
    const fs::path modules = fs::absolute(fs::path(o.root) / "lib/modules");
    const std::string running = live ? running_release() : "";
    std::error_code ec;
    if (!running.empty() && fs::is_directory(modules / running, ec)) trees.push_back((modules / running).string());
    std::vector<std::string> others;
    for (const auto &e : fs::directory_iterator(modules, ec))
      if (e.is_directory(ec) && e.path().filename() != running) others.push_back(e.path().string());
    std::sort(others.begin(), others.end());
    trees.insert(trees.end(), others.begin(), others.end());
    Diag diag;
    ModprobeConfigSources src;
    src.root = live ? "" : o.root;
    src.kcmdline_path = "";
    ModprobeConfig cfg = load_modprobe_config(src, diag);
    for (auto &k : plan->kernels) {
      std::vector<std::string> old;
      for (const auto &t : trees)
        if (fs::path(t).filename() != k.release) old.push_back(t);
      auto needing = devices_needing((fs::path(o.root) / "sys").string(), old, cfg, missing_names);
      for (auto &m : k.missing)
        if (auto it = needing.find(m.name); it != needing.end()) m.device = it->second;
    }
  }
  const std::string &cmdline = plan->cmdline;
  TargetState state;
  apply_cmdline(cmdline, state);
  if (Status st = apply_key_options(state, o.mok_files, o.secure_boot, live, o.root); !st) return error(st.error().msg);
  // DKMS's signing key: a module it signed that is not trusted gets the hint to enrol it.
  if (auto c = load_cert_file((fs::path(o.root) / "var/lib/dkms/mok.pub").string()))
    for (auto &cert : *c) {
      cert.source = "/var/lib/dkms/mok.pub";  // the path on the machine, for the hint
      state.enrol_candidates.push_back(std::move(cert));
    }
  const std::string cache = kmx_cache_dir(live ? "" : o.root);

  std::vector<KernelProfile> profiles;
  std::vector<std::string> specs;
  for (const auto &k : plan->kernels) {
    auto p = load_profile(k.spec, k.release, cache);
    if (!p) return error(p.error().msg);
    if (p->release.empty()) p->release = k.release;
    profiles.push_back(std::move(*p));
    specs.push_back(k.spec);
  }

  // Verdicts per kernel; rows by module name for the matrix.
  std::vector<std::vector<LoadVerdict>> per(plan->kernels.size());
  int rc = 0;
  for (size_t i = 0; i < plan->kernels.size(); i++) {
    const auto &k = plan->kernels[i];
    for (const auto &f : k.modules) {
      auto m = read_module_for_check(f);
      if (!m) return error(m.error().msg);
      LoadVerdict v = m->problem.empty() ? check_module(m->info, profiles[i], state, {}, m->image())
                                         : check_unparsed_module(f, m->image(), m->problem, profiles[i], state, {});
      per[i].push_back(std::move(v));
    }
    for (const auto &miss : k.missing) per[i].push_back(missing_verdict(miss, profiles[i]));
    for (const auto &v : per[i]) rc = std::max(rc, v.exit_code());
  }

  // One kernel's verdicts as JSON and as text (summary, then "Details:").
  auto json_of = [&](size_t from, size_t to) {
    std::string out = "[";
    bool first = true;
    for (size_t i = from; i < to; i++)
      for (const auto &v : per[i]) {
        out += first ? "\n" : ",\n";
        first = false;
        append_json(out, v, profiles[i]);
      }
    return out + (first ? "]\n" : "\n]\n");
  };
  auto text_of = [&](size_t from, size_t to) {
    std::string out;
    for (size_t i = from; i < to; i++) {
      size_t problems = 0;
      for (const auto &v : per[i]) problems += v.exit_code() >= 2;
      out += fmt::format("kernel {}: {} out-of-tree module{} checked, {} missing after reboot, {} problem{}\n",
                         profiles[i].release, plan->kernels[i].modules.size(),
                         plan->kernels[i].modules.size() == 1 ? "" : "s", plan->kernels[i].missing.size(), problems,
                         problems == 1 ? "" : "s");
      for (const auto &v : per[i]) {
        if (v.exit_code() < 2) continue;
        std::string what = v.check_id == "M1" ? "missing after reboot (" + v.checks[0].detail + ")"
                           : !v.loads        ? "refused " + v.errno_name + " (" + v.check_id + "): " + v.path
                                             : "not decided: " + join(v.undecided(), ", ") + ": " + v.path;
        out += fmt::format("  {}: {}\n", v.module, what);
        if (!v.hints.empty()) out += fmt::format("    fix: {}\n", v.hints.front());
      }
    }
    if (!plan->blacklisted.empty())
      out += "not reported (blacklisted or forbidden): " +
             join(std::vector<std::string>(plan->blacklisted.begin(), plan->blacklisted.end()), ", ") + "\n";
    out += "\nDetails:\n";
    for (size_t i = from; i < to; i++)
      for (const auto &v : per[i]) append_text(out, v, profiles[i], false, o.verbose);
    return out;
  };
  if (!o.report_dir.empty()) {
    std::error_code ec;
    fs::create_directories(o.report_dir, ec);
    for (size_t i = 0; i < per.size(); i++) {
      std::string base = o.report_dir + "/check-" + profiles[i].release;
      if (auto w = write_file_atomic(base + ".txt", text_of(i, i + 1)); !w) return error(w.error().msg);
      if (auto w = write_file_atomic(base + ".json", json_of(i, i + 1)); !w) return error(w.error().msg);
    }
  }
  if (o.hook) {
    std::string t = text_of(0, per.size());
    std::fputs(t.substr(0, t.find("\nDetails:\n")).c_str(), stdout);
    if (!o.report_dir.empty()) std::printf("kmx: full report in %s/check-REL.txt and .json\n", o.report_dir.c_str());
  } else {
    std::fputs((o.json ? json_of(0, per.size()) : text_of(0, per.size())).c_str(), stdout);
  }

  if (!o.html.empty()) {
    std::map<std::string, std::vector<LoadVerdict>> rows;
    for (size_t i = 0; i < per.size(); i++)
      for (const auto &v : per[i]) {
        auto &row = rows[v.module];
        row.resize(per.size());
        row[i] = v;
      }
    std::vector<std::vector<LoadVerdict>> matrix;
    for (auto &[name, row] : rows) matrix.push_back(std::move(row));
    ReportInputs in;
    in.kernel_specs = specs;
    in.modules = {"--installed under " + o.root};
    in.state = cmdline.empty() ? "" : "command line \"" + cmdline + "\"";
    if (o.secure_boot) in.state += in.state.empty() ? "Secure Boot" : "; Secure Boot";
    if (auto w = write_file_atomic(o.html, html_report(matrix, profiles, in)); !w) return error(w.error().msg);
  }
  if (o.hook) {
    // The hook never fails a kernel installation unless kmx.conf asks for it.
    auto cfg = load_kmx_config_from_env();
    if (!cfg) return error(cfg.error().msg);
    return cfg->kernel_check_strict && rc == 2 ? 2 : 0;
  }
  return rc;
}

}  // namespace kmx
