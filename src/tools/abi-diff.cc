// kmx abi-diff OLD NEW: what changed for modules between two kernels (see compat/abi-diff.h).
// OLD and NEW are target specs as for `kmx check -t` (a root, a module tree, Module.symvers,
// System.map, config, comma-separated). Exit: 0 no difference, 1 differences, 3 none found but
// some exports could not be compared (a side's vmlinux exports unknown), 4 error or usage error.
#include <getopt.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "compat/abi-diff.h"
#include "tools/common.h"
#include "tools/tools.h"

namespace kmx {

int abi_diff_main(int argc, char **argv) {
  const char *prog = "kmx abi-diff";
  bool json = false;
  static const option longopts[] = {{"json", no_argument, nullptr, 'j'},
                                    {"help", no_argument, nullptr, 'h'},
                                    {"version", no_argument, nullptr, 'V'},
                                    {nullptr, 0, nullptr, 0}};
  for (;;) {
    int c = getopt_long(argc, argv, "jhV", longopts, nullptr);
    if (c == -1) break;
    if (c == 'j') json = true;
    else if (c == 'V') return print_kmx_version();
    else if (c == 'h') {
      std::printf("Usage: kmx abi-diff [--json] OLD NEW\n"
                  "OLD, NEW: a root (lib/modules/REL + boot/), a module tree, Module.symvers,\n"
                  "System.map or config-*, comma-separated. Exit: 0 same, 1 different, 3 no\n"
                  "difference found but some exports could not be compared, 4 error.\n");
      return 0;
    } else return 4;
  }
  if (argc - optind != 2) {
    std::fprintf(stderr, "%s: ERROR: want two kernels: OLD NEW\n", prog);
    return 4;
  }
  KernelProfile k[2];
  for (int i = 0; i < 2; i++) {
    auto p = load_profile(argv[optind + i], "", kmx_cache_dir());
    if (!p) {
      std::fprintf(stderr, "%s: ERROR: %s\n", prog, p.error().msg.c_str());
      return 4;
    }
    k[i] = std::move(*p);
  }
  AbiDiff d = abi_diff(k[0], k[1]);
  std::map<std::string, size_t> counts;
  for (const auto &e : d.exports) counts[e.kind]++;
  if (json) {
    nlohmann::json j;
    j["old"] = k[0].release;
    j["new"] = k[1].release;
    j["facts"] = nlohmann::json::array();
    for (const auto &f : d.facts) j["facts"].push_back({{"fact", f.fact}, {"old", f.old_value}, {"new", f.new_value}});
    j["exports"] = nlohmann::json::array();
    for (const auto &e : d.exports)
      j["exports"].push_back({{"symbol", e.symbol}, {"change", e.kind}, {"old", e.old_value}, {"new", e.new_value}});
    j["counts"] = counts;
    j["not_comparable"] = d.not_comparable;
    j["notes"] = d.notes;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("abi-diff %s -> %s\n", k[0].release.c_str(), k[1].release.c_str());
    for (const auto &n : d.notes) std::printf("note: %s\n", n.c_str());
    if (d.not_comparable)
      std::printf("note: %zu exports are on one side only and may be in the other side's vmlinux: not compared\n",
                  d.not_comparable);
    for (const auto &f : d.facts)
      std::printf("%s: %s -> %s\n", f.fact.c_str(), f.old_value.c_str(), f.new_value.c_str());
    std::printf("exports: %zu removed, %zu added, %zu CRCs changed, %zu namespace moves, %zu licence changes, "
                "%zu moved between modules\n",
                counts["removed"], counts["added"], counts["crc"], counts["namespace"], counts["licence"],
                counts["owner"]);
    for (const auto &e : d.exports) {
      if (e.kind == "removed") std::printf("- %s (%s)\n", e.symbol.c_str(), e.old_value.c_str());
      else if (e.kind == "added") std::printf("+ %s (%s)\n", e.symbol.c_str(), e.new_value.c_str());
      else
        std::printf("~ %s %s: %s -> %s\n", e.symbol.c_str(), e.kind.c_str(),
                    e.old_value.empty() ? "(none)" : e.old_value.c_str(),
                    e.new_value.empty() ? "(none)" : e.new_value.c_str());
    }
  }
  return !d.empty() ? 1 : d.not_comparable ? 3 : 0;
}

}  // namespace kmx
