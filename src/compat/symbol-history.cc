#include "compat/symbol-history.h"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <utility>

namespace kmx {

Presence symbol_presence(const KernelProfile &k, const std::string &sym) {
  if (k.exports.contains(sym)) return Presence::present;
  // Without vmlinux's export list only module exports are known: absence proves nothing.
  return k.vmlinux_exports_known ? Presence::absent : Presence::unknown;
}

std::vector<std::string> symbol_history_hints(const std::string &sym, const KernelProfile &target,
                                              const std::vector<const KernelProfile *> &history) {
  std::vector<std::string> out;
  if (history.empty()) return out;
  std::vector<const KernelProfile *> ordered, unordered;
  for (const KernelProfile *k : history) (k->major == 0 ? unordered : ordered).push_back(k);
  if (target.major != 0) ordered.push_back(&target);
  std::stable_sort(ordered.begin(), ordered.end(), [](const KernelProfile *a, const KernelProfile *b) {
    if (a->major != b->major) return a->major < b->major;
    if (a->minor != b->minor) return a->minor < b->minor;
    return a->release < b->release;
  });
  // "6.1" names a kernel unless two given kernels share it; then the release does.
  std::map<std::pair<int, int>, int> per_version;
  for (const KernelProfile *k : ordered) per_version[{k->major, k->minor}]++;
  auto label = [&](const KernelProfile *k) {
    if (per_version[{k->major, k->minor}] > 1) return k->release;
    return fmt::format("{}.{}", k->major, k->minor);
  };

  const KernelProfile *prev = nullptr;
  Presence prev_state = Presence::unknown;
  bool any_present = false;
  std::vector<std::string> known;
  std::string unknown;
  for (const KernelProfile *k : ordered) {
    Presence st = symbol_presence(*k, sym);
    if (st == Presence::unknown) {
      unknown += (unknown.empty() ? "" : ", ") + k->release;
      continue;
    }
    known.push_back(k->release);
    any_present |= st == Presence::present;
    if (prev && st != prev_state) {
      if (st == Presence::absent)
        out.push_back(fmt::format("{}: removed between {} and {} (exported by {}, not by {})", sym, label(prev),
                                  label(k), prev->release, k->release));
      else
        out.push_back(fmt::format("{}: added between {} and {} (not exported by {}, exported by {})", sym,
                                  label(prev), label(k), prev->release, k->release));
    }
    prev = k;
    prev_state = st;
  }
  if (!known.empty() && !any_present) {
    std::string list;
    for (const auto &r : known) list += (list.empty() ? "" : ", ") + r;
    out.push_back(fmt::format("{}: not exported by any given kernel ({})", sym, list));
  }
  if (!unknown.empty())
    out.push_back(fmt::format("{}: not known for {} (only module exports: give its Module.symvers or System.map)",
                              sym, unknown));
  for (const KernelProfile *k : unordered) {
    Presence st = symbol_presence(*k, sym);
    if (st != Presence::unknown)
      out.push_back(fmt::format("{}: {} {} (its version is unknown)", sym,
                                st == Presence::present ? "exported by" : "not exported by", k->release));
  }
  return out;
}

}  // namespace kmx
