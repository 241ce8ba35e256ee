// kmx's own configuration: /etc/kmx/kmx.conf, or the file the tools name ($KMX_CONFIG, tools/common.h).
//
// Format: text, one directive per line; '#' starts a comment anywhere on a line; blank lines
// are ignored; words are separated by spaces or tabs. Directives:
//
//   persist on|off                 save parameters at unload / apply them at load (default on)
//   persist-db PATH                the SQLite store (default /var/lib/kmx/persist.db;
//                                  $KMX_PERSIST_DB overrides both)
//   idle SECONDS                   autoclean idle period (default 60)
//   keep MODULE...                 never autocleaned (may repeat; lists accumulate)
//   idle-module MODULE SECONDS     per-module idle period; 0 = never autoclean it
//   control-socket PATH            the daemon's control socket (default /run/kmx/control)
//   kernel-check warn|strict       the kernel-install hook (kmx check --installed --hook) never
//                                  fails an installation (warn, default), or fails it when a
//                                  module is refused or missing (strict; "kernel-check = strict"
//                                  is read the same)
//   command-timeout SECONDS        the daemon stops an install command (its process group)
//                                  that runs longer (default 180, udev's event timeout)
//
// A later directive overrides an earlier one of the same kind (keep accumulates). MODULE names
// are normalised as kmod does ('-' -> '_'). PATHs are absolute. SECONDS is a decimal integer
// in [0, 31536000] (a year), except that `idle` must be at least 1.
//
// Any bad line (unknown directive, wrong word count, bad value) is an error naming
// "FILE:LINE: what is wrong"; a missing file means the defaults. This layer knows nothing of
// the daemon: daemon code converts KmxConfig into its AutocleanConfig.
//
// Version history: 1 (first format).
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/types.h"

namespace kmx {

inline constexpr const char *kDefaultKmxConfigPath = "/etc/kmx/kmx.conf";
inline constexpr const char *kDefaultKmxPersistDb = "/var/lib/kmx/persist.db";
inline constexpr const char *kDefaultKmxControlSocket = "/run/kmx/control";
inline constexpr i64 kDefaultKmxIdleSeconds = 60;
inline constexpr i64 kDefaultKmxCommandTimeout = 180;
inline constexpr i64 kMaxKmxSeconds = 31536000;

struct KmxConfig {
  std::string source;  // the file that was read; "" when none existed (defaults)
  bool persist = true;
  std::string persist_db = kDefaultKmxPersistDb;
  i64 idle_seconds = kDefaultKmxIdleSeconds;
  std::set<std::string> keep;              // normalised module names
  std::map<std::string, i64> module_idle;  // normalised module name -> seconds (0 = never)
  std::string control_socket = kDefaultKmxControlSocket;
  i64 command_timeout = kDefaultKmxCommandTimeout;
  bool kernel_check_strict = false;
};

// A number of seconds as kmx.conf and `kmx daemon --idle` take it: digits only, in
// [min, kMaxKmxSeconds].
Result<i64> parse_kmx_seconds(std::string_view w, i64 min);

// Parse the text of one config file into `cfg` (on top of what it holds). `filename` is only
// used in messages. Errc::invalid_argument, "FILE:LINE: ..." on the first bad line.
Status parse_kmx_config_text(KmxConfig &cfg, std::string_view text, const std::string &filename);

// Read `path` (missing: defaults, source ""), then apply `persist_db_override` when not empty.
// An unreadable file or a bad line is an error naming the file.
Result<KmxConfig> load_kmx_config(const std::string &path, const std::string &persist_db_override = {});

}  // namespace kmx
