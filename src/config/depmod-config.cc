#include "config/depmod-config.h"

#include <dirent.h>
#include <regex.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>

#include "base/mapped-file.h"

namespace kmx {

const std::vector<std::string> default_depmod_config_paths = {"/etc/depmod.d", "/run/depmod.d",
                                                               "/usr/local/lib/depmod.d", "/lib/depmod.d"};

namespace {

// kmod's cfg_kernel_matches(): "*" or an extended regex found anywhere in the version.
bool kernel_matches(const std::string &kversion, const std::string &pattern) {
  if (pattern == "*") return true;
  regex_t re;
  if (::regcomp(&re, pattern.c_str(), REG_EXTENDED | REG_NOSUB) != 0) return false;
  int status = ::regexec(&re, kversion.c_str(), 0, nullptr, 0);
  ::regfree(&re);
  return status == 0;
}

// kmod's freadline_wrapped(): a backslash-newline joins lines; a backslash before any other
// character is dropped. Returns the logical line and advances linenum by the physical lines.
bool next_line(std::string_view text, size_t &pos, std::string &line, unsigned &linenum) {
  line.clear();
  if (pos >= text.size()) return false;
  unsigned n = 0;
  while (pos < text.size()) {
    char ch = text[pos++];
    if (ch == '\n') {
      n++;
      linenum += n;
      return true;
    }
    if (ch == '\\') {
      if (pos < text.size() && text[pos] == '\n') {
        pos++;
        n++;
        continue;
      }
      if (pos >= text.size()) {  // getc() returned EOF: kmod stores (char)EOF
        line.push_back(static_cast<char>(0xff));
        continue;
      }
      ch = text[pos++];
    }
    line.push_back(ch);
  }
  n++;
  linenum += n;
  return true;
}

std::vector<std::string> tokens(const std::string &line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) i++;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') i++;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

void search_add(DepmodConfig &cfg, const std::string &path) {
  DepmodSearch s;
  if (path == "built-in") s.type = SearchType::builtin;
  else if (path == "external") s.type = SearchType::external;
  else s.path = path;
  cfg.searches.insert(cfg.searches.begin(), std::move(s));
}

struct CfgFile {
  std::string name;
  std::string path;
};

// kmod's cfg_files_list() + cfg_files_insert_sorted().
void list_files(std::vector<CfgFile> &files, const std::string &path, Diag &diag) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return;
  auto insert = [&](const std::string &name, const std::string &full) {
    auto it = std::find_if(files.begin(), files.end(), [&](const CfgFile &f) { return name <= f.name; });
    if (it != files.end() && it->name == name) return;  // duplicate basename: the earlier directory wins
    files.insert(it, CfgFile{name, full});
  };
  if (!S_ISDIR(st.st_mode)) {
    size_t slash = path.rfind('/');
    insert(slash == std::string::npos ? path : path.substr(slash + 1), path);
    return;
  }
  DIR *d = ::opendir(path.c_str());
  if (!d) {
    diag.error("files list " + path + ": " + std::strerror(errno));
    return;
  }
  while (struct dirent *de = ::readdir(d)) {
    std::string name = de->d_name;
    if (name[0] == '.') continue;
    if (name.size() < 6 || name.compare(name.size() - 5, 5, ".conf") != 0) {
      diag.report(Severity::info, "All cfg files need .conf: " + path + "/" + name);
      continue;
    }
    struct stat fst;
    if (::fstatat(::dirfd(d), name.c_str(), &fst, 0) == 0 && S_ISDIR(fst.st_mode)) {
      diag.error("Directories inside directories are not supported: " + path + "/" + name);
      continue;
    }
    insert(name, path + "/" + name);
  }
  ::closedir(d);
}

}  // namespace

void parse_depmod_config_text(DepmodConfig &cfg, const std::string &filename, std::string_view text,
                              const std::string &kversion, Diag &diag) {
  size_t pos = 0;
  unsigned linenum = 0;
  std::string line;
  while (next_line(text, pos, line, linenum)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> tok = tokens(line);
    if (tok.empty()) continue;
    const std::string &cmd = tok[0];
    std::string where = filename + ":" + std::to_string(linenum) + ": ";
    if (cmd == "search") {
      for (size_t i = 1; i < tok.size(); i++) search_add(cfg, tok[i]);
    } else if (cmd == "override" && tok.size() >= 4) {
      if (!kernel_matches(kversion, tok[2])) {
        diag.report(Severity::info, where + "override kernel did not match " + tok[2]);
        continue;
      }
      cfg.overrides.insert(cfg.overrides.begin(), tok[3] + "/" + tok[1]);
    } else if (cmd == "external" && tok.size() >= 3) {
      if (!kernel_matches(kversion, tok[1])) {
        diag.report(Severity::info, where + "external directory did not match " + tok[1]);
        continue;
      }
      cfg.externals.insert(cfg.externals.begin(), tok[2]);
    } else if (cmd == "exclude") {
      for (size_t i = 1; i < tok.size(); i++) cfg.excludes.insert(cfg.excludes.begin(), tok[i]);
    } else if (cmd == "include" || cmd == "make_map_files") {
      diag.report(Severity::info, where + "command " + cmd + " not implemented yet");
    } else {
      diag.error(where + "ignoring bad line starting with '" + cmd + "'");
    }
  }
}

DepmodConfig load_depmod_config(const std::vector<std::string> &paths, const std::string &kversion, Diag &diag) {
  DepmodConfig cfg;
  std::vector<CfgFile> files;
  for (const std::string &p : paths.empty() ? default_depmod_config_paths : paths) list_files(files, p, diag);
  for (const CfgFile &f : files) {
    auto text = read_file(f.path);
    if (!text) {
      diag.error("file parse " + f.path + ": " + std::strerror(text.error().sys_errno ? text.error().sys_errno : EIO));
      continue;
    }
    parse_depmod_config_text(cfg, f.path, *text, kversion, diag);
  }
  // kmod: with no "search" directive at all, "updates" is searched first.
  if (cfg.searches.empty()) search_add(cfg, "updates");
  return cfg;
}

}  // namespace kmx
