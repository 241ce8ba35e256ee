// modprobe.d parsing and the `modprobe -c` dump; the format is described in
// modprobe-config.h. Where kmod's behaviour is odd (softdep spacing, the `-c` softdep
// line), the oddity is reproduced on purpose: `modprobe -c` output must match kmod's.
#include "config/modprobe-config.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>

#include "base/mapped-file.h"

namespace kmx {

namespace {

// kmod builds paths in a PATH_MAX buffer and refuses longer ones.
constexpr size_t kmod_path_max = 4096;

// One logical line at a time, joined and unescaped as kmod's freadline_wrapped() does.
class LogicalLines {
public:
  explicit LogicalLines(std::string_view text) : text_(text) {}

  // False at end of input. linenum() is then the number of the last physical line read.
  bool next(std::string &line) {
    line.clear();
    unsigned consumed = 0;
    for (;;) {
      if (pos_ >= text_.size()) {
        if (line.empty()) return false;
        consumed++;
        break;
      }
      char c = text_[pos_++];
      if (c == '\n') {
        consumed++;
        break;
      }
      if (c == '\\') {
        if (pos_ >= text_.size()) continue;  // kmod 34: a final backslash is dropped
        char e = text_[pos_++];
        if (e == '\n') {
          consumed++;
          continue;
        }
        line.push_back(e);
        continue;
      }
      line.push_back(c);
    }
    linenum_ += consumed;
    return true;
  }

  unsigned linenum() const { return linenum_; }

private:
  std::string_view text_;
  size_t pos_ = 0;
  unsigned linenum_ = 0;
};

// strtok_r(" \t") over one line: next() is a word, rest() is strtok_r(NULL, "\0"), i.e.
// everything after the byte that ended the previous word.
class Words {
public:
  explicit Words(std::string_view s) : s_(s) {}

  std::optional<std::string> next() {
    size_t b = s_.find_first_not_of(" \t", pos_);
    if (b == std::string_view::npos) {
      pos_ = s_.size();
      return std::nullopt;
    }
    size_t e = s_.find_first_of(" \t", b);
    if (e == std::string_view::npos) {
      pos_ = s_.size();
      return std::string(s_.substr(b));
    }
    pos_ = e + 1;
    return std::string(s_.substr(b, e - b));
  }

  std::optional<std::string> rest() {
    if (pos_ >= s_.size()) return std::nullopt;
    std::string r(s_.substr(pos_));
    pos_ = s_.size();
    return r;
  }

private:
  std::string_view s_;
  size_t pos_ = 0;
};

bool is_c_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// The word scanner of kmod_config_add_softdep/_weakdep. Its one quirk is kept: when the
// list starts with exactly one blank, the first word keeps that blank (" pre:"), so it is
// neither a keyword nor a clean module name.
std::vector<std::string> dep_words(std::string_view line) {
  std::vector<std::string> words;
  size_t p = 0;
  bool was_space = false;
  for (size_t s = 0;; s++) {
    bool end = s >= line.size();
    if (!end) {
      if (!is_c_space(line[s])) {
        was_space = false;
        continue;
      }
      if (was_space) {
        p = s + 1;
        continue;
      }
      was_space = true;
      if (p >= s) continue;
    }
    if (!end || !was_space) words.emplace_back(line.substr(p, s - p));
    p = s + 1;
    if (end) break;
  }
  return words;
}

ModprobeSoftdep make_softdep(std::string modname, std::string_view line) {
  ModprobeSoftdep dep;
  dep.modname = std::move(modname);
  enum { none, pre, post } mode = none;
  for (std::string &w : dep_words(line)) {
    if (w == "pre:") {
      mode = pre;
    } else if (w == "post:") {
      mode = post;
    } else if (mode == pre) {
      dep.pre.push_back(std::move(w));
      dep.order.push_back(false);
    } else if (mode == post) {
      dep.post.push_back(std::move(w));
      dep.order.push_back(true);
    }
  }
  return dep;
}

bool fnmatches(const std::string &pattern, std::string_view name) {
  return ::fnmatch(pattern.c_str(), std::string(name).c_str(), 0) == 0;
}

std::string join_path(const std::string &root, const std::string &path) {
  if (root.empty()) return path;
  if (!path.empty() && path[0] == '/') return root + path;
  return root + "/" + path;
}

bool has_config_suffix(std::string_view name) {
  if (name.size() < 6) return false;
  return name.ends_with(".conf") || name.ends_with(".alias");
}

}  // namespace

const std::vector<std::string> &default_modprobe_config_paths() {
  static const std::vector<std::string> paths = {
      "/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d",
      "/usr/lib/modprobe.d", "/lib/modprobe.d",
  };
  return paths;
}

void parse_modprobe_config_text(ModprobeConfig &cfg, std::string_view text,
                                std::string_view filename, Diag &diag, ConfigDiagStyle style,
                                std::string_view only) {
  LogicalLines lines(text);
  std::string raw;
  while (lines.next(raw)) {
    std::string_view line(raw);
    line = line.substr(0, line.find('\0'));  // kmod handles the line as a C string
    if (line.empty() || line[0] == '#') continue;

    Words words(line);
    std::optional<std::string> cmd = words.next();
    if (!cmd) continue;
    if (!only.empty() && *cmd != only) {
      diag.warn(std::string(filename) + " line " + std::to_string(lines.linenum()) + ": ignoring '" + *cmd +
                "' line: only " + std::string(only) + " lines are read from this file");
      continue;
    }

    bool ok = true;
    if (*cmd == "alias") {
      std::optional<std::string> alias = words.next();
      std::optional<std::string> modname = words.next();
      ok = alias && normalize_config_name(*alias) && modname && normalize_config_name(*modname);
      if (ok) cfg.aliases.push_back(ModprobeAlias{std::move(*alias), std::move(*modname)});
    } else if (*cmd == "blacklist" || *cmd == "forbid") {
      std::optional<std::string> modname = words.next();
      ok = modname && normalize_config_name(*modname);
      if (ok) (*cmd == "forbid" ? cfg.forbidden : cfg.blacklists).push_back(std::move(*modname));
    } else if (*cmd == "options" || *cmd == "install" || *cmd == "remove" || *cmd == "softdep" ||
               *cmd == "weakdep") {
      std::optional<std::string> modname = words.next();
      bool named = modname && normalize_config_name(*modname);
      std::optional<std::string> rest = words.rest();
      ok = named && rest;
      if (!ok) {
        // reported below
      } else if (*cmd == "options") {
        std::replace(rest->begin(), rest->end(), '\t', ' ');
        cfg.options.push_back(ModuleOption{std::move(*modname), std::move(*rest)});
      } else if (*cmd == "install") {
        cfg.install_commands.push_back(ModprobeCommand{std::move(*modname), std::move(*rest)});
      } else if (*cmd == "remove") {
        cfg.remove_commands.push_back(ModprobeCommand{std::move(*modname), std::move(*rest)});
      } else if (*cmd == "softdep") {
        cfg.softdeps.push_back(make_softdep(std::move(*modname), *rest));
      } else {
        cfg.weakdeps.push_back(ModprobeWeakdep{std::move(*modname), dep_words(*rest)});
      }
    } else if (*cmd == "include" || *cmd == "config") {
      diag.error(config_diag_text(style, 708, "kmod_config_parse",
                                  std::string(filename) + ": command " + *cmd +
                                      " is deprecated and not parsed anymore"));
      continue;
    } else {
      ok = false;
    }
    if (!ok) {
      diag.error(config_diag_text(style, 712, "kmod_config_parse",
                                  std::string(filename) + " line " +
                                      std::to_string(lines.linenum()) +
                                      ": ignoring bad line starting with '" + *cmd + "'"));
    }
  }
}

std::vector<ModprobeConfigFile> list_modprobe_config_files(const ModprobeConfigSources &src,
                                                           Diag &diag) {
  // Keyed by basename: std::string orders bytes as unsigned, like strcmp; emplace keeps the
  // first entry of a name, which is how an earlier directory overrides a later one.
  std::map<std::string, ModprobeConfigFile> by_name;
  auto add = [&](const std::string &dir, const std::string &name, std::string path, std::string only = {}) {
    by_name.emplace(name, ModprobeConfigFile{std::move(path), name, dir, std::move(only)});
  };

  if (!src.module_dir.empty()) {
    std::string dir = join_path(src.root, src.module_dir);
    add(dir, "modules.softdep", dir + "/modules.softdep", "softdep");
    add(dir, "modules.weakdep", dir + "/modules.weakdep", "weakdep");
  }

  const std::vector<std::string> &paths =
      src.config_paths.empty() ? default_modprobe_config_paths() : src.config_paths;
  for (const std::string &p : paths) {
    std::string path = join_path(src.root, p);
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) continue;
    if (!S_ISDIR(st.st_mode)) {
      size_t slash = path.rfind('/');
      add({}, slash == std::string::npos ? path : path.substr(slash + 1), path);
      continue;
    }
    DIR *d = ::opendir(path.c_str());
    if (!d) {
      diag.error(config_diag_text(src.diag_style, 868, "conf_files_list",
                                  "opendir(" + path + "): " + std::strerror(errno)));
      continue;
    }
    while (struct dirent *ent = ::readdir(d)) {
      std::string name = ent->d_name;
      if (name[0] == '.' || !has_config_suffix(name)) continue;
      struct stat est;
      if (::fstatat(::dirfd(d), name.c_str(), &est, 0) != 0) {
        // kmod 34's check; kmod 30 read an uninitialised stat here.
        diag.error(config_diag_text(src.diag_style, 901, "conf_files_filter_out",
                                    "Cannot stat directory entry: " + path + "/" + name));
        continue;
      }
      if (S_ISDIR(est.st_mode)) {
        diag.error(config_diag_text(src.diag_style, 772, "conf_files_filter_out",
                                    "Directories inside directories are not supported: " +
                                        path + "/" + name));
        continue;
      }
      add(path, name, path + "/" + name);
    }
    ::closedir(d);
  }

  std::vector<ModprobeConfigFile> out;
  out.reserve(by_name.size());
  for (auto &[name, f] : by_name) out.push_back(std::move(f));
  return out;
}

void apply_kernel_cmdline(ModprobeConfig &cfg, KernelCmdlineConfig kcmdline) {
  for (std::string &b : kcmdline.blacklists) cfg.blacklists.push_back(std::move(b));
  for (ModuleOption &o : kcmdline.options) cfg.options.push_back(std::move(o));
}

ModprobeConfig load_modprobe_config(const ModprobeConfigSources &src, Diag &diag) {
  ModprobeConfig cfg;
  for (const ModprobeConfigFile &f : list_modprobe_config_files(src, diag)) {
    if (!f.dir.empty() && f.path.size() >= kmod_path_max) {
      diag.error(config_diag_text(src.diag_style, 936, "kmod_config_new",
                                  "Error parsing " + f.dir + "/" + f.name + ": path too long"));
      continue;
    }
    // Like kmod, a file that cannot be opened is skipped without a word.
    Result<std::string> text = read_file(f.path);
    if (!text) continue;
    cfg.files.push_back(f.path);
    parse_modprobe_config_text(cfg, *text, f.path, diag, src.diag_style, f.only);
  }

  if (!src.kcmdline_path.empty()) {
    Result<std::string> text = read_kernel_cmdline(join_path(src.root, src.kcmdline_path));
    if (text) {
      apply_kernel_cmdline(cfg, parse_kernel_cmdline(*text, diag, src.diag_style));
    } else if (text.error().code == Errc::io) {
      diag.error(config_diag_text(src.diag_style, 521, "kmod_config_parse_kcmdline",
                                  std::string("could not read from '/proc/cmdline': ") +
                                      std::strerror(text.error().sys_errno)));
    }
  }
  return cfg;
}

std::string ModprobeConfig::options_for(std::string_view name, std::string_view alias) const {
  std::string out;
  for (const ModuleOption &o : options) {
    if (o.modname != name && (alias.empty() || o.modname != alias)) continue;
    if (o.options.empty()) continue;
    if (!out.empty()) out += ' ';
    out += o.options;
  }
  return out;
}

const std::string *ModprobeConfig::install_command_for(std::string_view name) const {
  for (const ModprobeCommand &c : install_commands)
    if (fnmatches(c.modname, name)) return &c.command;
  return nullptr;
}

const std::string *ModprobeConfig::remove_command_for(std::string_view name) const {
  for (const ModprobeCommand &c : remove_commands)
    if (fnmatches(c.modname, name)) return &c.command;
  return nullptr;
}

const ModprobeSoftdep *ModprobeConfig::softdep_for(std::string_view name) const {
  for (const ModprobeSoftdep &d : softdeps)
    if (fnmatches(d.modname, name)) return &d;
  return nullptr;
}

const ModprobeWeakdep *ModprobeConfig::weakdep_for(std::string_view name) const {
  for (const ModprobeWeakdep &d : weakdeps)
    if (fnmatches(d.modname, name)) return &d;
  return nullptr;
}

std::vector<const ModprobeAlias *> ModprobeConfig::aliases_matching(std::string_view name) const {
  std::vector<const ModprobeAlias *> out;
  for (const ModprobeAlias &a : aliases)
    if (fnmatches(a.name, name)) out.push_back(&a);
  return out;
}

bool ModprobeConfig::is_blacklisted(std::string_view name) const {
  return std::find(blacklists.begin(), blacklists.end(), name) != blacklists.end();
}

bool ModprobeConfig::is_forbidden(std::string_view name) const {
  return std::find(forbidden.begin(), forbidden.end(), name) != forbidden.end();
}

namespace {

// kmod's softdep_to_char(): it prints, for pre and then post, the span of the written
// entries from the first to the last of that kind (entries of the other kind in between
// included), and puts nothing between the two parts ("pre: a bpost: c").
std::string softdep_text(const ModprobeSoftdep &dep) {
  std::vector<std::pair<bool, const std::string *>> seq;  // (is_post, entry) as written
  size_t ipre = 0, ipost = 0;
  for (bool is_post : dep.order) {
    if (is_post && ipost < dep.post.size()) seq.emplace_back(true, &dep.post[ipost++]);
    else if (!is_post && ipre < dep.pre.size()) seq.emplace_back(false, &dep.pre[ipre++]);
  }
  auto span = [&](bool kind, const char *prefix) -> std::string {
    size_t first = seq.size(), last = 0;
    for (size_t i = 0; i < seq.size(); i++) {
      if (seq[i].first != kind) continue;
      first = std::min(first, i);
      last = i;
    }
    if (first == seq.size()) return {};
    std::string body;
    for (size_t j = first; j <= last; j++) {
      if (j > first) body += ' ';
      body += *seq[j].second;
    }
    return prefix + body;
  };
  return span(false, "pre: ") + span(true, "post: ");
}

std::string join_words(const std::vector<std::string> &words) {
  std::string out;
  for (size_t i = 0; i < words.size(); i++) {
    if (i) out += ' ';
    out += words[i];
  }
  return out;
}

}  // namespace

std::string format_modprobe_config(const ModprobeConfig &cfg, ShowForbidden show_forbidden) {
  std::string out;
  auto line = [&](const char *kind, const std::string &key, const std::string *value) {
    out += kind;
    out += ' ';
    out += key;
    if (value) {
      out += ' ';
      out += *value;
    }
    out += '\n';
  };
  for (const std::string &b : cfg.blacklists) line("blacklist", b, nullptr);
  for (const ModprobeCommand &c : cfg.install_commands) line("install", c.modname, &c.command);
  for (const ModprobeCommand &c : cfg.remove_commands) line("remove", c.modname, &c.command);
  for (const ModprobeAlias &a : cfg.aliases) line("alias", a.name, &a.modname);
  for (const ModuleOption &o : cfg.options) line("options", o.modname, &o.options);
  for (const ModprobeSoftdep &d : cfg.softdeps) {
    std::string v = softdep_text(d);
    line("softdep", d.modname, &v);
  }
  for (const ModprobeWeakdep &d : cfg.weakdeps) {
    std::string v = join_words(d.weak);
    line("weakdep", d.modname, &v);
  }
  if (show_forbidden == ShowForbidden::yes)
    for (const std::string &f : cfg.forbidden) line("forbid", f, nullptr);
  out += "\n# End of configuration files. Dumping indexes now:\n\n";
  return out;
}

}  // namespace kmx
