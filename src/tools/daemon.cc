// kmx daemon: coldplug, hotplug and autoclean in one foreground process (daemon/daemon.h).
//
//   kmx daemon [--config FILE] [--db PATH] [--socket PATH] [--idle SECONDS] [--root DIR]
//              [-d DIR] [-S VERSION] [-C CONFIG]... [--no-coldplug | --coldplug-only]
//              [--dry-run] [--no-autoclean] [--uevent-socket PATH] [--uevent-rcvbuf BYTES]
//              [-j N] [-v]
//
// --config: kmx.conf (default $KMX_CONFIG or /etc/kmx/kmx.conf): persist, persist-db, idle, keep,
// idle-module, control-socket, command-timeout; the command-line options override it. --root: where /sys and
// /proc are (tests); -d/-S: the module tree (as modprobe's -d and -S); -C: modprobe.d paths
// instead of the defaults (as modprobe -C). --uevent-socket: read uevents from a Unix datagram
// socket bound at PATH instead of the kernel's netlink socket (tests and benchmarks). -j: load
// workers (default: one more than the online CPUs; 1 loads one module at a time, each where kmod
// would; with more, independent requests load side by side and a lookup's dependencies may load
// early).
//
// One line per action on stderr ("kmx daemon: ..."). SIGHUP rereads modprobe.d and reopens the
// indexes. SIGTERM/SIGINT end it cleanly (the control socket is removed). Exit codes: 0 clean exit, 1 error, 2 usage error.
#include <getopt.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>

#include "config/kmx-config.h"
#include "daemon/daemon.h"
#include "persist/param-baseline.h"
#include "tools/common.h"
#include "tools/tools.h"

namespace kmx {
namespace {

constexpr const char *kUsage =
    "Usage: kmx daemon [OPTIONS]\n"
    "Load modules for devices (coldplug at start, then uevents), release idle on-demand modules.\n"
    "Options:\n"
    "  --config FILE         kmx.conf to read (default $KMX_CONFIG or /etc/kmx/kmx.conf)\n"
    "  --db PATH             persist store (default from kmx.conf, /var/lib/kmx/persist.db)\n"
    "  --socket PATH         control socket (default from kmx.conf, /run/kmx/control)\n"
    "  --idle SECONDS        autoclean idle period (default from kmx.conf, 60)\n"
    "  --root DIR            read DIR/sys and DIR/proc instead of /sys and /proc\n"
    "  -d, --dirname DIR     module tree root, as modprobe -d (modules in DIR/lib/modules/VERSION)\n"
    "  -S, --set-version V   kernel release (default: uname -r)\n"
    "  -C, --config-dir P    modprobe.d file or directory instead of the defaults (repeatable)\n"
    "  --no-coldplug         do not scan /sys/devices at start\n"
    "  --coldplug-only       scan /sys/devices, load, and exit\n"
    "  --dry-run             resolve and log what would load; load and unload nothing\n"
    "  --no-autoclean        never release modules\n"
    "  --store-retry SECONDS when the persist store cannot be opened, load without it and retry\n"
    "                        every SECONDS (default 30)\n"
    "  --uevent-socket PATH  read uevents from a Unix datagram socket at PATH (tests)\n"
    "  --uevent-rcvbuf BYTES uevent socket receive buffer (default 128 MiB; small ones test overflow)\n"
    "  -j, --jobs N          load up to N modules at a time (default: online CPUs + 1)\n"
    "  -v, --verbose         also log aliases with no module, or already loaded\n"
    "  -h, --help            this text\n"
    "  -V, --version         kmx's version\n";

int usage_error(const std::string &msg) { return kmx_usage_error("kmx daemon", msg, kUsage); }

// Blocks `signals` and returns a non-blocking signalfd that receives them (-1, errno set, on
// failure).
int blocked_signal_fd(std::initializer_list<int> signals) {
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : signals) sigaddset(&mask, s);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  return signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
}


}  // namespace

int daemon_main(int argc, char **argv) {
  enum {
    OPT_CONFIG = 1000, OPT_DB, OPT_SOCKET, OPT_IDLE, OPT_ROOT, OPT_NO_COLDPLUG, OPT_COLDPLUG_ONLY, OPT_DRY_RUN,
    OPT_NO_AUTOCLEAN, OPT_UEVENT_SOCKET, OPT_UEVENT_RCVBUF, OPT_STORE_RETRY
  };
  unsigned jobs = 0;
  static const struct option longopts[] = {
      {"config", required_argument, nullptr, OPT_CONFIG},
      {"db", required_argument, nullptr, OPT_DB},
      {"socket", required_argument, nullptr, OPT_SOCKET},
      {"idle", required_argument, nullptr, OPT_IDLE},
      {"root", required_argument, nullptr, OPT_ROOT},
      {"dirname", required_argument, nullptr, 'd'},
      {"set-version", required_argument, nullptr, 'S'},
      {"config-dir", required_argument, nullptr, 'C'},
      {"no-coldplug", no_argument, nullptr, OPT_NO_COLDPLUG},
      {"coldplug-only", no_argument, nullptr, OPT_COLDPLUG_ONLY},
      {"dry-run", no_argument, nullptr, OPT_DRY_RUN},
      {"no-autoclean", no_argument, nullptr, OPT_NO_AUTOCLEAN},
      {"store-retry", required_argument, nullptr, OPT_STORE_RETRY},
      {"uevent-socket", required_argument, nullptr, OPT_UEVENT_SOCKET},
      {"uevent-rcvbuf", required_argument, nullptr, OPT_UEVENT_RCVBUF},
      {"jobs", required_argument, nullptr, 'j'},
      {"verbose", no_argument, nullptr, 'v'},
      {"help", no_argument, nullptr, 'h'},
      {"version", no_argument, nullptr, 'V'},
      {nullptr, 0, nullptr, 0},
  };
  std::string config_path, db, socket_path, root, dirname, version, uevent_socket;
  std::vector<std::string> modprobe_paths;
  i64 idle = -1, store_retry = -1;
  int rcvbuf = 0;
  bool no_coldplug = false, coldplug_only = false, dry_run = false, no_autoclean = false, verbose = false;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "d:S:C:j:vhV", longopts, nullptr)) != -1;) {
    switch (c) {
    case OPT_CONFIG: config_path = optarg; break;
    case OPT_DB: db = optarg; break;
    case OPT_SOCKET: socket_path = optarg; break;
    case OPT_IDLE:
      if (auto v = parse_kmx_seconds(optarg, 1)) idle = *v;
      else return usage_error(std::string("--idle '") + optarg + "' is not a number of seconds in [1, 31536000]");
      break;
    case OPT_STORE_RETRY:
      if (auto v = parse_kmx_seconds(optarg, 1)) store_retry = *v;
      else return usage_error(std::string("--store-retry '") + optarg + "' is not a number of seconds in [1, 31536000]");
      break;
    case OPT_ROOT: root = optarg; break;
    case 'd': dirname = optarg; break;
    case 'S': version = optarg; break;
    case 'C': modprobe_paths.emplace_back(optarg); break;
    case OPT_NO_COLDPLUG: no_coldplug = true; break;
    case OPT_COLDPLUG_ONLY: coldplug_only = true; break;
    case OPT_DRY_RUN: dry_run = true; break;
    case OPT_NO_AUTOCLEAN: no_autoclean = true; break;
    case OPT_UEVENT_SOCKET: uevent_socket = optarg; break;
    case OPT_UEVENT_RCVBUF: {
      std::string_view v = optarg;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), rcvbuf);
      if (ec != std::errc() || p != v.data() + v.size() || rcvbuf < 1024 || rcvbuf > (1 << 30))
        return usage_error(std::string("--uevent-rcvbuf '") + optarg + "' is not a byte count in [1024, 1073741824]");
      break;
    }
    case 'j': {
      std::string_view v = optarg;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), jobs);
      if (ec != std::errc() || p != v.data() + v.size() || jobs < 1 || jobs > 256)
        return usage_error(std::string("--jobs '") + optarg + "' is not a number in [1, 256]");
      break;
    }
    case 'v': verbose = true; break;
    case 'h': std::fputs(kUsage, stdout); return 0;
    case 'V': return print_kmx_version();
    default: std::fputs(kUsage, stderr); return 2;
    }
  }
  if (optind < argc) return usage_error(std::string("unexpected argument '") + argv[optind] + "'");
  if (no_coldplug && coldplug_only) return usage_error("--no-coldplug and --coldplug-only exclude each other");

  // A --config that names no file is a mistake, not a request for the defaults.
  if (struct stat cst; !config_path.empty() && ::stat(config_path.c_str(), &cst) != 0) {
    std::fprintf(stderr, "kmx daemon: ERROR: --config '%s': %s\n", config_path.c_str(), std::strerror(errno));
    return 1;
  }
  Result<KmxConfig> cfg = config_path.empty() ? load_kmx_config_from_env() : load_kmx_config(config_path);
  if (!cfg) {
    std::fprintf(stderr, "kmx daemon: ERROR: %s\n", cfg.error().msg.c_str());
    return 1;
  }

  DaemonOptions opt;
  opt.loader.roots.sys = root + "/sys";
  opt.loader.roots.proc = root + "/proc";
  if (!dirname.empty()) opt.loader.roots.modules = dirname + "/lib/modules";
  opt.loader.moddir = module_dir(dirname, version);
  if (!opt.loader.moddir.empty() && opt.loader.moddir[0] != '/') {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd)) opt.loader.moddir = std::string(cwd) + "/" + opt.loader.moddir;
  }
  opt.loader.config.config_paths = modprobe_paths;
  opt.loader.config.kcmdline_path = opt.loader.roots.proc + "/cmdline";
  opt.loader.dry_run = dry_run;
  // kmx.conf's settings, the command line's overrides on top: at start and at each reload.
  auto settings = [=](const KmxConfig &c, DaemonOptions &o) {
    o.autoclean.idle_seconds = idle > 0 ? idle : c.idle_seconds;
    o.autoclean.keep = c.keep;
    o.autoclean.module_idle = c.module_idle;
    o.loader.command_timeout_ms = c.command_timeout * 1000;
    o.loader.environment = environ;
    o.db_path = db.empty() ? c.persist_db : db;
    o.persist = c.persist;
    o.control_socket = socket_path.empty() ? c.control_socket : socket_path;
  };
  settings(*cfg, opt);
  opt.reread = [=]() -> Result<DaemonOptions> {
    TRY_ASSIGN(KmxConfig c, config_path.empty() ? load_kmx_config_from_env() : load_kmx_config(config_path));
    DaemonOptions o;
    settings(c, o);
    return o;
  };
  if (store_retry > 0) opt.store_retry_ms = store_retry * 1000;
  // Type=notify: systemd names its socket in the environment (read here, the tools' layer).
  if (const char *ns = std::getenv("NOTIFY_SOCKET"); ns && *ns) opt.notify_socket = ns;
  if (opt.persist) opt.loader.baseline_dir = baseline_dir_from_env();
  opt.uevent_socket = uevent_socket;
  if (rcvbuf > 0) opt.uevent_rcvbuf = rcvbuf;
  opt.coldplug = !no_coldplug;
  opt.coldplug_only = coldplug_only;
  opt.autoclean_enabled = !no_autoclean;
  opt.verbose = verbose;
  opt.jobs = jobs;

  // SIGTERM/SIGINT (stop) and SIGHUP (reread modprobe.d, as for most daemons) arrive on
  // descriptors the poll loop watches; SIGPIPE never kills us.
  signal(SIGPIPE, SIG_IGN);
  int sfd = blocked_signal_fd({SIGTERM, SIGINT});
  int hfd = sfd < 0 ? -1 : blocked_signal_fd({SIGHUP});
  if (sfd < 0 || hfd < 0) {
    std::fprintf(stderr, "kmx daemon: ERROR: signalfd: %s\n", std::strerror(errno));
    if (sfd >= 0) ::close(sfd);
    return 1;
  }

  Daemon d(opt, [](const std::string &m) { std::fprintf(stderr, "kmx daemon: %s\n", m.c_str()); });
  Status st = d.run(sfd, hfd);
  ::close(hfd);
  if (!st) {
    std::fprintf(stderr, "kmx daemon: ERROR: %s\n", st.error().msg.c_str());
    ::close(sfd);
    return 1;
  }
  struct signalfd_siginfo si {};
  if (::read(sfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si))
    std::fprintf(stderr, "kmx daemon: exiting on %s\n", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
  ::close(sfd);
  const DaemonCounters &c = d.counters();
  std::fprintf(stderr, "kmx daemon: totals: %lld uevents, %lld load requests (%lld merged, %lld processed), %lld modules %s, %lld released\n",
               static_cast<long long>(c.uevents), static_cast<long long>(c.load_requests), static_cast<long long>(c.merged),
               static_cast<long long>(c.processed), static_cast<long long>(c.loads), dry_run ? "would load" : "loaded",
               static_cast<long long>(c.releases));
  return 0;
}

}  // namespace kmx
