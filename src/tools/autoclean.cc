// kmx autoclean: the client of `kmx daemon`'s control socket (daemon/control.h), i.e. kerneld's
// release_module, delayed_release_module and cancel_release_module, plus status.
//
//   kmx autoclean [--socket PATH] [--json] status
//   kmx autoclean [--socket PATH] release MODULE            unload now (waits for the result)
//   kmx autoclean [--socket PATH] release-when-idle MODULE  unload once idle for the idle period
//   kmx autoclean [--socket PATH] cancel MODULE             drop a pending release
//
// The socket is --socket, else kmx.conf's control-socket ($KMX_CONFIG or /etc/kmx/kmx.conf),
// else /run/kmx/control. Exit codes: 0 done, 1 the daemon refused (its reason is printed),
// 2 usage error or no daemon at the socket.
#include <getopt.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "config/kmx-config.h"
#include "tools/common.h"
#include "tools/tools.h"

namespace kmx {
namespace {

using json = nlohmann::json;

constexpr const char *kUsage =
    "Usage: kmx autoclean [--socket PATH] [--json] COMMAND\n"
    "Commands (served by a running `kmx daemon`):\n"
    "  status                      on-demand loads, pending releases, idle times, counters\n"
    "  release MODULE              unload MODULE now if unused (release_module)\n"
    "  release-when-idle MODULE    unload MODULE after the idle period (delayed_release_module)\n"
    "  cancel MODULE               drop a pending release of MODULE (cancel_release_module)\n";

int usage_error(const std::string &msg) { return kmx_usage_error("kmx autoclean", msg, kUsage); }

std::string when(i64 t) {
  if (t <= 0) return "-";
  time_t tt = static_cast<time_t>(t);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void print_status(const json &j) {
  std::printf("idle period: %lld s\n", static_cast<long long>(j.value("idle_seconds", 0LL)));
  const json &od = j["ondemand"];
  std::printf("on-demand modules: %zu\n", od.size());
  for (const json &r : od) {
    std::string m = r.value("module", "");
    std::string idle = "in use";
    if (j["idle"].contains(m)) idle = "idle " + std::to_string(j["idle"][m].get<long long>()) + " s";
    std::printf("  %-24s %-9s %s by %s (pid %lld)  %s\n", m.c_str(), r.value("source", "").c_str(),
                when(r.value("loaded", 0LL)).c_str(), r.value("comm", "").c_str(), static_cast<long long>(r.value("pid", 0LL)),
                idle.c_str());
    std::printf("  %-24s alias %s\n", "", r.value("alias", "").c_str());
  }
  const json &p = j["pending"];
  std::printf("pending releases: %zu\n", p.size());
  for (const json &r : p) std::printf("  %-24s requested %s\n", r.value("module", "").c_str(), when(r.value("requested", 0LL)).c_str());
  std::printf("counters:\n");
  for (auto it = j["counters"].begin(); it != j["counters"].end(); ++it)
    std::printf("  %-20s %lld\n", it.key().c_str(), static_cast<long long>(it.value().get<long long>()));
  if (j.contains("module_loads") && !j["module_loads"].empty()) {
    std::printf("loads per module:\n");
    for (auto it = j["module_loads"].begin(); it != j["module_loads"].end(); ++it)
      std::printf("  %-24s %lld\n", it.key().c_str(), static_cast<long long>(it.value().get<long long>()));
  }
}

}  // namespace

// How long the client waits for the daemon's answer (a release may wait for a module's exit).
constexpr time_t kReplyTimeoutSeconds = 30;

int autoclean_main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"socket", required_argument, nullptr, 's'},
      {"json", no_argument, nullptr, 'j'},
      {"help", no_argument, nullptr, 'h'},
      {"version", no_argument, nullptr, 'V'},
      {nullptr, 0, nullptr, 0},
  };
  std::string socket_path;
  bool raw = false;
  optind = 1;
  for (int c; (c = getopt_long(argc, argv, "+s:jhV", longopts, nullptr)) != -1;) {
    switch (c) {
    case 's': socket_path = optarg; break;
    case 'j': raw = true; break;
    case 'h': std::fputs(kUsage, stdout); return 0;
    case 'V': return print_kmx_version();
    default: std::fputs(kUsage, stderr); return 2;
    }
  }
  if (optind >= argc) return usage_error("no command");
  std::string cmd = argv[optind++];
  json req = {{"cmd", cmd}};
  if (cmd == "status") {
    if (optind != argc) return usage_error("status takes no argument");
  } else if (cmd == "release" || cmd == "release-when-idle" || cmd == "cancel") {
    if (optind + 1 != argc) return usage_error(cmd + " takes one MODULE");
    req["module"] = argv[optind];
  } else {
    return usage_error("unknown command '" + cmd + "'");
  }
  if (socket_path.empty()) {
    Result<KmxConfig> cfg = load_kmx_config_from_env();
    if (!cfg) {
      std::fprintf(stderr, "kmx autoclean: ERROR: %s\n", cfg.error().msg.c_str());
      return 2;
    }
    socket_path = cfg->control_socket;
  }

  struct sockaddr_un addr {};
  if (socket_path.size() >= sizeof addr.sun_path) return usage_error("socket path '" + socket_path + "' is too long");
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::fprintf(stderr, "kmx autoclean: ERROR: socket: %s\n", std::strerror(errno));
    return 2;
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  if (connect(fd, reinterpret_cast<struct sockaddr *>(&addr), sizeof addr) != 0) {
    int e = errno;
    std::fprintf(stderr, "kmx autoclean: ERROR: cannot reach kmx daemon at '%s': %s%s\n", socket_path.c_str(), std::strerror(e),
                 e == ENOENT || e == ECONNREFUSED ? " (is `kmx daemon` running?)" : "");
    ::close(fd);
    return 2;
  }
  std::string line = req.dump() + "\n";
  if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    std::fprintf(stderr, "kmx autoclean: ERROR: writing to '%s': %s\n", socket_path.c_str(), std::strerror(errno));
    ::close(fd);
    return 2;
  }
  // The daemon answers from its poll loop, which never waits for a load: a reply that takes
  // longer than this means the daemon is stuck, and the client says so instead of hanging.
  struct timeval tv = {kReplyTimeoutSeconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string reply;
  char buf[4096];
  bool timed_out = false;
  while (reply.find('\n') == std::string::npos) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) timed_out = true;
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  auto nl = reply.find('\n');
  if (nl == std::string::npos) {
    if (timed_out)
      std::fprintf(stderr, "kmx autoclean: ERROR: no reply from kmx daemon at '%s' within %d s\n", socket_path.c_str(),
                   static_cast<int>(kReplyTimeoutSeconds));
    else std::fprintf(stderr, "kmx autoclean: ERROR: no reply from kmx daemon at '%s'\n", socket_path.c_str());
    return 2;
  }
  reply.resize(nl);
  json j = json::parse(reply, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    std::fprintf(stderr, "kmx autoclean: ERROR: unreadable reply from '%s'\n", socket_path.c_str());
    return 2;
  }
  if (!j.value("ok", false)) {
    std::fprintf(stderr, "kmx autoclean: ERROR: %s\n", j.value("error", std::string("request refused")).c_str());
    return 1;
  }
  if (raw) {
    std::printf("%s\n", reply.c_str());
    return 0;
  }
  if (cmd == "status") print_status(j);
  else if (cmd == "release") std::printf("released %s\n", j.value("released", "").c_str());
  else if (cmd == "release-when-idle") std::printf("%s will be released once idle\n", j.value("pending", "").c_str());
  else std::printf("%s\n", j.value("was_pending", false) ? "cancelled" : "nothing was pending");
  return 0;
}

}  // namespace kmx
