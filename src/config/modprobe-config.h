// modprobe.d configuration: which files, how they are read, what each directive means, and
// the `modprobe -c` dump.
//
// Format (kmod 30 libkmod-config.c, plus kmod 34's `weakdep`; man modprobe.d(5)):
//   Files: every *.conf (and, as kmod 30 does, *.alias) file of each config directory, not
//   starting with '.', sorted by basename (bytewise); a basename seen in an earlier
//   directory hides later ones. Directories, in order: /etc/modprobe.d, /run/modprobe.d,
//   /usr/local/lib/modprobe.d, /usr/lib/modprobe.d (kmod 34's DISTCONFDIR), /lib/modprobe.d;
//   `-C PATH` replaces the whole list (a PATH that is a file is read whatever its name).
//   The module directory's modules.softdep and (kmod 34) modules.weakdep join the same
//   sorted list under those basenames. They are depmod's copy of module metadata, not
//   configuration: kmx reads only `softdep` lines from modules.softdep and only `weakdep`
//   lines from modules.weakdep and warns about any other line (kmod reads both as full
//   modprobe.d files, so a module whose .modinfo smuggles "softdep=x\ninstall m CMD" past
//   a depmod gets CMD run as root). The kernel command line comes last (cmdline.h).
//   Lines: "\\\n" joins physical lines; a backslash before any other byte is dropped and the
//   byte kept ("\\\\" is one backslash); a backslash at end of file is dropped (kmod 34; kmod
//   30 kept a 0xff byte). A NUL ends the logical line. Empty lines and lines whose first
//   byte is '#' are skipped. Words are split on ' ' and '\t' only, strtok_r style: the
//   "rest of line" of options/install/remove/softdep/weakdep starts one byte after the
//   module name, so extra blanks (and trailing ones) are kept.
//   Directives (MOD and alias names normalised: '-' -> '_' outside [...]):
//     alias NAME MOD          blacklist MOD           options MOD TEXT (tab -> space)
//     install MOD COMMAND     remove MOD COMMAND      softdep MOD [pre: A...] [post: B...]
//     weakdep MOD A...        forbid MOD (kmx only: never load MOD by any path)
//   softdep/weakdep entries are split on isspace() and kept unnormalised, with kmod's quirk
//   that exactly one leading blank in front of the list hides the first word
//   ("softdep m  pre: a" has no entries). `include` and `config` are reported as
//   deprecated; anything else is reported as a bad line and skipped. kmod 30 also reports
//   `weakdep` and `forbid` lines (it does not know them) but is otherwise unaffected.
//   Lookups (kmod_module_get_*): options concatenate every entry for the name (or its
//   alias) in order, joined by ' '; install/remove/softdep/weakdep take the first entry whose
//   MOD, a fnmatch() pattern, matches; config aliases are fnmatch() patterns, all matches
//   kept; blacklist compares names exactly.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/diag.h"
#include "config/cmdline.h"

namespace kmx {

struct ModprobeAlias {
  std::string name;     // the alias (a fnmatch() pattern)
  std::string modname;  // what it resolves to
  bool operator==(const ModprobeAlias &) const = default;
};

struct ModprobeCommand {
  std::string modname;  // a fnmatch() pattern
  std::string command;  // shell text, verbatim
  bool operator==(const ModprobeCommand &) const = default;
};

struct ModprobeSoftdep {
  std::string modname;  // a fnmatch() pattern
  std::vector<std::string> pre;
  std::vector<std::string> post;
  // Kinds of the entries in the order written (false = pre, true = post); `modprobe -c`
  // prints spans of that sequence, not the two lists (see format_modprobe_config).
  std::vector<bool> order;
  bool operator==(const ModprobeSoftdep &) const = default;
};

struct ModprobeWeakdep {
  std::string modname;  // a fnmatch() pattern
  std::vector<std::string> weak;
  bool operator==(const ModprobeWeakdep &) const = default;
};

// The merged configuration, each list in kmod's order (files in sorted order, lines in
// file order, then the kernel command line).
struct ModprobeConfig {
  std::vector<std::string> blacklists;
  std::vector<ModprobeCommand> install_commands;
  std::vector<ModprobeCommand> remove_commands;
  std::vector<ModprobeAlias> aliases;
  std::vector<ModuleOption> options;
  std::vector<ModprobeSoftdep> softdeps;
  std::vector<ModprobeWeakdep> weakdeps;
  std::vector<std::string> forbidden;  // kmx `forbid` directive
  std::vector<std::string> files;      // files that were opened and parsed, in order

  // All options for a module, as kmod_module_get_options() builds them: every entry whose
  // name is `name` or `alias`, non-empty texts joined by ' '. Empty when there are none.
  std::string options_for(std::string_view name, std::string_view alias = {}) const;
  // First install/remove command whose pattern matches name, or nullptr.
  const std::string *install_command_for(std::string_view name) const;
  const std::string *remove_command_for(std::string_view name) const;
  // First softdep/weakdep entry whose pattern matches name, or nullptr.
  const ModprobeSoftdep *softdep_for(std::string_view name) const;
  const ModprobeWeakdep *weakdep_for(std::string_view name) const;
  // Every config alias whose pattern matches name, in order.
  std::vector<const ModprobeAlias *> aliases_matching(std::string_view name) const;
  bool is_blacklisted(std::string_view name) const;
  bool is_forbidden(std::string_view name) const;
};

// kmod's default_config_paths, newest list (kmod 34, with /usr/lib/modprobe.d).
const std::vector<std::string> &default_modprobe_config_paths();

// Where the configuration comes from. Every path is taken relative to root ("" = the real
// root), so tests point it at a temporary tree.
struct ModprobeConfigSources {
  std::string root;
  // Files or directories in precedence order; empty means default_modprobe_config_paths()
  // (modprobe -C replaces the defaults, it does not add to them).
  std::vector<std::string> config_paths;
  // The kernel's module directory (kmod's dirname, e.g. /lib/modules/6.1.0-9-amd64) whose
  // modules.softdep/modules.weakdep are read; empty for none.
  std::string module_dir;
  // The kernel command line file; empty to ignore the command line.
  std::string kcmdline_path = "/proc/cmdline";
  ConfigDiagStyle diag_style = ConfigDiagStyle::plain;
};

// One file in the sorted list: dir + "/" + name, or path itself for a file named by -C.
struct ModprobeConfigFile {
  std::string path;  // what is opened (and named in diagnostics)
  std::string name;  // the basename that orders it and decides overrides
  std::string dir;   // the directory it was listed from; empty for a file named directly
  std::string only;  // the one directive this file may hold (depmod's outputs); "" = any
};

// The files kmod would read, in order, following its listing rules (see the top comment).
// Problems listing a directory go to diag, as kmod reports them.
std::vector<ModprobeConfigFile> list_modprobe_config_files(const ModprobeConfigSources &src,
                                                           Diag &diag);

// Parses one file's text into cfg (appending), reporting bad lines to diag with `filename`
// and the line number (the last physical line of a continued logical line, as kmod counts).
// With `only` set, lines of any other directive are skipped with a warning.
void parse_modprobe_config_text(ModprobeConfig &cfg, std::string_view text,
                                std::string_view filename, Diag &diag,
                                ConfigDiagStyle style = ConfigDiagStyle::plain,
                                std::string_view only = {});

// Adds what the kernel command line contributes (after all files, as kmod does).
void apply_kernel_cmdline(ModprobeConfig &cfg, KernelCmdlineConfig kcmdline);

// Lists, reads and parses everything, including the kernel command line. Never fails:
// like kmod, unreadable files are skipped and bad lines are reported and skipped.
ModprobeConfig load_modprobe_config(const ModprobeConfigSources &src, Diag &diag);

enum class ShowForbidden { no, yes };

// The configuration part of `modprobe -c`, byte for byte as kmod's show_config() prints
// it: blacklist, install, remove, alias, options, softdep, weakdep sections, then
// "\n# End of configuration files. Dumping indexes now:\n\n" (the caller appends the
// modules.alias and modules.symbols index dumps). ShowForbidden::yes adds kmx's `forbid`
// lines after the weakdep section (kmod has no such section).
std::string format_modprobe_config(const ModprobeConfig &cfg,
                                   ShowForbidden show_forbidden = ShowForbidden::no);

}  // namespace kmx
