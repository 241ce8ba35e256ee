// The daemon's control socket: a Unix stream socket (default /run/kmx/control, mode 0600) that
// only root may use; the peer's uid is checked with SO_PEERCRED on every connection, so a
// socket file with loose permissions still refuses others.
//
// Protocol: one JSON object per line in each direction (at most 4096 bytes per request).
//   {"cmd":"status"}                              -> {"ok":true,"ondemand":[...],"pending":[...],
//                                                     "idle":{...},"counters":{...}}
//   {"cmd":"release","module":"M"}                -> unload now if unused; replies after the
//                                                     unload with its result
//   {"cmd":"release-when-idle","module":"M"}      -> {"ok":true} (released after the idle period)
//   {"cmd":"cancel","module":"M"}                 -> {"ok":true,"was_pending":bool}
// A bad request gets {"ok":false,"error":"<what is wrong>"}; the connection stays open. Module
// names are checked against [A-Za-z0-9_-]{1,55} before anything else sees them, and nothing
// here ever runs a shell.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "daemon/autoclean.h"
#include "persist/ondemand.h"

namespace kmx {

inline constexpr const char *kDefaultControlSocket = "/run/kmx/control";
inline constexpr size_t kMaxControlRequest = 4096;

struct PeerCred {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

Result<PeerCred> peer_credentials(int fd);

struct ControlRequest {
  std::string cmd;
  std::string module;
};

Result<ControlRequest> parse_control_request(std::string_view line);

struct DaemonCounters {
  i64 requests = 0;       // control requests served
  i64 bad_requests = 0;
  i64 refused_peers = 0;
  i64 loads = 0;          // on-demand loads done by the daemon
  i64 releases = 0;       // modules unloaded by autoclean or a release command
  i64 release_failures = 0;
  // Filled by `kmx daemon` (status shows them; zero in library-only use).
  i64 uevents = 0;            // kernel uevents received and parsed
  i64 uevents_malformed = 0;  // refused by the parser
  i64 uevents_ignored = 0;    // not from the kernel, or truncated
  i64 uevent_overflows = 0;   // ENOBUFS: the kernel dropped events (each one triggers a rescan)
  i64 rescans = 0;            // coldplug scans after the first
  i64 load_requests = 0;      // aliases asked for (uevents with MODALIAS, coldplug devices)
  i64 merged = 0;             // requests merged into one already queued or in flight
  i64 processed = 0;          // requests completed (merged ones included)
  i64 load_errors = 0;
  i64 index_reloads = 0;      // indexes reopened after depmod replaced them
  std::map<std::string, i64> module_loads;  // module -> times the daemon loaded it
};

// What the control commands act on. The functions are injected so that tests run against fake
// /proc and /sys trees and a fake unload.
struct DaemonState {
  explicit DaemonState(AutocleanConfig cfg) : autoclean(std::move(cfg)) {}
  Autoclean autoclean;
  DaemonCounters counters;
  uid_t allowed_uid = 0;
  std::function<i64()> clock;
  std::function<Result<std::vector<OnDemandRecord>>()> records;
  // What the kernel shows of every loaded module; the records say which link kinds a module
  // was loaded for (autoclean.h: net_links).
  std::function<Result<std::vector<ModuleUse>>(const std::vector<OnDemandRecord> &)> uses;
  // Unload one module (the daemon saves its writable parameters first).
  std::function<Status(const std::string &)> unload;
};

// Release MODULE now: refused when it is not loaded or in use; otherwise unloaded through
// state.unload, and the autoclean state updated.
Status release_now(DaemonState &state, const std::string &module);

// One autoclean round: observe, then release what is due. Returns the modules released.
std::vector<std::string> autoclean_round(DaemonState &state);

// The reply line (without '\n') to one request line from `peer`.
std::string handle_control_line(DaemonState &state, std::string_view line, const PeerCred &peer);

// Serve one connected client until it closes: check its credentials once, then answer line by
// line. A refused peer gets one error line and the connection is closed.
Status serve_control_connection(DaemonState &state, int fd);

// Create the listening socket at `path` (its directory 0700, the socket 0600; a stale socket
// file is replaced).
Result<int> listen_control_socket(const std::string &path);

}  // namespace kmx
