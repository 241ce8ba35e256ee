#include "compat/abi-diff.h"

#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "base/parallel.h"

namespace kmx {

namespace {

std::string opt_hex(const std::optional<u64> &v) { return v ? fmt::format("0x{:08x}", *v) : "unknown"; }

}  // namespace

std::string license_name(ExportLicense l) {
  switch (l) {
  case ExportLicense::plain: return "EXPORT_SYMBOL";
  case ExportLicense::gpl: return "EXPORT_SYMBOL_GPL";
  case ExportLicense::gpl_future: return "EXPORT_SYMBOL_GPL_FUTURE";
  }
  return "?";
}

AbiDiff abi_diff(const KernelProfile &a, const KernelProfile &b) {
  AbiDiff d;
  auto fact = [&](const char *name, std::string x, std::string y) {
    if (x != y) d.facts.push_back(FactChange{name, std::move(x), std::move(y)});
  };
  fact("release", a.release, b.release);
  fact("struct module size",
       a.this_module_size ? fmt::format("{:#x}", *a.this_module_size) : "unknown",
       b.this_module_size ? fmt::format("{:#x}", *b.this_module_size) : "unknown");
  fact("vermagic", a.vermagic.value_or("unknown"), b.vermagic.value_or("unknown"));
  auto onoff = [](std::optional<bool> v) { return v ? (*v ? "on" : "off") : "unknown"; };
  fact("modversions", onoff(a.modversions()), onoff(b.modversions()));
  fact("module_layout CRC", opt_hex(a.module_layout_crc), opt_hex(b.module_layout_crc));

  for (const auto *k : {&a, &b})
    if (!k->vmlinux_exports_known)
      d.notes.push_back(fmt::format("vmlinux's exports of {} are not known (give its Module.symvers or System.map): "
                                    "only exports both sides know are compared",
                                    k->release.empty() ? (k == &a ? "OLD" : "NEW") : k->release));
  bool both_licences = a.exports_have_licence && b.exports_have_licence;
  for (const auto &[name, ea] : a.exports) {
    auto it = b.exports.find(name);
    if (it == b.exports.end()) {
      if (!b.vmlinux_exports_known) d.not_comparable++;  // may be in NEW's vmlinux
      else d.exports.push_back(ExportChange{name, "removed", ea.owner, ""});
      continue;
    }
    const KernelExport &eb = it->second;
    if (ea.crc && eb.crc && *ea.crc != *eb.crc)
      d.exports.push_back(ExportChange{name, "crc", opt_hex(ea.crc), opt_hex(eb.crc)});
    if (!ea.crc || !eb.crc) d.crcs_known = false;
    if (ea.ns != eb.ns) d.exports.push_back(ExportChange{name, "namespace", ea.ns, eb.ns});
    if (both_licences && ea.license != eb.license)
      d.exports.push_back(ExportChange{name, "licence", license_name(ea.license), license_name(eb.license)});
    if (ea.owner != eb.owner) d.exports.push_back(ExportChange{name, "owner", ea.owner, eb.owner});
  }
  for (const auto &[name, eb] : b.exports)
    if (!a.exports.contains(name)) {
      if (!a.vmlinux_exports_known) d.not_comparable++;  // may be in OLD's vmlinux
      else d.exports.push_back(ExportChange{name, "added", "", eb.owner});
    }
  std::sort(d.exports.begin(), d.exports.end(), [](const ExportChange &x, const ExportChange &y) {
    return std::tie(x.symbol, x.kind) < std::tie(y.symbol, y.kind);
  });
  return d;
}

size_t AbiExplanation::count(const std::string &category) const {
  return size_t(std::count_if(changed.begin(), changed.end(), [&](const ExplainedExport &e) { return e.category == category; }));
}

namespace {

// The BTF of each module that owns a compared export, read in parallel; a module without
// readable BTF maps to null and a note says why.
std::unordered_map<std::string, BtfPtr> module_btfs(const KernelProfile &k, const std::set<std::string> &owners,
                                                    const BtfPtr &base, const std::string &side,
                                                    std::vector<std::string> &notes) {
  std::vector<std::string> names(owners.begin(), owners.end());
  std::vector<Result<BtfPtr>> slots(names.size(), fail(Errc::not_found, ""));
  parallel_for_each(names.size(), [&](size_t i) {
    auto it = k.tree_modules.find(names[i]);
    if (it == k.tree_modules.end())
      slots[i] = fail(Errc::not_found, fmt::format("{} module {} is not in its module tree", side, names[i]));
    else slots[i] = load_module_btf(it->second, base);
  });
  std::unordered_map<std::string, BtfPtr> out;
  size_t missing = 0;
  for (size_t i = 0; i < names.size(); i++) {
    if (slots[i]) out.emplace(names[i], std::move(*slots[i]));
    else {
      out.emplace(names[i], nullptr);
      if (missing++ < 5) notes.push_back(slots[i].error().msg);
    }
  }
  if (missing > 5) notes.push_back(fmt::format("{} more {} modules without readable BTF", missing - 5, side));
  return out;
}

}  // namespace

Result<AbiExplanation> explain_abi_diff(const AbiDiff &d, const KernelProfile &a, const KernelProfile &b,
                                        const ExplainOptions &opts) {
  for (const auto *k : {&a, &b})
    if (k->btf_file.empty())
      return fail(Errc::no_data, fmt::format("no BTF for {}: give its kernel image (boot/vmlinuz-REL), vmlinux or a "
                                             "raw BTF file (/sys/kernel/btf/vmlinux)",
                                             k->release.empty() ? (k == &a ? "OLD" : "NEW") : k->release));
  Result<BtfPtr> bases[2] = {fail(Errc::not_found, ""), fail(Errc::not_found, "")};
  parallel_for_each(2, [&](size_t i) { bases[i] = load_vmlinux_btf(i ? b.btf_file : a.btf_file, opts.cache_dir); });
  for (auto &r : bases)
    if (!r) return fail(std::move(r).error());
  AbiExplanation out;
  out.old_btf = (*bases[0])->source();
  out.new_btf = (*bases[1])->source();
  // A kernel without modversions (all-zero CRCs, or its config says so) has no CRC to explain:
  // its exports whose types changed are the list.
  auto versioned = [](const KernelProfile &k) {
    return k.modversions().value_or(true) &&
           std::any_of(k.exports.begin(), k.exports.end(), [](const auto &e) { return e.second.crc.value_or(0) != 0; });
  };
  out.crcs = d.crcs_known && versioned(a) && versioned(b);

  std::set<std::string> crc_changed;
  for (const auto &e : d.exports)
    if (e.kind == "crc") crc_changed.insert(e.symbol);
  std::vector<std::string> common;
  std::set<std::string> owners[2];
  for (const auto &[name, ea] : a.exports)
    if (auto it = b.exports.find(name); it != b.exports.end()) {
      common.push_back(name);
      if (ea.owner != "vmlinux") owners[0].insert(ea.owner);
      if (it->second.owner != "vmlinux") owners[1].insert(it->second.owner);
    }
  std::sort(common.begin(), common.end());
  std::unordered_map<std::string, BtfPtr> mods[2] = {
      module_btfs(a, owners[0], *bases[0], "OLD", out.notes), module_btfs(b, owners[1], *bases[1], "NEW", out.notes)};

  BtfDiff diff(*bases[0], *bases[1]);
  struct Pending {
    ExplainedExport e;
    int handle;
    bool crc_known, crc_same;
  };
  std::vector<Pending> all;
  all.reserve(common.size());
  for (const auto &name : common) {
    const KernelExport &ea = a.exports.at(name), &eb = b.exports.at(name);
    Pending p;
    p.e.symbol = name;
    p.e.owner = eb.owner;
    if (ea.crc) p.e.old_crc = fmt::format("0x{:08x}", *ea.crc);
    if (eb.crc) p.e.new_crc = fmt::format("0x{:08x}", *eb.crc);
    p.crc_known = out.crcs && ea.crc && eb.crc;
    p.crc_same = p.crc_known && !crc_changed.contains(name);
    BtfPtr sides[2];
    const KernelExport *es[2] = {&ea, &eb};
    for (int i = 0; i < 2; i++)
      sides[i] = es[i]->owner == "vmlinux" ? *bases[i] : mods[i][es[i]->owner];
    p.handle = -1;
    if (!sides[0] || !sides[1]) {
      p.e.category = "no BTF";
      p.e.no_btf = fmt::format("module {} has no readable BTF", !sides[0] ? ea.owner : eb.owner);
    } else {
      BtfDiff::Found found;
      p.handle = diff.add_export(name, sides[0], sides[1], &found);
      if (p.handle < 0) {
        p.e.category = "no BTF";
        p.e.no_btf = found == BtfDiff::Found::old_only   ? "not in NEW's BTF"
                     : found == BtfDiff::Found::new_only ? "not in OLD's BTF"
                                                         : "in neither BTF (assembly, or a variable BTF does not record)";
      } else {
        out.compared++;
      }
    }
    all.push_back(std::move(p));
  }
  diff.finish();
  std::vector<CauseGroup> groups(diff.changes().size());
  auto examples = diff.example_paths();
  for (u32 i = 0; i < groups.size(); i++) groups[i].example = std::move(examples[i]);
  for (u32 i = 0; i < groups.size(); i++) groups[i].change = i;
  for (auto &p : all) {
    if (p.handle >= 0) {
      p.e.causes = diff.causes(p.handle);
      p.e.category = p.e.causes.empty() ? "no type change" : "type changed";
      if (!p.e.causes.empty()) p.e.paths = diff.paths(p.handle, opts.max_paths);
    }
    bool changed_list = p.crc_known ? !p.crc_same : !p.e.causes.empty();
    if (!p.e.causes.empty()) p.e.nearest = diff.nearest(p.handle, &p.e.depth);
    for (u32 c : p.e.causes) (changed_list ? groups[c].crc_exports : groups[c].silent_exports)++;
    for (u32 c : p.e.nearest) (changed_list ? groups[c].nearest : groups[c].silent_nearest)++;
    if (changed_list) out.changed.push_back(std::move(p.e));
    else if (!p.e.causes.empty()) out.silent.push_back(std::move(p.e));
  }
  out.changes = diff.changes();
  out.moved = diff.moved();
  std::erase_if(groups, [](const CauseGroup &g) { return g.crc_exports + g.silent_exports == 0; });
  std::stable_sort(groups.begin(), groups.end(), [](const CauseGroup &x, const CauseGroup &y) {
    return std::tie(x.nearest, x.crc_exports, x.silent_nearest, x.silent_exports) >
           std::tie(y.nearest, y.crc_exports, y.silent_nearest, y.silent_exports);
  });
  out.groups = std::move(groups);
  return out;
}

struct CrcExplainer::Pair {
  std::string error;  // a side's BTF could not be read: no explanation for this pair
  std::unique_ptr<BtfDiff> diff;
  BtfPtr bases[2];
  std::map<std::string, BtfPtr> modules[2];
  std::map<std::string, std::vector<std::string>> done;
};

CrcExplainer::CrcExplainer(std::vector<const KernelProfile *> history, std::string cache_dir, size_t max_lines)
    : history_(std::move(history)), cache_dir_(std::move(cache_dir)), max_lines_(max_lines) {}

CrcExplainer::~CrcExplainer() = default;

std::vector<std::string> CrcExplainer::explain(const KernelProfile &target, const std::string &sym, u64 module_crc) {
  if (target.btf_file.empty()) return {};
  const KernelProfile *built = nullptr;
  for (const auto *h : history_)
    if (auto it = h->exports.find(sym); it != h->exports.end() && it->second.crc == module_crc && !h->btf_file.empty()) {
      built = h;
      break;
    }
  auto te = target.exports.find(sym);
  if (!built || te == target.exports.end()) return {};
  std::lock_guard lock(mutex_);
  auto &slot = pairs_[{built, &target}];
  if (!slot) {
    slot = std::make_unique<Pair>();
    for (int i = 0; i < 2; i++) {
      auto b = load_vmlinux_btf(i ? target.btf_file : built->btf_file, cache_dir_);
      if (!b) {
        slot->error = b.error().msg;
        break;
      }
      slot->bases[i] = *b;
    }
    if (slot->error.empty()) slot->diff = std::make_unique<BtfDiff>(slot->bases[0], slot->bases[1]);
  }
  Pair &p = *slot;
  if (!p.diff) return {};
  if (auto it = p.done.find(sym); it != p.done.end()) return it->second;
  const KernelProfile *ks[2] = {built, &target};
  BtfPtr sides[2];
  for (int i = 0; i < 2; i++) {
    const std::string &owner = ks[i]->exports.at(sym).owner;
    if (owner == "vmlinux") {
      sides[i] = p.bases[i];
      continue;
    }
    auto [it, fresh] = p.modules[i].try_emplace(owner);
    if (fresh)
      if (auto m = ks[i]->tree_modules.find(owner); m != ks[i]->tree_modules.end())
        if (auto b = load_module_btf(m->second, p.bases[i])) it->second = *b;
    sides[i] = it->second;
  }
  std::vector<std::string> out;
  if (sides[0] && sides[1]) {
    int h = p.diff->add_export(sym, sides[0], sides[1]);
    if (h >= 0) {
      p.diff->finish();
      for (const auto &[c, steps] : p.diff->paths(h, max_lines_)) {
        std::string path;
        for (size_t i = 0; i < steps.size(); i++) path += (i ? " -> " : "") + steps[i];
        out.push_back(fmt::format("{}: {} -> {}: {}, via {}", sym, built->release, target.release,
                                  p.diff->changes()[c].text(), path));
      }
    }
  }
  p.done.emplace(sym, out);
  return out;
}

}  // namespace kmx
