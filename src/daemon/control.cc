#include "daemon/control.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/dirs.h"
#include "persist/persist-store.h"

namespace kmx {
namespace {

using json = nlohmann::json;

std::string error_reply(const std::string &msg) { return json{{"ok", false}, {"error", msg}}.dump(); }

Status write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, std::string("control socket write: ") + std::strerror(errno));
    }
    s.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

const ModuleUse *find_use(const std::vector<ModuleUse> &uses, const std::string &m) {
  for (const ModuleUse &u : uses)
    if (u.name == m) return &u;
  return nullptr;
}

}  // namespace

Result<PeerCred> peer_credentials(int fd) {
  struct ucred uc {};
  socklen_t len = sizeof uc;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0)
    return fail_errno(errno, std::string("SO_PEERCRED: ") + std::strerror(errno));
  return PeerCred{uc.pid, uc.uid, uc.gid};
}

Result<ControlRequest> parse_control_request(std::string_view line) {
  if (line.size() > kMaxControlRequest)
    return fail(Errc::invalid_argument, "request longer than " + std::to_string(kMaxControlRequest) + " bytes");
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded()) return fail(Errc::invalid_argument, "request is not valid JSON");
  if (!j.is_object()) return fail(Errc::invalid_argument, "request is not a JSON object");
  auto cmd = j.find("cmd");
  if (cmd == j.end() || !cmd->is_string()) return fail(Errc::invalid_argument, "request has no string \"cmd\"");
  ControlRequest r;
  r.cmd = cmd->get<std::string>();
  static const char *const known[] = {"status", "release", "release-when-idle", "cancel"};
  if (std::find(std::begin(known), std::end(known), r.cmd) == std::end(known))
    return fail(Errc::invalid_argument, "unknown command \"" + r.cmd + "\" (status, release, release-when-idle, cancel)");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "cmd" && it.key() != "module") return fail(Errc::invalid_argument, "unknown field \"" + it.key() + "\"");
  auto mod = j.find("module");
  if (r.cmd == "status") {
    if (mod != j.end()) return fail(Errc::invalid_argument, "status takes no \"module\"");
    return r;
  }
  if (mod == j.end() || !mod->is_string()) return fail(Errc::invalid_argument, r.cmd + " needs a string \"module\"");
  r.module = mod->get<std::string>();
  TRY(validate_module_name(r.module));
  for (char &c : r.module)
    if (c == '-') c = '_';
  return r;
}

namespace {

// The loaded modules' use, or "MODULE is not loaded" when `module` is not among them (also
// when the kernel lists no modules at all: no /proc/modules).
Result<std::vector<ModuleUse>> uses_with(DaemonState &state, const std::string &module) {
  auto records = state.records();
  Result<std::vector<ModuleUse>> uses = state.uses(records ? *records : std::vector<OnDemandRecord>{});
  if (!uses && uses.error().code == Errc::not_found)
    return fail(Errc::not_found, "module " + module + " is not loaded (" + uses.error().msg + ")");
  if (!uses) return uses;
  if (!find_use(*uses, module)) return fail(Errc::not_found, "module " + module + " is not loaded");
  return uses;
}

}  // namespace

Status release_now(DaemonState &state, const std::string &module) {
  TRY_ASSIGN(std::vector<ModuleUse> uses, uses_with(state, module));
  const ModuleUse *u = find_use(uses, module);
  if (module_in_use(*u)) {
    std::string why = "module " + module + " is in use (refcnt " + std::to_string(u->refcnt);
    if (!u->holders.empty()) {
      why += ", holders";
      for (const std::string &h : u->holders) why += " " + h;
    }
    if (u->bound_devices > 0) why += ", " + std::to_string(u->bound_devices) + " bound device(s)";
    if (u->net_links > 0) why += ", " + std::to_string(u->net_links) + " network link(s)";
    if (!u->live) why += ", not live";
    return fail(Errc::busy, why + ")");
  }
  Status st = state.unload(module);
  if (!st) {
    state.counters.release_failures++;
    return st;
  }
  state.counters.releases++;
  state.autoclean.released(module);
  return {};
}

std::vector<std::string> autoclean_round(DaemonState &state) {
  std::vector<std::string> done;
  auto records = state.records();
  if (!records) return done;
  auto uses = state.uses(*records);
  if (!uses) return done;
  for (const std::string &m : state.autoclean.observe(state.clock(), *records, *uses)) {
    if (release_now(state, m)) done.push_back(m);
    else state.autoclean.released(m);  // restart its clock rather than retrying in a loop
  }
  return done;
}

std::string handle_control_line(DaemonState &state, std::string_view line, const PeerCred &peer) {
  if (peer.uid != state.allowed_uid) {
    state.counters.refused_peers++;
    return error_reply("permission denied: uid " + std::to_string(peer.uid) + " may not use this socket");
  }
  state.counters.requests++;
  auto req = parse_control_request(line);
  if (!req) {
    state.counters.bad_requests++;
    return error_reply(req.error().msg);
  }
  i64 now = state.clock();
  if (req->cmd == "status") {
    json ondemand = json::array();
    auto records = state.records();
    if (records)
      for (const OnDemandRecord &r : *records)
        ondemand.push_back({{"module", r.module}, {"alias", r.alias}, {"source", r.source}, {"pid", r.pid},
                            {"comm", r.comm}, {"loaded", r.loaded}});
    json pending = json::array();
    for (const PendingRelease &p : state.autoclean.pending()) pending.push_back({{"module", p.module}, {"requested", p.requested}});
    json idle = json::object();
    if (records)
      for (const OnDemandRecord &r : *records)
        if (i64 s = state.autoclean.idle_for(r.module, now); s >= 0) idle[r.module] = s;
    const DaemonCounters &c = state.counters;
    json reply = {{"ok", true},
                  {"ondemand", ondemand},
                  {"pending", pending},
                  {"idle", idle},
                  {"idle_seconds", state.autoclean.config().idle_seconds},
                  {"counters",
                   {{"requests", c.requests},
                    {"bad_requests", c.bad_requests},
                    {"refused_peers", c.refused_peers},
                    {"loads", c.loads},
                    {"releases", c.releases},
                    {"release_failures", c.release_failures},
                    {"uevents", c.uevents},
                    {"uevents_malformed", c.uevents_malformed},
                    {"uevents_ignored", c.uevents_ignored},
                    {"uevent_overflows", c.uevent_overflows},
                    {"rescans", c.rescans},
                    {"load_requests", c.load_requests},
                    {"merged", c.merged},
                    {"processed", c.processed},
                    {"load_errors", c.load_errors},
                    {"index_reloads", c.index_reloads}}},
                  {"module_loads", c.module_loads}};
    if (!records) reply["records_error"] = records.error().msg;
    return reply.dump();
  }
  if (req->cmd == "release") {
    Status st = release_now(state, req->module);
    if (!st) return error_reply(st.error().msg);
    return json{{"ok", true}, {"released", req->module}}.dump();
  }
  if (req->cmd == "release-when-idle") {
    if (auto uses = uses_with(state, req->module); !uses) return error_reply(uses.error().msg);
    state.autoclean.release_when_idle(req->module, now);
    return json{{"ok", true}, {"pending", req->module}}.dump();
  }
  // cancel
  bool was = state.autoclean.cancel(req->module);
  return json{{"ok", true}, {"was_pending", was}}.dump();
}

Status serve_control_connection(DaemonState &state, int fd) {
  TRY_ASSIGN(PeerCred peer, peer_credentials(fd));
  if (peer.uid != state.allowed_uid) {
    std::string reply = handle_control_line(state, "", peer) + "\n";
    return write_all(fd, reply);
  }
  std::string buf;
  char chunk[1024];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, std::string("control socket read: ") + std::strerror(errno));
    }
    if (n == 0) return {};
    buf.append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      TRY(write_all(fd, handle_control_line(state, line, peer) + "\n"));
    }
    if (buf.size() > kMaxControlRequest) {
      state.counters.bad_requests++;
      TRY(write_all(fd, error_reply("request longer than " + std::to_string(kMaxControlRequest) + " bytes") + "\n"));
      return {};  // the rest of an oversized line cannot be resynchronised; close
    }
  }
}

Result<int> listen_control_socket(const std::string &path) {
  struct sockaddr_un addr {};
  if (path.size() >= sizeof addr.sun_path) return fail(Errc::invalid_argument, "socket path '" + path + "' is too long");
  auto slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    std::string dir = path.substr(0, slash);
    struct stat st;
    if (stat(dir.c_str(), &st) != 0) TRY(make_private_dirs(dir));
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail_errno(errno, std::string("socket: ") + std::strerror(errno));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ::unlink(path.c_str());
  mode_t old = umask(0177);
  int rc = bind(fd, reinterpret_cast<struct sockaddr *>(&addr), sizeof addr);
  int err = errno;
  umask(old);
  if (rc != 0 || listen(fd, 64) != 0) {
    if (rc == 0) err = errno;
    ::close(fd);
    return fail_errno(err, "could not listen on '" + path + "': " + std::strerror(err));
  }
  return fd;
}

}  // namespace kmx
