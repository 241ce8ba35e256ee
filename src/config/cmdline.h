// Kernel command line (/proc/cmdline) as a source of modprobe configuration.
//
// Format (kmod 30 and 34, libkmod-config.c kmod_config_parse_kcmdline; both versions agree):
//   The file is read once, at most 4095 bytes (KCMD_LINE_SIZE - 1); a NUL byte ends it.
//   Words are separated by ' ', '\t', '\n', '\v', '\f', '\r'. A word `MOD.PARAM` or
//   `MOD.PARAM=VALUE` is an option for MOD; every other word is ignored. Rules:
//   * The first '.' of a word splits MOD from PARAM; a second '.' before '=' spoils the
//     word (so `ivrs_acpihid[14:00.5]=x` is ignored, `a.b=1.5G` is not).
//   * '=' before any '.' spoils the word.
//   * A '"' may open a word (grub writes `"mod.p=v w"`); any other quote outside the value
//     spoils the word. Inside the value, quotes only toggle quoting, and whitespace inside
//     quotes belongs to the value. A word that opened with a quote is re-quoted the way the
//     user meant it: `"mod.p=v w"` becomes option `p="v w"` for `mod`.
//   * `modprobe.blacklist=a,b` adds blacklist entries a and b (split on ',', not normalised,
//     empty items kept). Every other MOD is normalised like a config module name ('-' to
//     '_', `[...]` kept); a name kmod's underscores() rejects (unbalanced ']') is reported
//     and dropped.
//   * The option text is `PARAM` or `PARAM=VALUE` verbatim (tabs inside become spaces, as
//     for every `options` entry).
// Both lists keep command-line order; modprobe-config appends them after all config files.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/diag.h"
#include "base/result.h"

namespace kmx {

// How config-layer diagnostics are worded. kmod 30 reports config problems from inside
// libkmod, before modprobe installs its logger, so they reach stderr as
// "libkmod: ERROR ../libkmod/libkmod-config.c:712 kmod_config_parse: <text>". `libkmod`
// puts that origin ("../libkmod/libkmod-config.c:712 kmod_config_parse: ") in front of the
// text so a tool can print "libkmod: ERROR " + msg and match kmod byte for byte; `plain`
// gives the text alone ("FILE line 3: ignoring bad line starting with 'foo'").
enum class ConfigDiagStyle { plain, libkmod };

// Builds one diagnostic text; kmod_line and kmod_fn name the ERR() site in kmod 30's
// libkmod-config.c (Debian build) that reports the same problem.
std::string config_diag_text(ConfigDiagStyle style, int kmod_line, const char *kmod_fn,
                             std::string_view text);

// An `options MOD TEXT` entry, from a config file or the kernel command line.
struct ModuleOption {
  std::string modname;
  std::string options;
  bool operator==(const ModuleOption &) const = default;
};

// kmod's underscores(): turns '-' into '_' except inside [...] (alias globs), in place.
// Returns false, leaving the name partly converted as kmod does, when a ']' has no '['
// or a '[' is never closed.
bool normalize_config_name(std::string &name);

// What the kernel command line contributes to the modprobe configuration.
struct KernelCmdlineConfig {
  std::vector<std::string> blacklists;
  std::vector<ModuleOption> options;
};

// kmod reads /proc/cmdline into a 4096-byte buffer: anything past 4095 bytes is ignored.
inline constexpr std::size_t kcmdline_max_bytes = 4095;

// Parses command-line text (as read from /proc/cmdline). Bad module names are reported to
// diag in kmod's words and skipped.
KernelCmdlineConfig parse_kernel_cmdline(std::string_view text, Diag &diag,
                                         ConfigDiagStyle style = ConfigDiagStyle::plain);

// Reads at most kcmdline_max_bytes of a /proc/cmdline-like file. Errc::not_found (with
// sys_errno) whenever it cannot be opened, which kmod silently skips; Errc::io when reading
// fails, which kmod reports.
Result<std::string> read_kernel_cmdline(const std::string &path);

}  // namespace kmx
