#include "compat/abi-diff.h"

#include <fmt/core.h>

#include <algorithm>

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

}  // namespace kmx
