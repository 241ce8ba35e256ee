#include "daemon/daemon.h"
#include "base/strings.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "daemon/coldplug.h"
#include "daemon/file-watch.h"
#include "persist/ondemand.h"
#include "daemon/pending-releases.h"
#include "daemon/request-queue.h"
#include "daemon/sd-notify.h"
#include "daemon/uevent.h"
#include "kernel/module-load.h"
#include "persist/module-params.h"
#include "lookup/remove-engine.h"
#include "persist/param-baseline.h"
#include "persist/persist-hooks.h"
#include "persist/persist-store.h"

namespace kmx {
namespace {

// Messages drained from the uevent socket before the queue is worked off and the control
// socket gets a turn; the kernel keeps the rest in the (large) receive buffer.
constexpr int kUeventBatch = 4096;

i64 now_seconds() { return static_cast<i64>(std::time(nullptr)); }

i64 monotonic_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Client {
  int fd = -1;
  PeerCred peer;
  std::string buf;
};

}  // namespace

struct Daemon::Impl {
  DaemonOptions opt;
  Log log;
  AliasLoader loader;
  DaemonState state;
  RequestQueue queue;
  std::optional<PersistStore> store;
  std::optional<UeventSource> uevents;
  std::string boot_id;
  // Loads recorded in memory: in a dry run, and while the store cannot be opened (they are
  // written to it once it opens).
  std::vector<OnDemandRecord> memory_records;
  bool store_unavailable_said = false;
  i64 store_retry_at = 0;
  std::vector<PendingRelease> saved_pending;
  // A driver that refuses the hardware (ENODEV) fails again on every event for its device;
  // each failure is logged once per index generation (the counter counts them all).
  std::set<std::string> failures_logged;
  i64 failures_generation = -1;
  int listen_fd = -1;
  std::vector<Client> clients;

  Impl(DaemonOptions o, Log l)
      : opt(std::move(o)), log(std::move(l)), loader(opt.loader, [this](const std::string &m) { say(m); }),
        state(opt.autoclean) {}
  // Owns the listening socket, the clients' sockets, batch_done_fd and the worker thread.
  Impl(const Impl &) = delete;
  Impl &operator=(const Impl &) = delete;

  ~Impl() {
    if (worker.joinable()) {
      loader.cancel();
      worker.join();
    }
    if (batch_done_fd >= 0) ::close(batch_done_fd);
    for (Client &c : clients) ::close(c.fd);
    if (listen_fd >= 0) {
      ::close(listen_fd);
      ::unlink(opt.control_socket.c_str());
    }
  }

  void say(const std::string &m) {
    if (log) log(m);
  }

  // ---- loading ----

  // A batch's loads are recorded together: one transaction (one fsync) per batch.
  void record(std::vector<OnDemandRecord> &pending, const std::string &module, const std::string &alias) {
    pending.push_back({module, alias, "uevent", 0, "uevent", boot_id, now_seconds()});
  }
  void flush_records(std::vector<OnDemandRecord> &pending) {
    if (pending.empty()) return;
    if (opt.loader.dry_run || !store) {
      memory_records.insert(memory_records.end(), pending.begin(), pending.end());
    } else if (Status st = record_on_demand(*store, pending); !st) {
      say("cannot record on-demand loads: " + st.error().msg);
    }
    pending.clear();
  }

  // ---- loading off the poll loop ----
  //
  // The waiting queue is one batch: resolved on the main thread (the indexes are its), then
  // loaded on a worker thread (which runs the load pool), so the loop keeps answering the
  // control socket and signals while an install command or a slow module load runs. One batch
  // is in flight at a time; requests arriving meanwhile form the next one. The worker writes to
  // batch_done_fd when done; finish_batch() (main thread) reports and records the outcome.

  struct InFlight {
    std::vector<LoadRequest> requests;
    std::shared_ptr<AliasLoader::Batch> batch;  // shared: the type is opaque here
    std::vector<LoadOutcome> outcomes;
  };
  std::optional<InFlight> inflight;
  std::thread worker;
  int batch_done_fd = -1;
  bool reload_pending = false;
  // inotify on the loader's files (daemon/file-watch.h); without it (inotify refused) every tick
  // compares the files' stamps instead.
  std::optional<FileWatch> watch;
  bool recheck_pending = false;  // files changed while a batch was in flight

  void start_batch() {
    if (inflight || queue.waiting() == 0) return;
    reopen_if_changed();
    InFlight f;
    while (auto req = queue.pop()) f.requests.push_back(std::move(*req));
    std::vector<std::string> aliases;
    for (const LoadRequest &r : f.requests) aliases.push_back(r.alias);
    f.batch = loader.resolve(aliases);
    inflight.emplace(std::move(f));
    worker = std::thread([this] {
      inflight->outcomes = loader.execute(*inflight->batch, opt.jobs);
      u64 one = 1;
      (void)!::write(batch_done_fd, &one, sizeof one);
    });
  }

  // Main thread, once the worker said it is done (or to wait for it).
  void finish_batch() {
    if (!inflight) return;
    worker.join();
    u64 n;
    (void)!::read(batch_done_fd, &n, sizeof n);
    InFlight f = std::move(*inflight);
    inflight.reset();
    report_batch(f.requests, f.outcomes);
    if (reload_pending) {
      reload_pending = false;
      reload_now();
    } else if (recheck_pending) {
      recheck_pending = false;
      reopen_if_changed();
    }
  }

  // Load everything queued and wait for it (coldplug, dry runs of a whole scan).
  void process_queue() {
    finish_batch();
    while (queue.waiting() > 0) {
      start_batch();
      finish_batch();
    }
  }

  void reopen_if_changed() {
    if (inflight) {
      recheck_pending = true;
      return;
    }
    if (auto what = loader.reload_if_changed()) {
      state.counters.index_reloads++;
      say(*what + ": reopened " + opt.loader.moddir + " and reread modprobe.d");
      rewatch();
    }
  }

  // The loader's files may be others after a reopen (a symlink retargeted, a directory made).
  void rewatch() {
    if (!watch) return;
    if (Status st = watch->watch(loader.watch_paths()); !st) say("watching for changes: " + st.error().msg);
  }

  void start_watch() {
    Result<FileWatch> w = FileWatch::open(loader.watch_paths());
    if (!w) {
      say("cannot watch the indexes and modprobe.d (" + w.error().msg + "): checking them every " +
          std::to_string(opt.tick_ms) + " ms instead");
      return;
    }
    watch.emplace(std::move(*w));
  }

  void report_batch(std::vector<LoadRequest> &batch, std::vector<LoadOutcome> &outs) {
    std::vector<OnDemandRecord> records;
    for (size_t i = 0; i < batch.size(); i++) {
      const LoadRequest *req = &batch[i];
      LoadOutcome &out = outs[i];
      for (const std::string &m : out.inserted) {
        state.counters.loads++;
        state.counters.module_loads[m]++;
        record(records, m, req->alias);
      }
      for (const std::string &m : out.commands) record(records, m, req->alias);
      if (!out.inserted.empty() || !out.commands.empty()) {
        std::string what = join(out.inserted, " ");
        if (!out.commands.empty()) what += (what.empty() ? "" : " ") + std::string("install-command:") + join(out.commands, " ");
        say(std::string(opt.loader.dry_run ? "would load " : "loaded ") + what + " for " + req->alias + " (" + req->source + ")");
      } else if (opt.verbose) {
        say(std::string(out.found ? "present " : "no module for ") + req->alias + " (" + req->source + ")");
      }
      for (const std::string &b : out.blacklisted)
        if (opt.verbose) say("blacklisted " + b + " for " + req->alias);
      if (failures_generation != loader.generation()) {
        failures_logged.clear();
        failures_generation = loader.generation();
      }
      for (const std::string &e : out.errors) {
        state.counters.load_errors++;
        if (failures_logged.insert(req->alias + "\n" + e).second || opt.verbose)
          say("load failed for " + req->alias + ": " + e);
      }
      state.counters.processed += queue.finish(req->alias);
    }
    flush_records(records);
    state.counters.merged = queue.counters().merged;
  }

  void push(const std::string &alias, const char *source) {
    state.counters.load_requests++;
    queue.push(alias, source);
  }

  Status coldplug(bool rescan) {
    i64 t0 = monotonic_ms();
    i64 loads0 = state.counters.loads;
    TRY_ASSIGN(ColdplugScan scan, scan_modaliases(opt.loader.roots.sys));
    for (const std::string &p : scan.problems) say("coldplug: " + p);
    size_t distinct = distinct_aliases(scan.devices).size();
    for (const DeviceAlias &d : scan.devices) push(d.modalias, rescan ? "rescan" : "coldplug");
    process_queue();
    if (rescan) state.counters.rescans++;
    say(std::string(rescan ? "rescan" : "coldplug") + ": " + std::to_string(scan.devices.size()) + " devices, " +
        std::to_string(distinct) + " distinct aliases, " + std::to_string(state.counters.loads - loads0) + " modules " +
        (opt.loader.dry_run ? "would load" : "loaded") + " in " + std::to_string(monotonic_ms() - t0) + " ms");
    return {};
  }

  // ---- uevents ----

  Status drain_uevents() {
    std::string buf;
    for (int i = 0; i < kUeventBatch; i++) {
      TRY_ASSIGN(UeventSource::Recv r, uevents->receive(buf));
      if (r == UeventSource::Recv::empty) break;
      if (r == UeventSource::Recv::ignored) {
        state.counters.uevents_ignored++;
        continue;
      }
      if (r == UeventSource::Recv::overflow) {
        state.counters.uevent_overflows++;
        say("uevent receive buffer overflowed (ENOBUFS, buffer " + std::to_string(uevents->rcvbuf()) +
            " bytes): the kernel dropped events; rescanning /sys/devices");
        process_queue();
        TRY(coldplug(true));
        continue;
      }
      auto ev = parse_uevent(ByteView(std::string_view(buf)));
      if (!ev) {
        state.counters.uevents_malformed++;
        say("malformed uevent ignored: " + ev.error().msg);
        continue;
      }
      state.counters.uevents++;
      // Only "add" loads: bind/change events after an unload must not bring a module back
      // (systemd PR#6802).
      if (ev->action == "add" && !ev->modalias.empty()) push(ev->modalias, "uevent");
    }
    start_batch();
    return {};
  }

  // ---- control ----

  void accept_clients() {
    for (;;) {
      int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) return;
      auto peer = peer_credentials(fd);
      if (!peer || peer->uid != state.allowed_uid) {
        PeerCred p = peer ? *peer : PeerCred{0, static_cast<uid_t>(-1), 0};
        std::string reply = handle_control_line(state, "", p) + "\n";
        (void)!::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        ::close(fd);
        continue;
      }
      clients.push_back({fd, *peer, {}});
    }
  }

  // Blocking write of a reply (clients are local and read their answers; a client that never
  // reads would fill at most one socket buffer).
  bool send_reply(int fd, const std::string &s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        struct pollfd p = {fd, POLLOUT, 0};
        if (::poll(&p, 1, 5000) <= 0) return false;
        continue;
      }
      if (n < 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  // Returns false when the client is done (closed, error or oversized request).
  bool serve_client(Client &c) {
    char chunk[4096];
    for (;;) {
      ssize_t n = ::recv(c.fd, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
      if (n == 0) return false;
      c.buf.append(chunk, static_cast<size_t>(n));
      size_t nl;
      while ((nl = c.buf.find('\n')) != std::string::npos) {
        std::string line = c.buf.substr(0, nl);
        c.buf.erase(0, nl + 1);
        std::string reply = handle_control_line(state, line, c.peer) + "\n";
        sync_pending();
        if (!send_reply(c.fd, reply)) return false;
      }
      if (c.buf.size() > kMaxControlRequest) {
        state.counters.bad_requests++;
        send_reply(c.fd, "{\"ok\":false,\"error\":\"request longer than " + std::to_string(kMaxControlRequest) + " bytes\"}\n");
        return false;
      }
    }
  }

  // ---- autoclean ----

  void sync_pending() {
    std::vector<PendingRelease> now = state.autoclean.pending();
    auto same = [](const std::vector<PendingRelease> &a, const std::vector<PendingRelease> &b) {
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); i++)
        if (a[i].module != b[i].module || a[i].requested != b[i].requested) return false;
      return true;
    };
    if (same(now, saved_pending)) return;
    if (store) {
      if (Status st = save_pending_releases(*store, boot_id, now); !st) {
        say("cannot save pending releases: " + st.error().msg);
        return;
      }
    }
    saved_pending = std::move(now);
  }

  // The writable parameters that differ from the baseline taken after the load (all of them
  // without one), as kmx rmmod/modprobe -r save them.
  void save_changed_params(const std::string &module) {
    auto saved = save_params_before_unload(opt.loader.baseline_dir, opt.loader.roots.sys, module,
                                           [this] { return &*store; });
    if (!saved) say("cannot save the parameters of " + module + " before unloading: " + saved.error().msg);
    else if (*saved) say("saved " + std::to_string(*saved) + " parameter(s) of " + module);
  }

  Status unload(const std::string &module) {
    if (opt.loader.dry_run) return fail(Errc::permission, "dry run: not unloading " + module);
    UnloadEffects fx;
    fx.remove = unload_module;
    fx.before = [this](const std::string &m) {
      if (store && opt.persist) save_changed_params(m);
    };
    fx.after = [this](const std::string &m) {
      if (store && opt.persist && !opt.loader.baseline_dir.empty()) (void)remove_baseline(opt.loader.baseline_dir, m);
      if (store) (void)forget_on_demand(*store, m);
    };
    if (int err = unload_with(module, O_NONBLOCK, {}, fx); err < 0)
      return fail_errno(-err, "delete_module: " + std::string(std::strerror(-err)));
    std::erase_if(memory_records, [&](const OnDemandRecord &r) { return r.module == module; });
    say("released " + module);
    return {};
  }

  void setup_state() {
    state.allowed_uid = geteuid();
    state.clock = now_seconds;
    state.records = [this]() -> Result<std::vector<OnDemandRecord>> {
      if (opt.loader.dry_run || !store) return memory_records;
      return on_demand_records(*store, boot_id);
    };
    state.uses = [this](const std::vector<OnDemandRecord> &records) { return read_module_uses(opt.loader.roots, records); };
    state.unload = [this](const std::string &m) { return unload(m); };
  }

  // The store never stops a load: when it cannot be opened (damaged, read-only, locked, a
  // directory that is not private) the daemon loads devices without it, keeping its on-demand
  // records in memory and neither saving nor applying parameters; it says so once and tries
  // again every store_retry_ms. When the store opens, the records kept meanwhile are written to
  // it and the pending releases it holds are merged with those made meanwhile.
  void open_store() {
    if (store || opt.db_path.empty() || opt.loader.dry_run) return;
    Result<std::vector<PendingRelease>> pend = fail(Errc::io, "");
    Result<PersistStore> s = PersistStore::open(opt.db_path, OpenMode::read_write, store_dir_policy(opt.db_path));
    if (s) pend = load_pending_releases(*s, boot_id);
    if (!s || !pend) {
      store_retry_at = monotonic_ms() + opt.store_retry_ms;
      if (!store_unavailable_said)
        say("persist store unavailable, loading without it (on-demand loads kept in memory, parameters neither saved nor applied); retrying every " +
            std::to_string(opt.store_retry_ms / 1000) + " s: " + (s ? pend.error().msg : s.error().msg));
      store_unavailable_said = true;
      return;
    }
    store.emplace(std::move(*s));
    loader.set_store(opt.persist ? &*store : nullptr);
    saved_pending = *pend;
    for (const PendingRelease &p : *pend) state.autoclean.release_when_idle(p.module, p.requested);
    size_t kept = memory_records.size();
    if (kept) {
      if (Status st = record_on_demand(*store, memory_records); !st) say("cannot record on-demand loads: " + st.error().msg);
      memory_records.clear();
    }
    sync_pending();
    if (store_unavailable_said)
      say("persist store " + opt.db_path + " opened; " + std::to_string(kept) + " on-demand load(s) made meanwhile recorded");
    if (!pend->empty()) say("restored " + std::to_string(pend->size()) + " pending release(s) from " + opt.db_path);
  }

  void tick() {
    if (!store && monotonic_ms() >= store_retry_at) open_store();
    if (!watch) reopen_if_changed();
    if (!opt.autoclean_enabled || opt.loader.dry_run) return;
    std::vector<std::string> released = autoclean_round(state);
    for (const std::string &m : released) say("autoclean: released " + m + " after " + std::to_string(state.autoclean.idle_period(m)) + " s idle");
    sync_pending();
  }

  void reload(int reload_fd) {
    char buf[512];
    while (::read(reload_fd, buf, sizeof buf) > 0) {
    }
    if (inflight) reload_pending = true;  // the batch in flight was resolved with the old ones
    else reload_now();
  }

  void notify(const std::string &state) {
    if (Status st = notify_service_manager(opt.notify_socket, state); !st) say(st.error().msg);
  }

  // kmx.conf again: what can change while running changes; what cannot is said.
  void reread_settings() {
    if (!opt.reread) return;
    Result<DaemonOptions> n = opt.reread();
    if (!n) {
      say("kmx.conf not reread: " + n.error().msg + "; the previous settings stay");
      return;
    }
    state.autoclean.reconfigure(n->autoclean);
    opt.autoclean = n->autoclean;
    loader.set_command_timeout_ms(n->loader.command_timeout_ms);
    opt.loader.command_timeout_ms = n->loader.command_timeout_ms;
    if (n->persist != opt.persist) {
      opt.persist = n->persist;
      loader.set_store(opt.persist && store ? &*store : nullptr);
    }
    if (n->db_path != opt.db_path) say("kmx.conf names another store (" + n->db_path + "): takes effect at restart");
    if (n->control_socket != opt.control_socket)
      say("kmx.conf names another control socket (" + n->control_socket + "): takes effect at restart");
    say("kmx.conf reread: idle " + std::to_string(opt.autoclean.idle_seconds) + " s, command-timeout " +
        std::to_string(opt.loader.command_timeout_ms / 1000) + " s, persist " + (opt.persist ? "on" : "off"));
  }

  void reload_now() {
    notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()));
    reread_settings();
    loader.open();
    rewatch();
    state.counters.index_reloads++;
    say("reload asked: reread modprobe.d and reopened " + opt.loader.moddir);
    if (!store) open_store();
    notify("READY=1");
  }

  // Stopping: install commands in flight are stopped, modules not yet started are not loaded;
  // what did load is still reported and recorded.
  void stop_batch() {
    if (!inflight) return;
    loader.cancel();
    finish_batch();
  }

  Status run(int stop_fd, int reload_fd) {
    batch_done_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (batch_done_fd < 0) return fail_errno(errno, std::string("eventfd: ") + std::strerror(errno));
    setup_state();
    boot_id = current_boot_id(opt.loader.roots);
    open_store();
    loader.open();
    if (!opt.coldplug_only) {
      start_watch();
      // Listen before the coldplug scan so that no device added meanwhile is missed.
      if (!opt.uevent_socket.empty()) {
        TRY_ASSIGN(UeventSource u, UeventSource::open_unix(opt.uevent_socket, opt.uevent_rcvbuf));
        uevents.emplace(std::move(u));
      } else {
        TRY_ASSIGN(UeventSource u, UeventSource::open_netlink(opt.uevent_rcvbuf));
        uevents.emplace(std::move(u));
      }
      TRY_ASSIGN(listen_fd, listen_control_socket(opt.control_socket));
      int fl = fcntl(listen_fd, F_GETFL);
      fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK);
      say("listening: uevents on " + (opt.uevent_socket.empty() ? std::string("netlink") : opt.uevent_socket) +
          " (receive buffer " + std::to_string(uevents->rcvbuf()) + " bytes), control on " + opt.control_socket);
    }
    if (opt.coldplug || opt.coldplug_only) TRY(coldplug(false));
    if (opt.coldplug_only) return {};
    notify("READY=1\nSTATUS=devices coldplugged; listening for uevents");

    i64 next_tick = monotonic_ms() + opt.tick_ms;
    for (;;) {
      std::vector<struct pollfd> fds;
      fds.push_back({stop_fd, POLLIN, 0});
      fds.push_back({uevents->fd(), POLLIN, 0});
      fds.push_back({listen_fd, POLLIN, 0});
      fds.push_back({reload_fd, POLLIN, 0});  // a negative fd is ignored by poll
      fds.push_back({batch_done_fd, POLLIN, 0});
      fds.push_back({watch ? watch->fd() : -1, POLLIN, 0});
      constexpr size_t first_client = 6;
      for (const Client &c : clients) fds.push_back({c.fd, POLLIN, 0});
      i64 wait = std::max<i64>(0, next_tick - monotonic_ms());
      int n = ::poll(fds.data(), fds.size(), static_cast<int>(wait));
      if (n < 0 && errno != EINTR) return fail_errno(errno, std::string("poll: ") + std::strerror(errno));
      if (n > 0) {
        if (fds[0].revents) {
          notify("STOPPING=1");
          stop_batch();
          return {};
        }
        if (fds[4].revents) {
          finish_batch();
          start_batch();
        }
        if (fds[1].revents) TRY(drain_uevents());
        if (fds[2].revents) accept_clients();
        if (fds[3].revents) reload(reload_fd);
        if (fds[5].revents && watch->drain()) reopen_if_changed();
        // fds[first_client + i] matches clients[i] as they were before accept_clients() appended.
        std::vector<Client> keep;
        for (size_t i = 0; i < clients.size(); i++) {
          bool alive = true;
          if (first_client + i < fds.size() && fds[first_client + i].revents) alive = serve_client(clients[i]);
          if (alive) keep.push_back(std::move(clients[i]));
          else ::close(clients[i].fd);
        }
        clients = std::move(keep);
      }
      if (monotonic_ms() >= next_tick) {
        tick();
        next_tick = monotonic_ms() + opt.tick_ms;
      }
    }
  }
};

Daemon::Daemon(DaemonOptions opt, Log log) : impl_(std::make_unique<Impl>(std::move(opt), std::move(log))) {}
Daemon::~Daemon() = default;

Status Daemon::run(int stop_fd, int reload_fd) { return impl_->run(stop_fd, reload_fd); }

const DaemonCounters &Daemon::counters() const { return impl_->state.counters; }

}  // namespace kmx
