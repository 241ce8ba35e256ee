// kmx check [OPTIONS] MODULE|DIR...: will these modules load into that kernel? Replays the
// loader's checks offline (compat/load-check.h) against a kernel learnt from its files
// (compat/kernel-profile.h) and prints, per module, the verdict, errno, the refusing check,
// the kernel log lines the load would print, taints and hints.
//
// Exit (the worst over all modules and kernels): 0 every module loads cleanly, 1 one loads with
// taint, 2 one is refused, 3 one is not decided (a check is "unknown" and nothing known refuses
// it), 4 error or usage error.
#include <getopt.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fmt/core.h>
#include <string>
#include <vector>

#include "base/atomic-file.h"
#include "base/mapped-file.h"
#include "base/parallel.h"
#include "compat/abi-diff.h"
#include "compat/check-target.h"
#include "compat/kernel-profile.h"
#include "compat/load-check.h"
#include "elf/module-elf.h"
#include "tools/check-render.h"
#include "tools/common.h"
#include "tools/tools.h"

namespace kmx {

namespace {

namespace fs = std::filesystem;
const char *const prog = "kmx check";

// Every error of kmx check: one line "kmx check: ERROR: MSG" on stderr, exit code 4.
int error(const std::string &msg) {
  std::fprintf(stderr, "%s: ERROR: %s\n", prog, msg.c_str());
  return 4;
}

void usage(FILE *out) {
  std::fprintf(out,
               "Usage: kmx check [options] MODULE|DIR...\n"
               "Predicts whether each module loads into the target kernel, and why not.\n"
               "Target (default: the running kernel):\n"
               "  -b, --basedir DIR     root holding lib/modules/REL and boot/ (with -k)\n"
               "  -k, --kernel REL      release under lib/modules\n"
               "  -t, --target SPEC     directory or file(s), comma-separated: a root, a module\n"
               "                        tree, Module.symvers, System.map, config-*, a kernel\n"
               "                        image (vmlinuz) or certificate files (*.pem, *.der, *.crt)\n"
               "      --symvers FILE    add a Module.symvers; --system-map FILE; --config FILE\n"
               "      --kernels SPEC... check against several targets (matrix); the list ends at\n"
               "                        the next option or --\n"
               "Target state:\n"
               "      --cmdline TEXT    e.g. \"module.sig_enforce=1 lockdown=integrity module_blacklist=a,b\"\n"
               "      --loaded FILE     /proc/modules file or module files already loaded (repeatable;\n"
               "                        a module file's exports and licence count too)\n"
               "      --tainted LETTERS the kernel is already tainted (e.g. OE): once-only lines\n"
               "      --insmod          dependencies are not loaded first (default: modprobe semantics)\n"
               "      --secure-boot     booted with UEFI Secure Boot (Debian: lockdown=integrity)\n"
               "      --mok FILE        an enrolled Machine Owner Key (repeatable; default for the\n"
               "                        running kernel: read from the firmware or mokutil)\n"
               "      --all             keep checking after the refusal (every finding; the verdict\n"
               "                        stays the first refusal)\n"
               "      --upstream        upstream kernel semantics (missing CRC only warns)\n"
               "  -f, --force           a forced load (insmod -f, modprobe --force): vermagic and\n"
               "                        modversions ignored, the signature not looked at, taints F\n"
               "      --force-vermagic  only vermagic ignored; --force-modversions: only __versions\n"
               "Output:\n"
               "      --json            JSON, one object per module\n"
               "      --html FILE       self-contained HTML report (matrix)\n"
               "      --built-with CONFIG the .config of the headers the modules were built with:\n"
               "                        mismatch hints name the options that differ\n"
               "      --history SPEC    other kernels: say between which versions a missing symbol\n"
               "                        was removed or added (repeatable)\n"
               "      --api-changes F   known API changes (default: data/api-changes.tsv)\n"
               "      --installed       every kernel installed under -b ROOT (default /) x every\n"
               "                        out-of-tree module the machine uses (-k: that kernel only);\n"
               "                        modules with no build for a kernel are missing after reboot\n"
               "      --report-dir DIR  with --installed: also write DIR/check-REL.txt and .json\n"
               "      --hook            with --installed: print the summary only; exit 0 unless\n"
               "                        kmx.conf has kernel-check strict and a module is refused\n"
               "Options may follow the modules.\n"
               "Exit: 0 loads cleanly, 1 loads with taint, 2 refused, 3 not decided (a check is\n"
               "unknown), 4 error or usage error; the worst over all modules and kernels.\n");
}

}  // namespace

std::string default_api_changes() {
  if (const char *e = std::getenv("KMX_API_CHANGES")) return e;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  for (const char *rel : {"../data/api-changes.tsv", "../share/kmx/api-changes.tsv"}) {
    fs::path p = exe.parent_path() / rel;
    if (!ec && fs::exists(p, ec)) return p.string();
  }
  return "";
}

Result<std::vector<ApiChange>> read_api_changes(const std::string &file) {
  std::string f = file.empty() ? default_api_changes() : file;
  if (f.empty()) return std::vector<ApiChange>{};
  TRY_ASSIGN(std::string text, read_file(f));
  return parse_api_changes(text, f);
}

int check_main(int argc, char **argv) {
  std::string basedir, release, cmdline, html, api_file;
  std::vector<std::string> targets, extra, loaded_files, history_specs, kernels, mok_files;
  bool json = false, insmod = false, upstream = false, cmdline_given = false;
  enum { OPT_SYMVERS = 256, OPT_MAP, OPT_CONFIG, OPT_CMDLINE, OPT_LOADED, OPT_INSMOD, OPT_JSON,
         OPT_HTML, OPT_HISTORY, OPT_API, OPT_UPSTREAM, OPT_KERNELS, OPT_TAINTED, OPT_ALL, OPT_BUILT_WITH, OPT_SECURE_BOOT,
         OPT_FORCE_VERMAGIC, OPT_FORCE_MODVERSIONS, OPT_VERBOSE, OPT_INSTALLED, OPT_MOK, OPT_REPORT_DIR, OPT_HOOK };
  std::string built_with, report_dir;
  bool hook = false;
  bool all = false, secure_boot = false, force_vermagic = false, force_modversions = false, quiet = false,
       verbose = false, installed = false;
  std::string tainted;
  static const option longopts[] = {
      {"basedir", required_argument, nullptr, 'b'},   {"kernel", required_argument, nullptr, 'k'},
      {"target", required_argument, nullptr, 't'},    {"symvers", required_argument, nullptr, OPT_SYMVERS},
      {"system-map", required_argument, nullptr, OPT_MAP}, {"config", required_argument, nullptr, OPT_CONFIG},
      {"cmdline", required_argument, nullptr, OPT_CMDLINE}, {"loaded", required_argument, nullptr, OPT_LOADED},
      {"insmod", no_argument, nullptr, OPT_INSMOD},   {"json", no_argument, nullptr, OPT_JSON},
      {"html", required_argument, nullptr, OPT_HTML}, {"history", required_argument, nullptr, OPT_HISTORY},
      {"api-changes", required_argument, nullptr, OPT_API}, {"upstream", no_argument, nullptr, OPT_UPSTREAM},
      {"kernels", no_argument, nullptr, OPT_KERNELS}, {"tainted", required_argument, nullptr, OPT_TAINTED},
      {"all", no_argument, nullptr, OPT_ALL}, {"built-with", required_argument, nullptr, OPT_BUILT_WITH}, {"secure-boot", no_argument, nullptr, OPT_SECURE_BOOT}, {"help", no_argument, nullptr, 'h'},
      {"version", no_argument, nullptr, 'V'}, {"force", no_argument, nullptr, 'f'}, {"force-vermagic", no_argument, nullptr, OPT_FORCE_VERMAGIC},
      {"force-modversions", no_argument, nullptr, OPT_FORCE_MODVERSIONS},
      {"quiet", no_argument, nullptr, 'q'}, {"verbose", no_argument, nullptr, OPT_VERBOSE},
      {"installed", no_argument, nullptr, OPT_INSTALLED}, {"mok", required_argument, nullptr, OPT_MOK},
      {"report-dir", required_argument, nullptr, OPT_REPORT_DIR}, {"hook", no_argument, nullptr, OPT_HOOK},
      {nullptr, 0, nullptr, 0}};
  // --kernels takes the words after it up to the next option or "--" (dropped); options may
  // follow the modules, so the list is taken out before getopt sees (and permutes) the rest.
  bool want_kernels = false;
  std::vector<char *> av(argv, argv + argc);
  for (size_t i = 1; i < av.size();) {
    std::string_view a = av[i];
    if (a == "--") break;
    if (a != "--kernels") {
      i++;
      continue;
    }
    want_kernels = true;
    size_t j = i + 1;
    while (j < av.size() && av[j][0] != '-') kernels.emplace_back(av[j++]);
    if (j < av.size() && std::string_view(av[j]) == "--") j++;
    av.erase(av.begin() + static_cast<long>(i), av.begin() + static_cast<long>(j));
  }
  argc = static_cast<int>(av.size());
  av.push_back(nullptr);
  argv = av.data();
  for (;;) {
    int c = getopt_long(argc, argv, "b:k:t:fhqV", longopts, nullptr);
    if (c == -1) break;
    switch (c) {
    case 'b': basedir = optarg; break;
    case 'k': release = optarg; break;
    case 't': targets.push_back(optarg); break;
    case OPT_SYMVERS: case OPT_MAP: case OPT_CONFIG: extra.push_back(optarg); break;
    case OPT_CMDLINE: cmdline = optarg; cmdline_given = true; break;
    case OPT_LOADED: loaded_files.push_back(optarg); break;
    case OPT_INSMOD: insmod = true; break;
    case OPT_JSON: json = true; break;
    case OPT_HTML: html = optarg; break;
    case OPT_HISTORY: history_specs.push_back(optarg); break;
    case OPT_API: api_file = optarg; break;
    case OPT_UPSTREAM: upstream = true; break;
    case OPT_KERNELS: want_kernels = true; break;  // with no list: an error below
    case 'q': quiet = true; break;
    case OPT_VERBOSE: verbose = true; break;
    case OPT_TAINTED: tainted = optarg; break;
    case OPT_ALL: all = true; break;
    case OPT_BUILT_WITH: built_with = optarg; break;
    case OPT_SECURE_BOOT: secure_boot = true; break;
    case 'f': force_vermagic = force_modversions = true; break;
    case OPT_FORCE_VERMAGIC: force_vermagic = true; break;
    case OPT_INSTALLED: installed = true; break;
    case OPT_MOK: mok_files.push_back(optarg); break;
    case OPT_REPORT_DIR: report_dir = optarg; break;
    case OPT_HOOK: hook = true; break;
    case OPT_FORCE_MODVERSIONS: force_modversions = true; break;
    case 'h': usage(stdout); return 0;
    case 'V': return print_kmx_version();
    default: usage(stderr); return 4;
    }
  }
  std::vector<std::string> args(argv + optind, argv + argc);
  if (want_kernels && kernels.empty()) {
    return error("--kernels needs at least one target");
  }
  if (installed) {
    if (!args.empty() || !kernels.empty() || !targets.empty())
      return error("--installed finds the kernels and modules itself: no module or target operand");
    InstalledOptions io;
    io.root = basedir.empty() ? "/" : basedir;
    io.release = release;
    io.json = json;
    io.html = html;
    io.verbose = verbose;
    io.secure_boot = secure_boot;
    io.cmdline = cmdline;
    io.cmdline_given = cmdline_given;
    io.mok_files = mok_files;
    io.api_file = api_file;
    io.report_dir = report_dir;
    io.hook = hook;
    return check_installed(io);
  }
  if (args.empty()) {
    std::fprintf(stderr, "%s: ERROR: no module given\n", prog);
    usage(stderr);
    return 4;
  }

  // Target profiles.
  TargetRequest req;
  req.kernels = kernels;
  req.targets = targets;
  req.extra = extra;
  req.basedir = basedir;
  req.release = release;
  req.running_release = running_release();
  req.cache_dir = kmx_cache_dir();
  auto loaded_targets = load_check_targets(req);
  if (!loaded_targets) return error(loaded_targets.error().msg);
  kernels = loaded_targets->specs;
  const bool running = loaded_targets->running;
  std::vector<KernelProfile> profiles = std::move(loaded_targets->profiles);
  std::vector<KernelProfile> history;
  for (const auto &spec : history_specs) {
    auto p = load_history_profile(spec, req.cache_dir);
    if (!p) return error(p.error().msg);
    history.push_back(std::move(*p));
  }
  std::vector<const KernelProfile *> history_ptrs;
  for (const auto &h : history) history_ptrs.push_back(&h);

  // Target state.
  TargetState state;
  if (running && !cmdline_given) {
    if (auto c = read_file("/proc/cmdline")) cmdline = *c;
    if (fs::exists("/proc/modules")) loaded_files.push_back("/proc/modules");
  }
  apply_cmdline(cmdline, state);
  state.kernel_taint = tainted;
  // A kernel of this machine (the running one, or -k REL under /) boots with this firmware's
  // Secure Boot state and MOKs.
  const bool this_machine = running || ((req.basedir.empty() || req.basedir == "/") && req.targets.empty() &&
                                        req.kernels.empty() && req.extra.empty());
  if (Status st = apply_key_options(state, mok_files, secure_boot, this_machine, ""); !st) return error(st.error().msg);
  for (const auto &f : loaded_files) {
    if (has_module_extension(f)) {
      auto m = read_module(f);
      if (!m) return error(m.error().msg);
      add_loaded_module(*m, f, state, profiles);
      continue;
    }
    auto text = read_file(f);
    if (!text) {
      return error(text.error().msg);
    }
    if (Status st = add_loaded_list(*text, f, state); !st) return error(st.error().msg);
  }

  auto api_read = read_api_changes(api_file);
  if (!api_read) return error(api_read.error().msg);
  std::vector<ApiChange> api = std::move(*api_read);

  // Modules: files, or every module under a directory.
  std::vector<std::string> files;
  for (const auto &a : args) {
    std::error_code ec;
    if (fs::is_directory(a, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(a, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file(ec) && has_module_extension(it->path().filename().string())) found.push_back(it->path().string());
      if (found.empty()) {
        return error(a + ": no modules (*.ko, *.ko.gz, *.ko.xz, *.ko.zst) in this directory");
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(a);
    }
  }

  CheckOptions opts;
  opts.modprobe = !insmod;
  opts.force_vermagic = force_vermagic;
  opts.force_modversions = force_modversions;
  opts.upstream_missing_crc = upstream;
  opts.all = all;
  KernelProfile built;
  if (!built_with.empty()) {
    auto text = read_file(built_with);
    if (!text) {
      return error(text.error().msg);
    }
    if (auto st = parse_kernel_config(*text, built_with, built); !st) {
      return error(st.error().msg);
    }
    opts.module_config = &built.config;
  }
  opts.api_changes = &api;
  opts.history = &history_ptrs;
  // A CRC mismatch names the type changes behind it when a --history kernel has the module's
  // CRC and both kernels' BTF is known (their images).
  CrcExplainer explainer(history_ptrs, req.cache_dir);
  if (!history_ptrs.empty())
    opts.explain_crc = [&](const KernelProfile &k, const std::string &sym, u64 crc) { return explainer.explain(k, sym, crc); };

  // Modules are read, checked and rendered in batches, each module in its own slot on a
  // worker, then written in order: a tree of 4000 modules never has more than one batch of
  // parsed modules and findings in memory, and output starts before the last module is read.
  // Only the matrix and the HTML report keep (trimmed) verdicts of every module.
  struct Slot {
    std::string out;    // rendered text or JSON of this module, all kernels
    std::string error;  // the module could not be read
    int rc = 0;
    std::vector<int> codes;         // exit_code() per kernel, for the summary
    std::vector<LoadVerdict> kept;  // for the matrix / HTML, without the check list
  };
  const bool keep = profiles.size() > 1 || !html.empty();
  const bool colour = !json && isatty(STDOUT_FILENO);
  std::vector<std::vector<LoadVerdict>> verdicts;  // [module][kernel], when `keep`
  int rc = 0;
  size_t emitted = 0;
  // Progress on a terminal for runs of more than one batch; counts per exit code for the summary.
  const bool progress = !quiet && files.size() > 64 && isatty(STDERR_FILENO);
  std::array<size_t, 5> counts{};
  if (json) std::fputs("[", stdout);
  constexpr size_t batch = 64;
  std::vector<Slot> slots;
  for (size_t first = 0; first < files.size(); first += batch) {
    size_t n = std::min(batch, files.size() - first);
    // Slots are reused from batch to batch: their buffers keep their capacity.
    slots.resize(n);
    for (Slot &slot : slots) {
      slot.out.clear();
      slot.error.clear();
      slot.rc = 0;
      slot.codes.clear();
      slot.kept.clear();
    }
    parallel_for_each(n, [&](size_t j) {
      Slot &slot = slots[j];
      // One read of the file: its image is parsed and kept for the signature check.
      auto m = read_module_for_check(files[first + j]);
      if (!m) {
        slot.error = m.error().msg;
        return;
      }
      for (const auto &p : profiles) {
        LoadVerdict v = m->problem.empty()
                            ? check_module(m->info, p, state, opts, m->image())
                            : check_unparsed_module(files[first + j], m->image(), m->problem, p, state, opts);
        slot.rc = std::max(slot.rc, v.exit_code());
        if (json) {
          slot.out += ",\n";
          append_json(slot.out, v, p);
        } else {
          append_text(slot.out, v, p, colour, verbose);
        }
        slot.codes.push_back(v.exit_code());
        if (keep) {
          // Only what the matrix and the report show: the steps that did not pass.
          std::erase_if(v.checks, [](const CheckStep &c) { return c.result == StepResult::pass; });
          slot.kept.push_back(std::move(v));
        }
      }
    });
    if (progress) {
      std::fprintf(stderr, "\r%s: %zu/%zu modules checked", prog, first + n, files.size());
      if (first + n == files.size()) std::fputs("\r\033[K", stderr);
    }
    for (Slot &slot : slots) {
      if (!slot.error.empty()) {
        std::fflush(stdout);
        std::fprintf(stderr, "%s: ERROR: %s\n", prog, slot.error.c_str());
        rc = 4;
        counts[4]++;
        continue;
      }
      for (int code : slot.codes) counts[code]++;
      rc = std::max(rc, slot.rc);
      // Each JSON element starts with ",\n"; the array's first one without the comma.
      size_t skip = json && emitted == 0 ? 1 : 0;
      std::fwrite(slot.out.data() + skip, 1, slot.out.size() - skip, stdout);
      emitted++;
      if (keep) verdicts.push_back(std::move(slot.kept));
    }
  }
  if (json) std::fputs(emitted ? "\n]\n" : "]\n", stdout);
  else if (profiles.size() > 1) {
    std::printf("\n%-32s", "module");
    for (const auto &p : profiles) std::printf(" %-24s", p.release.c_str());
    std::printf("\n");
    for (const auto &row : verdicts) {
      std::printf("%-32s", row.empty() ? "" : row[0].module.c_str());
      for (const auto &v : row) {
        std::string cell = !v.loads ? "refused " + v.errno_name + " " + v.check_id
                           : !v.complete ? "not decided"
                           : v.taint.empty() ? "loads" : "loads (" + v.taint + ")";
        std::printf(" %-24s", cell.c_str());
      }
      std::printf("\n");
    }
  }
  size_t total = counts[0] + counts[1] + counts[2] + counts[3] + counts[4];
  if (!json && total > 1) {
    std::string line = fmt::format("\n{} module{} x {} kernel{}: {} load{} cleanly, {} with taint, {} refused, {} not decided",
                                   files.size(), files.size() == 1 ? "" : "s", profiles.size(),
                                   profiles.size() == 1 ? "" : "s", counts[0], counts[0] == 1 ? "s" : "", counts[1],
                                   counts[2], counts[3]);
    if (counts[4]) line += fmt::format(", {} not readable", counts[4]);
    std::printf("%s\n", line.c_str());
  }
  if (!html.empty()) {
    ReportInputs in;
    in.kernel_specs = kernels;
    in.modules = args;
    std::vector<std::string> st;
    if (!cmdline.empty()) st.push_back("command line \"" + cmdline + "\"");
    for (const auto &f : loaded_files) st.push_back("loaded: " + f);
    if (!tainted.empty()) st.push_back("already tainted " + tainted);
    if (secure_boot) st.push_back("Secure Boot");
    if (insmod) st.push_back("--insmod");
    if (force_vermagic || force_modversions)
      st.push_back(force_vermagic && force_modversions ? "--force" : force_vermagic ? "--force-vermagic" : "--force-modversions");
    if (upstream) st.push_back("--upstream");
    if (all) st.push_back("--all");
    in.state = join(st, "; ");
    std::string h = html_report(verdicts, profiles, in);
    if (auto w = write_file_atomic(html, h); !w) {
      return error(w.error().msg);
    }
  }
  return rc;
}

}  // namespace kmx
