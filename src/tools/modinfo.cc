// kmx modinfo: kmod 30's modinfo, byte for byte.
//
// Output rules reproduced from kmod (tools/modinfo.c, libkmod-module.c):
// - "filename:" first (a builtin module gets "name:" before it and "(builtin)" as filename);
// - every .modinfo string in file order as "key:<pad>value", the key padded to 16 columns
//   (printf "%s:%-*s" with 15 - keylen, so a key longer than 15 gets |15 - keylen| spaces);
// - parm/parmtype pairs folded into "parm:" lines after all other keys, in the reverse order
//   of each parameter's first appearance (kmod prepends to a list);
// - then, for a decodable signature trailer, sig_id, signer, sig_key, sig_hashalgo and
//   signature, the hex values as "XX:XX:..." with a "\n\t\t" after every 20 bytes;
// - -0 ends each record with NUL instead of newline (and prints key=value);
// - -F prints only the values of one key; -F parm uses "name:desc (type)".
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "base/parallel.h"
#include "elf/module-elf.h"
#include "config/modprobe-config.h"
#include "lookup/module-lookup.h"
#include "lookup/probe.h"
#include "tools/common.h"
#include "tools/tools.h"

namespace kmx {

namespace {

const char *const prog = "modinfo";

struct Options {
  char sep = '\n';
  std::optional<std::string> field;
};

// Output of one target, written with one fwrite. kmod interleaves nothing within a module
// except its error lines, which come after the "filename:" line; flush() keeps that order.
struct Out {
  std::string buf;
  void add(std::string_view s) { buf.append(s); }
  void add(char c) { buf.push_back(c); }
  void flush() {
    if (!buf.empty()) std::fwrite(buf.data(), 1, buf.size(), stdout);
    buf.clear();
    std::fflush(stdout);
  }
};

struct Param {
  std::string name;
  std::optional<std::string> desc, type;
};

std::string hex_colon(const Bytes &b) {
  static const char digits[] = "0123456789ABCDEF";
  std::string s;
  s.reserve(b.size() * 3 + b.size() / 20 * 3);
  for (size_t i = 0; i < b.size(); i++) {
    s += digits[b[i] >> 4];
    s += digits[b[i] & 15];
    if (i + 1 < b.size()) {
      s += ':';
      if ((i + 1) % 20 == 0) s += "\n\t\t";
    }
  }
  return s;
}

// The info list kmod_module_get_info() returns: .modinfo strings, then signature fields.
std::vector<ModinfoEntry> info_list(const ModuleInfo &mi) {
  std::vector<ModinfoEntry> out = mi.modinfo;
  if (mi.signature) {
    const ModuleSignature &s = *mi.signature;
    out.push_back({"sig_id", s.id_type_name});
    out.push_back({"signer", s.signer});
    out.push_back({"sig_key", s.key_id.empty() ? "(null)" : hex_colon(s.key_id)});
    out.push_back({"sig_hashalgo", s.hash_algo});
    out.push_back({"signature", s.signature.empty() ? "(null)" : hex_colon(s.signature)});
  }
  return out;
}

// Fold parm/parmtype into the parameter list; false (after kmod's message) on a value
// without ':'.
void add_param(std::vector<Param> &params, const ModinfoEntry &e) {
  size_t colon = e.value.find(':');
  if (colon == std::string::npos) {
    log_error(prog, "Found invalid \"{}={}\": missing ':'\n", e.key, e.value);
    return;
  }
  std::string name = e.value.substr(0, colon);
  Param *p = nullptr;
  for (Param &q : params)
    if (q.name == name) p = &q;
  if (!p) {
    params.push_back({name, std::nullopt, std::nullopt});
    p = &params.back();
  }
  if (e.key == "parm") p->desc = e.value.substr(colon + 1);
  else p->type = e.value.substr(colon + 1);
}

// printf("%-16s", label) for labels shorter than 16 columns.
void add_label(Out &out, std::string_view label) {
  out.add(label);
  if (label.size() < 16) out.buf.append(16 - label.size(), ' ');
}

void print_params(Out &out, const std::vector<Param> &params, const Options &o, bool with_key) {
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    const Param &p = *it;
    if (with_key) add_label(out, "parm:");
    out.add(p.name);
    if (!p.desc) {
      out.add(with_key ? ":" : ": (");
      out.add(p.type.value_or(""));
      if (!with_key) out.add(')');
    } else {
      out.add(':');
      out.add(*p.desc);
      if (p.type) {
        out.add(" (");
        out.add(*p.type);
        out.add(')');
      }
    }
    out.add(o.sep);
  }
}

void print_entries(Out &out, const std::vector<ModinfoEntry> &list, const Options &o) {
  if (o.field && *o.field == "parm") {
    std::vector<Param> params;
    for (const ModinfoEntry &e : list)
      if (e.key == "parm" || e.key == "parmtype") add_param(params, e);
    print_params(out, params, o, false);
    return;
  }
  std::vector<Param> params;
  for (const ModinfoEntry &e : list) {
    if (o.field) {
      if (e.key == *o.field) {
        out.add(e.value);
        out.add(o.sep);
      }
      continue;
    }
    if (e.key == "parm" || e.key == "parmtype") {
      add_param(params, e);
      continue;
    }
    out.add(e.key);
    if (o.sep == '\0') {
      out.add('=');
    } else {
      // printf("%s:%-*s", key, 15 - keylen, ""): a negative width pads by its magnitude.
      out.add(':');
      int pad = 15 - static_cast<int>(e.key.size());
      out.buf.append(static_cast<size_t>(pad < 0 ? -pad : pad), ' ');
    }
    out.add(e.value);
    out.add(o.sep);
  }
  if (!o.field) print_params(out, params, o, true);
}

// modinfo_do() for a module file whose parse result is already at hand.
int show_file(Out &out, const std::string &path, const std::string &name, const Result<ModuleInfo> &mi,
              const Options &o) {
  if (o.field && *o.field == "filename") {
    out.add(path);
    out.add(o.sep);
    return 0;
  }
  if (!o.field) {
    add_label(out, "filename:");
    out.add(path);
    out.add(o.sep);
  }
  if (!mi) {
    out.flush();
    log_error(prog, "could not get modinfo from '{}': {}\n", name, error_string(mi.error()));
    log_error(prog, "{}\n", mi.error().msg);
    return -mi.error().to_errno();
  }
  print_entries(out, info_list(*mi), o);
  return 0;
}

// A module without a file: builtin, or named by an index but absent from modules.dep (kmod
// prints both as "(builtin)"; only a builtin one has strings in modules.builtin.modinfo).
int show_builtin(Out &out, const std::string &dir, const std::string &name, bool builtin, const Options &o) {
  if (!o.field) {
    add_label(out, "name:");
    out.add(name);
    out.add(o.sep);
  } else if (*o.field == "name") {
    out.add(name);
    out.add(o.sep);
  }
  if (o.field && *o.field == "filename") {
    out.add("(builtin)");
    out.add(o.sep);
    return 0;
  }
  if (!o.field) {
    add_label(out, "filename:");
    out.add("(builtin)");
    out.add(o.sep);
  }
  if (!builtin) return 0;  // kmod: no file to read, ENOENT, silently nothing more
  auto strings = read_builtin_modinfo(dir, name);
  if (!strings) {
    // An old kernel without modules.builtin.modinfo: nothing more to show, as kmod.
    if (strings.error().code == Errc::not_found) return 0;
    out.flush();
    log_error(prog, "could not get modinfo from '{}': {}\n", name, error_string(strings.error()));
    return -strings.error().to_errno();
  }
  std::vector<ModinfoEntry> list;
  for (const std::string &s : *strings) {
    size_t eq = s.find('=');
    if (eq == std::string::npos) list.push_back({s, ""});
    else list.push_back({s.substr(0, eq), s.substr(eq + 1)});
  }
  print_entries(out, list, o);
  return 0;
}

// One thing to show, in argument order: a module file (read in parallel beforehand), a
// builtin module, or a lookup failure with kmod's message.
struct Target {
  enum class Kind { file, builtin, not_found } kind;
  std::string path, name, message;
  bool builtin = false;  // Kind::builtin: in modules.builtin (or its alias index)
};

bool is_module_filename(const std::string &name) {
  struct stat st;
  if (stat(name.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  return has_module_extension(name);
}

std::string make_absolute(const std::string &path) {
  if (path.starts_with("/")) return path;
  char cwd[4096];
  if (!getcwd(cwd, sizeof cwd)) return path;
  return std::string(cwd) + "/" + path;
}

void help() {
  std::printf("Usage:\n"
              "\t%s [options] <modulename|filename> [args]\n"
              "Options:\n"
              "\t-a, --author                Print only 'author'\n"
              "\t-d, --description           Print only 'description'\n"
              "\t-l, --license               Print only 'license'\n"
              "\t-p, --parameters            Print only 'parm'\n"
              "\t-n, --filename              Print only 'filename'\n"
              "\t-0, --null                  Use \\0 instead of \\n\n"
              "\t-m, --modname               Handle argument as module name instead of alias or filename\n"
              "\t-F, --field=FIELD           Print only provided FIELD\n"
              "\t-k, --set-version=VERSION   Use VERSION instead of `uname -r`\n"
              "\t-b, --basedir=DIR           Use DIR as filesystem root for /lib/modules\n"
              "\t-V, --version               Show version\n"
              "\t-h, --help                  Show this help\n",
              prog);
}

}  // namespace

int modinfo_main(int argc, char **argv) {
  static const option longopts[] = {
      {"author", no_argument, nullptr, 'a'},        {"description", no_argument, nullptr, 'd'},
      {"license", no_argument, nullptr, 'l'},       {"parameters", no_argument, nullptr, 'p'},
      {"filename", no_argument, nullptr, 'n'},      {"null", no_argument, nullptr, '0'},
      {"modname", no_argument, nullptr, 'm'},       {"field", required_argument, nullptr, 'F'},
      {"set-version", required_argument, nullptr, 'k'}, {"basedir", required_argument, nullptr, 'b'},
      {"version", no_argument, nullptr, 'V'},       {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0}};
  Options o;
  bool by_name = false;
  std::string root, kversion;
  bool have_root = false, have_kversion = false;
  optind = 0;
  for (;;) {
    int c = getopt_long(argc, argv, "adlpn0mF:k:b:Vh", longopts, nullptr);
    if (c == -1) break;
    switch (c) {
    case 'a': o.field = "author"; break;
    case 'd': o.field = "description"; break;
    case 'l': o.field = "license"; break;
    case 'p': o.field = "parm"; break;
    case 'n': o.field = "filename"; break;
    case '0': o.sep = '\0'; break;
    case 'm': by_name = true; break;
    case 'F': o.field = optarg; break;
    case 'k': kversion = optarg; have_kversion = true; break;
    case 'b': root = optarg; have_root = true; break;
    case 'h': help(); return 0;
    case 'V':
      print_kmod_version();
      return 0;
    default: return 1;
    }
  }
  if (optind >= argc) {
    log_error(prog, "missing module or filename.\n");
    return 1;
  }
  (void)have_root;
  (void)have_kversion;
  // Lookups as libkmod does them for modinfo: kmod_new() with an empty config list, so no
  // modprobe.d aliases or commands, and only the .bin indexes (no text fallback).
  std::string dir = module_dir(root, kversion);
  ModprobeConfig no_config;
  ProbeContext ctx(dir, no_config);

  std::vector<Target> targets;
  for (int i = optind; i < argc; i++) {
    std::string arg = argv[i];
    auto add_found = [&](ProbeModule *m) {
      if (const std::string *path = ctx.path(m)) targets.push_back({Target::Kind::file, *path, m->name, ""});
      else targets.push_back({Target::Kind::builtin, "", m->name, "", ctx.is_builtin(m)});
    };
    if (by_name) {
      std::string name = normalize_module_name(arg.substr(0, arg.find('.')));
      if (ProbeModule *m = ctx.name_lookup(name)) add_found(m);
      else targets.push_back({Target::Kind::not_found, "", arg, "Module name " + arg + " not found.\n"});
    } else if (is_module_filename(arg)) {
      targets.push_back({Target::Kind::file, make_absolute(arg), module_name_from_path(arg), ""});
    } else {
      auto found = ctx.lookup(arg);
      if (!found || found->empty()) targets.push_back({Target::Kind::not_found, "", arg, "Module " + arg + " not found.\n"});
      else
        for (ProbeModule *m : *found) add_found(m);
    }
  }

  // Parse every module file up front, one slot per target, on all cores; the files are
  // independent and decompression dominates. Output below stays in argument order.
  bool need_file = !(o.field && *o.field == "filename");
  std::vector<std::optional<Result<ModuleInfo>>> parsed(targets.size());
  ReadOptions ropts;
  ropts.symbols = false;
  if (need_file)
    parallel_for_each(targets.size(), [&](size_t i) {
      if (targets[i].kind == Target::Kind::file) parsed[i].emplace(read_module(targets[i].path, ropts));
    });

  int err = 0;
  Out out;
  const Result<ModuleInfo> unread = fail(Errc::no_data, "not read");
  for (size_t i = 0; i < targets.size(); i++) {
    const Target &t = targets[i];
    int r = 0;
    switch (t.kind) {
    case Target::Kind::file: r = show_file(out, t.path, t.name, parsed[i] ? *parsed[i] : unread, o); break;
    case Target::Kind::builtin: r = show_builtin(out, dir, t.name, t.builtin, o); break;
    case Target::Kind::not_found:
      out.flush();
      log_error(prog, "{}", t.message);
      r = -ENOENT;
      break;
    }
    parsed[i].reset();
    out.flush();
    if (r < 0) err = r;
  }
  return err < 0 ? 1 : 0;
}

}  // namespace kmx
