#include "daemon/autoclean.h"

#include <dirent.h>

#include <algorithm>

#include "kernel/net-links.h"

namespace kmx {
namespace {

// Symlinks in /sys/module/NAME/drivers/BUS:DRV/ other than "module" are bound devices.
i64 count_bound_devices(const KernelRoots &r, const std::string &module) {
  std::string drivers = r.sys + "/module/" + module + "/drivers";
  DIR *d = opendir(drivers.c_str());
  if (!d) return 0;
  i64 n = 0;
  while (struct dirent *e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    DIR *dd = opendir((drivers + "/" + e->d_name).c_str());
    if (!dd) continue;
    while (struct dirent *f = readdir(dd))
      if (f->d_type == DT_LNK && std::string_view(f->d_name) != "module") n++;
    closedir(dd);
  }
  closedir(d);
  return n;
}

}  // namespace

i64 count_net_links(const std::string &module, const std::vector<OnDemandRecord> &records,
                    const std::vector<std::string> &kinds) {
  std::vector<std::string> provided{module};
  for (const OnDemandRecord &rec : records)
    if (rec.module == module && rec.alias.starts_with("rtnl-link-")) provided.push_back(rec.alias.substr(10));
  i64 n = 0;
  for (const std::string &k : kinds)
    if (std::find(provided.begin(), provided.end(), k) != provided.end()) n++;
  return n;
}

Result<std::vector<ModuleUse>> read_module_uses(const KernelRoots &r, const std::vector<OnDemandRecord> &records) {
  TRY_ASSIGN(std::vector<LoadedModule> mods, loaded_modules(r));
  std::vector<std::string> kinds;
  if (auto k = net_link_kinds()) kinds = std::move(*k);
  std::vector<ModuleUse> out;
  out.reserve(mods.size());
  for (LoadedModule &m : mods) {
    ModuleUse u;
    u.name = m.name;
    u.refcnt = m.refcnt;
    u.holders = m.users;
    u.live = m.state == "Live";
    if (auto rc = module_refcnt(r, m.name)) u.refcnt = *rc;
    if (auto h = module_holders(r, m.name)) {
      for (std::string &name : *h)
        if (std::find(u.holders.begin(), u.holders.end(), name) == u.holders.end()) u.holders.push_back(std::move(name));
    }
    u.bound_devices = count_bound_devices(r, m.name);
    u.net_links = count_net_links(m.name, records, kinds);
    out.push_back(std::move(u));
  }
  return out;
}

bool module_in_use(const ModuleUse &u) {
  return u.refcnt != 0 || !u.holders.empty() || !u.live || u.bound_devices > 0 || u.net_links > 0;
}

i64 Autoclean::idle_period(const std::string &module) const {
  auto it = cfg_.module_idle.find(module);
  return it == cfg_.module_idle.end() ? cfg_.idle_seconds : it->second;
}

std::vector<std::string> Autoclean::observe(i64 now, const std::vector<OnDemandRecord> &records,
                                            const std::vector<ModuleUse> &uses) {
  std::map<std::string, const ModuleUse *> loaded;
  for (const ModuleUse &u : uses) loaded[u.name] = &u;

  std::set<std::string> candidates;
  for (const OnDemandRecord &r : records) {
    auto c = cancelled_.find(r.module);
    if (c != cancelled_.end()) {
      if (c->second == -1) c->second = r.loaded;  // the load that was current when cancelled
      if (c->second == r.loaded) continue;         // still that load
      cancelled_.erase(c);                  // loaded on demand again since
    }
    candidates.insert(r.module);
  }
  for (const auto &[m, t] : pending_) candidates.insert(m);

  // Forget modules that are gone or no longer candidates.
  for (auto it = idle_since_.begin(); it != idle_since_.end();) {
    if (!candidates.count(it->first) || !loaded.count(it->first)) it = idle_since_.erase(it);
    else ++it;
  }
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (!loaded.count(it->first)) it = pending_.erase(it);
    else ++it;
  }

  std::vector<std::string> release;
  for (const std::string &m : candidates) {
    auto l = loaded.find(m);
    if (l == loaded.end()) continue;
    bool explicit_request = pending_.count(m) > 0;
    if (!explicit_request && cfg_.keep.count(m)) continue;
    i64 idle = idle_period(m);
    if (idle == 0) {
      if (!explicit_request) continue;
      idle = cfg_.idle_seconds;
    }
    if (module_in_use(*l->second)) {
      idle_since_.erase(m);
      continue;
    }
    auto [it, inserted] = idle_since_.try_emplace(m, now);
    if (inserted && idle > 0) continue;
    if (now - it->second >= idle) release.push_back(m);
  }
  return release;
}

void Autoclean::release_when_idle(const std::string &module, i64 now) {
  pending_.try_emplace(module, now);
  cancelled_.erase(module);
}

bool Autoclean::cancel(const std::string &module) {
  bool had = pending_.erase(module) > 0;
  had = idle_since_.erase(module) > 0 || had;
  // Remember the cancel; observe() binds it (-1) to the load time of the module's current
  // record, so a later on-demand load makes the module a candidate again.
  cancelled_[module] = -1;
  return had;
}

void Autoclean::released(const std::string &module) {
  pending_.erase(module);
  idle_since_.erase(module);
}

i64 Autoclean::idle_for(const std::string &module, i64 now) const {
  auto it = idle_since_.find(module);
  return it == idle_since_.end() ? -1 : now - it->second;
}

std::vector<PendingRelease> Autoclean::pending() const {
  std::vector<PendingRelease> out;
  for (const auto &[m, t] : pending_) out.push_back({m, t});
  return out;
}

}  // namespace kmx
