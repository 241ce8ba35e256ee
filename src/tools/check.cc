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
#include <cctype>
#include <array>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/atomic-file.h"
#include "base/mapped-file.h"
#include "base/parallel.h"
#include "compat/kernel-profile.h"
#include "compat/load-check.h"
#include "elf/module-elf.h"
#include "kernel/proc-modules.h"
#include "tools/common.h"
#include "tools/tools.h"

namespace kmx {

namespace {

namespace fs = std::filesystem;
const char *const prog = "kmx check";

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
               "Options may follow the modules.\n"
               "Exit: 0 loads cleanly, 1 loads with taint, 2 refused, 3 not decided (a check is\n"
               "unknown), 4 error or usage error; the worst over all modules and kernels.\n");
}

bool is_module_path(const std::string &p) {
  for (std::string_view e : {".ko", ".ko.gz", ".ko.xz", ".ko.zst"})
    if (p.size() >= e.size() && p.compare(p.size() - e.size(), e.size(), e) == 0) return true;
  return false;
}

std::string join(const std::vector<std::string> &v, const char *sep) {
  std::string out;
  for (const auto &s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string html_escape(const std::string &s) {
  std::string o;
  for (char c : s) {
    switch (c) {
    case '<': o += "&lt;"; break;
    case '>': o += "&gt;"; break;
    case '&': o += "&amp;"; break;
    case '"': o += "&quot;"; break;
    default: o += c;
    }
  }
  return o;
}

// Appends `s` as a JSON string, byte for byte what nlohmann::json::dump() writes; invalid UTF-8
// (a hostile .modinfo) becomes U+FFFD instead of an exception in a worker thread.
void json_string(std::string &out, std::string_view s) {
  const size_t at = out.size();
  out += '"';
  size_t run = 0;  // start of the bytes not yet appended
  // Bytes that end a run of plain ASCII: control characters, '"', '\\' and non-ASCII.
  static constexpr auto special = [] {
    std::array<bool, 256> t{};
    for (size_t c = 0; c < 256; c++) t[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
    return t;
  }();
  for (size_t i = 0; i < s.size(); i++) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (!special[c]) continue;
    if (c >= 0x80) {
      out.resize(at);
      out += nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return;
    }
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\b': out += "\\b"; break;
    case '\f': out += "\\f"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default: {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void json_strings(std::string &out, const std::vector<std::string> &v, std::string_view ind) {
  if (v.empty()) {
    out += "[]";
    return;
  }
  out += "[\n";
  for (size_t i = 0; i < v.size(); i++) {
    out += ind;
    out += "  ";
    json_string(out, v[i]);
    out += i + 1 < v.size() ? ",\n" : "\n";
  }
  out += ind;
  out += "]";
}

// Appends one verdict as the element of a top-level array, in nlohmann's dump(2) layout (keys
// sorted), so that verdicts can be written as they are made instead of as one document.
void append_json(std::string &out, const LoadVerdict &v, const KernelProfile &k) {
  auto key = [&](const char *name) {
    out += ",\n    \"";
    out += name;
    out += "\": ";
  };
  out += "  {\n    \"check_id\": ";
  if (v.loads) out += "null";
  else json_string(out, v.check_id);
  key("checks");
  if (v.checks.empty()) {
    out += "[]";
  } else {
    out += "[\n";
    for (size_t i = 0; i < v.checks.size(); i++) {
      const CheckStep &c = v.checks[i];
      out += "      {\n        \"check\": ";
      json_string(out, c.name);
      out += ",\n        \"detail\": ";
      json_string(out, c.detail);
      out += ",\n        \"id\": ";
      json_string(out, c.id);
      out += ",\n        \"result\": ";
      json_string(out, c.result);
      out += i + 1 < v.checks.size() ? "\n      },\n" : "\n      }\n";
    }
    out += "    ]";
  }
  key("complete");
  out += v.complete ? "true" : "false";
  key("err");
  out += std::to_string(v.err);
  key("errno");
  if (v.loads) out += "null";
  else json_string(out, v.errno_name);
  key("hints");
  json_strings(out, v.hints, "    ");
  key("kernel");
  json_string(out, k.release);
  key("loads");
  out += v.loads ? "true" : "false";
  key("messages");
  json_strings(out, v.messages, "    ");
  key("module");
  json_string(out, v.module);
  key("path");
  json_string(out, v.path);
  key("taint");
  json_string(out, v.taint);
  key("undecided");
  json_strings(out, v.undecided(), "    ");
  out += "\n  }";
}

[[gnu::format(printf, 2, 3)]] void appendf(std::string &out, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (static_cast<size_t>(n) < sizeof buf) {
    out.append(buf, static_cast<size_t>(n));
    return;
  }
  size_t at = out.size();
  out.resize(at + static_cast<size_t>(n) + 1);
  va_start(ap, fmt);
  std::vsnprintf(out.data() + at, static_cast<size_t>(n) + 1, fmt, ap);
  va_end(ap);
  out.resize(at + static_cast<size_t>(n));
}

// The symbol a step is about ("symbol foo" -> "foo"), or "".
std::string_view step_symbol(const CheckStep &c) {
  std::string_view n = c.name;
  return n.starts_with("symbol ") ? n.substr(7) : std::string_view();
}

// One verdict as text. Unless `verbose`, findings that repeat per symbol (a module built for
// another kernel fails the same check for a hundred symbols) are grouped: the first few, then
// one line with the count and more names.
void append_text(std::string &out, const LoadVerdict &v, const KernelProfile &k, bool colour, bool verbose) {
  const char *red = colour ? "\033[31m" : "", *yellow = colour ? "\033[33m" : "",
             *green = colour ? "\033[32m" : "", *off = colour ? "\033[0m" : "";
  const std::string rel = k.release.empty() ? "a kernel of unknown release" : k.release;
  auto undecided = v.undecided();
  std::string nd = undecided.empty() ? ""
                                     : fmt::format(" ({} check{} not decided: {})", undecided.size(),
                                                   undecided.size() == 1 ? "" : "s", join(undecided, ", "));
  if (!v.loads)
    appendf(out, "%s: %sREFUSED%s by %s (%s, %s)\n", v.path.c_str(), red, off, rel.c_str(),
            v.errno_name.c_str(), v.check_id.c_str());
  else if (!v.taint.empty())
    appendf(out, "%s: %sloads, taints %s%s%s in %s\n", v.path.c_str(), yellow, v.taint.c_str(),
            nd.c_str(), off, rel.c_str());
  else
    appendf(out, "%s: %sloads%s%s in %s\n", v.path.c_str(), nd.empty() ? green : yellow, nd.c_str(), off,
            rel.c_str());
  constexpr size_t shown = 3;  // of a group, before the summary line
  // Steps: per (id, result), symbol steps beyond `shown` collapse into one line.
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> group_syms;
  for (const auto &c : v.checks)
    if (c.result != "pass" && !step_symbol(c).empty()) group_syms[{c.id, c.result}].emplace_back(step_symbol(c));
  std::set<std::string> grouped_syms;  // symbols of collapsed groups: their lines collapse too
  if (!verbose)
    for (const auto &[key, syms] : group_syms)
      if (syms.size() > shown + 1) grouped_syms.insert(syms.begin(), syms.end());
  std::map<std::pair<std::string, std::string>, size_t> seen;
  for (const auto &c : v.checks) {
    if (c.result == "pass") continue;
    auto sym = step_symbol(c);
    if (!verbose && !sym.empty()) {
      const auto &all = group_syms[{c.id, c.result}];
      size_t i = seen[{c.id, c.result}]++;
      if (all.size() > shown + 1 && i >= shown) {
        if (i == shown) {
          std::vector<std::string> more(all.begin() + shown, all.begin() + std::min(all.size(), shown + 5));
          appendf(out, "  %-4s %-22s %-7s and %zu more symbols: %s%s (--verbose lists each)\n", c.id.c_str(),
                  "symbols", c.result.c_str(), all.size() - shown, join(more, ", ").c_str(),
                  all.size() > shown + 5 ? ", ..." : "");
        }
        continue;
      }
    }
    appendf(out, "  %-4s %-22s %-7s %s\n", c.id.c_str(), c.name.c_str(), c.result.c_str(), c.detail.c_str());
  }
  // Kernel lines and hints about a collapsed symbol: the first `shown` of each form, then a count.
  auto collapsed = [&](const std::vector<std::string> &lines, const char *prefix) {
    std::map<std::string, size_t> count, printed;
    // The line with its first word that is a collapsed symbol replaced by \x01; "" if none.
    auto form = [&](const std::string &l) -> std::string {
      auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; };
      for (size_t i = 0; i < l.size();) {
        if (!word(l[i])) {
          i++;
          continue;
        }
        size_t j = i;
        while (j < l.size() && word(l[j])) j++;
        if (grouped_syms.contains(l.substr(i, j - i))) return l.substr(0, i) + '\x01' + l.substr(j);
        i = j;
      }
      return "";
    };
    for (const auto &l : lines)
      if (auto f = form(l); !f.empty()) count[f]++;
    for (const auto &l : lines) {
      auto f = form(l);
      if (f.empty() || verbose || count[f] <= shown + 1) {
        appendf(out, "  %s%s\n", prefix, l.c_str());
        continue;
      }
      size_t i = printed[f]++;
      if (i < shown) appendf(out, "  %s%s\n", prefix, l.c_str());
      else if (i == shown) {
        std::string like = f;
        like.replace(like.find('\x01'), 1, "...");
        appendf(out, "  %s... and %zu more like \"%s\"\n", prefix, count[f] - shown, like.c_str());
      }
    }
  };
  collapsed(v.messages, "kernel: ");
  if (!v.loads && !v.taint.empty()) appendf(out, "  the kernel is tainted %s before it refuses\n", v.taint.c_str());
  collapsed(v.hints, "hint: ");
}

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

}  // namespace

int check_main(int argc, char **argv) {
  std::string basedir, release, cmdline, html, api_file;
  std::vector<std::string> targets, extra, loaded_files, history_specs, kernels;
  bool json = false, insmod = false, upstream = false, cmdline_given = false;
  enum { OPT_SYMVERS = 256, OPT_MAP, OPT_CONFIG, OPT_CMDLINE, OPT_LOADED, OPT_INSMOD, OPT_JSON,
         OPT_HTML, OPT_HISTORY, OPT_API, OPT_UPSTREAM, OPT_KERNELS, OPT_TAINTED, OPT_ALL, OPT_BUILT_WITH, OPT_SECURE_BOOT,
         OPT_FORCE_VERMAGIC, OPT_FORCE_MODVERSIONS, OPT_VERBOSE };
  std::string built_with;
  bool all = false, secure_boot = false, force_vermagic = false, force_modversions = false, quiet = false,
       verbose = false;
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
    case OPT_FORCE_MODVERSIONS: force_modversions = true; break;
    case 'h': usage(stdout); return 0;
    case 'V': return print_kmx_version();
    default: usage(stderr); return 4;
    }
  }
  std::vector<std::string> args(argv + optind, argv + argc);
  if (want_kernels && kernels.empty()) {
    std::fprintf(stderr, "%s: ERROR: --kernels needs at least one target\n", prog);
    return 4;
  }
  if (args.empty()) {
    std::fprintf(stderr, "%s: ERROR: no module given\n", prog);
    usage(stderr);
    return 4;
  }

  // Target profiles.
  bool running = false;
  if (kernels.empty()) {
    std::string spec;
    if (!targets.empty()) spec = join(targets, ",");
    else if (!basedir.empty() && release.empty()) {
      spec = basedir;  // the only release under BASEDIR/lib/modules
    } else if (!basedir.empty() || !release.empty()) {
      std::string rel = release.empty() ? running_release() : release;
      std::string root = basedir.empty() ? "/" : basedir;
      spec = root;
      release = rel;
      if (!fs::is_directory(root + "/lib/modules/" + rel)) spec = module_dir(basedir, rel);
    } else {
      running = true;
      std::string rel = running_release();
      spec = "/lib/modules/" + rel;
      for (std::string f : {"/boot/config-" + rel, "/boot/System.map-" + rel})
        if (fs::exists(f)) spec += "," + f;
      release = rel;
    }
    if (!extra.empty()) spec += "," + join(extra, ",");
    kernels.push_back(spec);
  } else if (!extra.empty()) {
    for (auto &k : kernels) k += "," + join(extra, ",");
  }
  std::vector<KernelProfile> profiles;
  for (const auto &spec : kernels) {
    auto p = load_profile(spec, kernels.size() == 1 ? release : "", kmx_cache_dir());
    if (!p) {
      std::fprintf(stderr, "%s: ERROR: %s\n", prog, p.error().msg.c_str());
      return 4;
    }
    profiles.push_back(std::move(*p));
  }
  std::vector<KernelProfile> history;
  for (const auto &spec : history_specs) {
    auto p = load_profile(spec, "", kmx_cache_dir());
    if (!p) {
      std::fprintf(stderr, "%s: ERROR: %s\n", prog, p.error().msg.c_str());
      return 4;
    }
    // A bare headers Module.symvers names no release; its directory does
    // (/usr/src/linux-headers-REL/Module.symvers), and the history needs the version.
    if (p->release.empty() || p->major == 0) {
      std::string first = spec.substr(0, spec.find(','));
      for (fs::path d = fs::path(first).lexically_normal(); !d.empty() && d != d.parent_path(); d = d.parent_path()) {
        std::string name = d.filename().string();
        if (name.starts_with("linux-headers-")) {
          p->release = name.substr(std::strlen("linux-headers-"));
          parse_release(p->release, p->major, p->minor);
          break;
        }
      }
    }
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
  state.secure_boot = secure_boot;
  for (const auto &f : loaded_files) {
    if (is_module_path(f)) {
      auto m = read_module(f);
      if (!m) {
        std::fprintf(stderr, "%s: ERROR: %s\n", prog, m.error().msg.c_str());
        return 4;
      }
      std::string name = normalize_module_name(m->get("name").value_or(module_name_from_path(f)));
      state.loaded.insert(name);
      if (!license_is_gpl_compatible(m->get("license").value_or("unspecified"))) state.proprietary.insert(name);
      // A loaded module's exports are the kernel's too (an out-of-tree one is in no
      // Module.symvers); the kernel's own export wins, as a duplicate would not have loaded.
      for (auto &p : profiles)
        for (const auto &e : m->exports) p.exports.try_emplace(e.name, KernelExport{name, e.license, e.ns, e.crc});
      continue;
    }
    auto text = read_file(f);
    if (!text) {
      std::fprintf(stderr, "%s: ERROR: %s\n", prog, text.error().msg.c_str());
      return 4;
    }
    auto mods = parse_proc_modules(*text);
    if (!mods) {
      std::fprintf(stderr, "%s: ERROR: %s: %s\n", prog, f.c_str(), mods.error().msg.c_str());
      return 4;
    }
    for (const auto &m : *mods) {
      state.loaded.insert(m.name);
      if (m.taints.find('P') != std::string::npos) state.proprietary.insert(m.name);
    }
  }

  std::vector<ApiChange> api;
  if (api_file.empty()) api_file = default_api_changes();
  if (!api_file.empty()) {
    auto text = read_file(api_file);
    if (!text) {
      std::fprintf(stderr, "%s: ERROR: %s\n", prog, text.error().msg.c_str());
      return 4;
    }
    auto a = parse_api_changes(*text, api_file);
    if (!a) {
      std::fprintf(stderr, "%s: ERROR: %s\n", prog, a.error().msg.c_str());
      return 4;
    }
    api = std::move(*a);
  }

  // Modules: files, or every module under a directory.
  std::vector<std::string> files;
  for (const auto &a : args) {
    std::error_code ec;
    if (fs::is_directory(a, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(a, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file(ec) && is_module_path(it->path().string())) found.push_back(it->path().string());
      if (found.empty()) {
        std::fprintf(stderr, "%s: ERROR: %s: no modules (*.ko, *.ko.gz, *.ko.xz, *.ko.zst) in this directory\n", prog,
                     a.c_str());
        return 4;
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
      std::fprintf(stderr, "%s: ERROR: %s\n", prog, text.error().msg.c_str());
      return 4;
    }
    if (auto st = parse_kernel_config(*text, built_with, built); !st) {
      std::fprintf(stderr, "%s: ERROR: %s\n", prog, st.error().msg.c_str());
      return 4;
    }
    opts.module_config = &built.config;
  }
  opts.api_changes = &api;
  opts.history = &history_ptrs;

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
      // The decompressed image stays for the signature check (no second decompression).
      auto m = read_module_for_check(files[first + j]);
      if (!m) {
        slot.error = m.error().msg;
        return;
      }
      for (const auto &p : profiles) {
        LoadVerdict v = m->problem.empty()
                            ? check_module(m->info, p, state, opts, ByteView(m->image))
                            : check_unparsed_module(files[first + j], ByteView(m->image), m->problem, p, state, opts);
        slot.rc = std::max(slot.rc, v.exit_code());
        if (json) {
          slot.out += ",\n";
          append_json(slot.out, v, p);
        } else {
          append_text(slot.out, v, p, colour, verbose);
        }
        slot.codes.push_back(v.exit_code());
        if (keep) {
          v.checks.clear();
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
    std::string h = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>kmx check</title><style>"
                    "body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #999;"
                    "padding:4px;vertical-align:top}.ok{background:#cfc}.taint{background:#ffc}.no{background:#fcc}"
                    "pre{margin:0;font-size:85%}</style></head><body><h1>kmx check</h1><table><tr><th>module</th>";
    for (const auto &p : profiles) h += "<th>" + html_escape(p.release) + "</th>";
    h += "</tr>";
    for (const auto &row : verdicts) {
      if (row.empty()) continue;
      h += "<tr><td>" + html_escape(row[0].module) + "</td>";
      for (const auto &v : row) {
        std::string cls = !v.loads ? "no" : v.taint.empty() ? "ok" : "taint";
        std::string head = !v.loads ? "refused " + v.errno_name + " (" + v.check_id + ")"
                           : v.taint.empty() ? "loads" : "loads, taints " + v.taint;
        h += "<td class=\"" + cls + "\"><b>" + html_escape(head) + "</b><pre>";
        for (const auto &m : v.messages) h += html_escape(m) + "\n";
        for (const auto &x : v.hints) h += "hint: " + html_escape(x) + "\n";
        h += "</pre></td>";
      }
      h += "</tr>";
    }
    h += "</table></body></html>\n";
    if (auto w = write_file_atomic(html, h); !w) {
      std::fprintf(stderr, "%s: ERROR: %s\n", prog, w.error().msg.c_str());
      return 4;
    }
  }
  return rc;
}

}  // namespace kmx
