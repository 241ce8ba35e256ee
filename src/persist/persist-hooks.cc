#include "persist/persist-hooks.h"

#include <sys/stat.h>

#include <algorithm>
#include <ctime>

#include "persist/ondemand.h"
#include "elf/module-elf.h"
#include "persist/module-params.h"
#include "persist/param-baseline.h"

namespace kmx {
namespace {

std::string normalise(std::string s) {
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

// Errors of the store layer often start with "'FILE': "; the report names the file itself.
std::string strip_file(const std::string &msg, const std::string &file) {
  std::string prefix = "'" + file + "': ";
  if (msg.starts_with(prefix)) return msg.substr(prefix.size());
  return msg;
}

// Parameter names the module file declares (modinfo parmtype "NAME:TYPE").

}  // namespace

void PersistHooks::report(const std::string &file, const std::string &what) {
  if (report_) report_(file + ": " + strip_file(what, file));
}

const KmxConfig *PersistHooks::config() {
  if (!config_loaded_) {
    config_loaded_ = true;
    Result<KmxConfig> c = config_source_ ? config_source_() : Result<KmxConfig>(KmxConfig{});
    if (c) {
      config_ = std::move(*c);
    } else if (report_) {
      // A bad kmx.conf must not break a kmod-compatible tool: persistence and records are
      // off for this run, and the report says why.
      report_(c.error().msg);
    }
  }
  return config_ ? &*config_ : nullptr;
}

bool PersistHooks::persist_enabled() {
  const KmxConfig *c = config();
  return c && c->persist;
}

PersistStore *PersistHooks::store(bool create) {
  const KmxConfig *c = config();
  if (!c) return nullptr;
  if (store_ && (!create || !store_read_only_)) return &*store_;
  if (store_failed_) return nullptr;
  const std::string &path = c->persist_db;
  struct stat st;
  bool exists = ::stat(path.c_str(), &st) == 0;
  if (!exists && !create) return nullptr;
  if (store_ && store_read_only_) {
    // A write is needed now but the store only opened read-only: it cannot be written.
    report(path, "store is read-only");
    return nullptr;
  }
  if (read_only_) {
    if (create) return nullptr;
    Result<PersistStore> ro = PersistStore::open(path, OpenMode::read_only);
    if (!ro) {
      report(path, ro.error().msg);
      store_failed_ = true;
      return nullptr;
    }
    store_ = std::move(*ro);
    store_read_only_ = true;
    return &*store_;
  }
  Result<PersistStore> s = PersistStore::open(path, OpenMode::read_write, store_dir_policy(path));
  if (!s && exists && !create) {
    // A read-only /var can still be read (the stored values still apply).
    Result<PersistStore> ro = PersistStore::open(path, OpenMode::read_only);
    if (ro) {
      store_ = std::move(*ro);
      store_read_only_ = true;
      return &*store_;
    }
  }
  if (!s) {
    report(path, s.error().msg);
    store_failed_ = true;
    return nullptr;
  }
  store_ = std::move(*s);
  return &*store_;
}

std::vector<std::string> PersistHooks::stored_words(const std::string &module_in, const std::optional<std::string> &path,
                                                    const std::string &options) {
  if (!persist_enabled()) return {};
  PersistStore *s = store(false);
  if (!s) return {};
  Result<std::vector<std::string>> words = stored_to_apply(*s, normalise(module_in), path, options);
  if (!words) {
    report(s->path(), words.error().msg);
    return {};
  }
  return std::move(*words);
}

void PersistHooks::after_load(const std::string &module) {
  if (!persist_enabled()) return;
  Status st = write_baseline(baseline_dir_, roots_.sys, module);
  if (!st) report(baseline_dir_, st.error().msg);
}

Result<size_t> save_params_before_unload(const std::string &baseline_dir, const std::string &sys_root,
                                         const std::string &module, const std::function<PersistStore *()> &store,
                                         const std::function<void(const std::string &, const Error &)> &note) {
  std::optional<Error> baseline_error;
  auto changed = params_changed_since_load(baseline_dir, sys_root, module, &baseline_error);
  if (!changed && changed.error().code == Errc::not_found) return size_t{0};
  if (!changed) return fail(changed.error());
  if (baseline_error && note) note(baseline_dir, *baseline_error);  // saved as if there were none
  if (changed->empty()) return size_t{0};
  PersistStore *s = store();
  if (!s) return size_t{0};
  TRY(s->update_params(module, *changed));
  return changed->size();
}

void PersistHooks::before_unload(const std::string &module_in) {
  if (!persist_enabled()) return;
  std::string module = normalise(module_in);
  auto saved = save_params_before_unload(
      baseline_dir_, roots_.sys, module, [this] { return store(true); },
      [this](const std::string &where, const Error &e) { report(where, e.msg); });
  if (!saved) report(store_ ? store_->path() : roots_.sys + "/module/" + module, saved.error().msg);
}

void PersistHooks::after_unload(const std::string &module) {
  if (persist_enabled()) {
    Status st = remove_baseline(baseline_dir_, module);
    if (!st) report(baseline_dir_, st.error().msg);
  }
  forget_on_demand(module);
}

void PersistHooks::record_on_demand(const std::vector<std::string> &modules, const std::string &alias,
                                    const std::string &source, i64 pid, const std::string &comm) {
  if (modules.empty()) return;
  PersistStore *s = store(true);
  if (!s) return;
  OnDemandRecord rec;
  rec.alias = alias;
  rec.source = source;
  rec.pid = pid;
  rec.comm = comm;
  rec.boot_id = current_boot_id(roots_);
  rec.loaded = static_cast<i64>(std::time(nullptr));
  std::vector<OnDemandRecord> recs;
  for (const std::string &m : modules) {
    rec.module = normalise(m);
    recs.push_back(rec);
  }
  Status st = kmx::record_on_demand(*s, recs);
  if (!st) report(s->path(), st.error().msg);
}

void PersistHooks::forget_on_demand(const std::string &module) {
  if (!config()) return;
  PersistStore *s = store(false);
  if (!s) return;
  auto r = kmx::forget_on_demand(*s, normalise(module));
  if (!r) report(s->path(), r.error().msg);
}

}  // namespace kmx
