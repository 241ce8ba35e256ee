// Fuzz target for the config layer: the input is read both as a modprobe.d file and as a
// kernel command line, and the merged result is formatted as `modprobe -c` does. Checks
// that hostile text never crashes, and that every parsed module name came out normalised.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/cmdline.h"
#include "config/modprobe-config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  kmx::Diag diag;
  kmx::ModprobeConfig cfg;
  kmx::parse_modprobe_config_text(cfg, text, "fuzz.conf", diag, kmx::ConfigDiagStyle::libkmod);
  // As modules.softdep is read: one directive only, the rest warned about.
  kmx::ModprobeConfig only;
  kmx::parse_modprobe_config_text(only, text, "modules.softdep", diag, kmx::ConfigDiagStyle::libkmod, "softdep");
  if (!only.install_commands.empty() || !only.aliases.empty() || !only.options.empty()) std::abort();
  kmx::apply_kernel_cmdline(cfg, kmx::parse_kernel_cmdline(text, diag));
  std::string shown = kmx::format_modprobe_config(cfg, kmx::ShowForbidden::yes);
  if (shown.size() < 40) std::abort();  // the end-of-config marker is always there
  for (const kmx::ModprobeAlias &a : cfg.aliases) {
    std::string n = a.modname;
    if (!kmx::normalize_config_name(n) || n != a.modname) std::abort();
  }
  (void)cfg.options_for("a");
  (void)cfg.softdep_for("a");
  (void)cfg.aliases_matching("a");
  return 0;
}
