// kmx abi-diff OLD NEW: what changed for modules between two kernels (see compat/abi-diff.h).
// OLD and NEW are target specs as for `kmx check -t` (a root, a module tree, Module.symvers,
// System.map, config, comma-separated). Exit: 0 no difference, 1 differences, 3 none found but
// some exports could not be compared (a side's vmlinux exports unknown), 4 error or usage error.
#include <getopt.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "compat/abi-diff.h"
#include "tools/common.h"
#include "tools/tools.h"

namespace kmx {

namespace {

std::string path_text(const std::vector<std::string> &steps) {
  std::string s;
  for (size_t i = 0; i < steps.size(); i++) s += (i ? " -> " : "") + steps[i];
  return s;
}

// The steps of export paths after the declaration, each distinct one once: thousands of
// exports reach a root cause the same way (net_device.dev -> struct device), and a whole
// kernel's paths written out in full made tens of megabytes.
struct Vias {
  std::map<std::vector<std::string>, size_t> index;
  nlohmann::json list = nlohmann::json::array();
  size_t of(std::vector<std::string> tail) {
    auto [it, fresh] = index.try_emplace(std::move(tail), index.size());
    if (fresh) list.push_back(it->first);
    return it->second;
  }
};

// An export's causes as "cause_runs" (ids first..last), its paths as {"cause": change id, "via":
// index into the explanation's "vias"}, its declaration (every path's first step) once: the
// text's "because CHANGE via DECLARATION -> STEPS..." is changes[cause].text and declaration +
// vias[via].
nlohmann::json export_json(const ExplainedExport &e, Vias &vias) {
  nlohmann::json j = {{"symbol", e.symbol}, {"owner", e.owner}, {"category", e.category}};
  if (!e.old_crc.empty()) j["old_crc"] = e.old_crc;
  if (!e.new_crc.empty()) j["new_crc"] = e.new_crc;
  if (!e.no_btf.empty()) j["no_btf"] = e.no_btf;
  if (!e.causes.empty()) {
    // The causes as runs of change ids, [first, last] each: between two major kernels an export
    // reaches up to thousands of changes, which ids in a row spent 150 MB on.
    std::vector<u32> ids(e.causes.begin(), e.causes.end());
    std::sort(ids.begin(), ids.end());
    nlohmann::json runs = nlohmann::json::array();
    for (size_t i = 0; i < ids.size();) {
      size_t k = i;
      while (k + 1 < ids.size() && ids[k + 1] == ids[k] + 1) k++;
      runs.push_back({ids[i], ids[k]});
      i = k + 1;
    }
    j["cause_runs"] = std::move(runs);
    j["nearest"] = e.nearest;
    j["depth"] = e.depth;
    j["paths"] = nlohmann::json::array();
    for (const auto &[c, steps] : e.paths) {
      if (steps.empty()) continue;
      if (!j.contains("declaration")) j["declaration"] = steps[0];
      if (steps[0] != j["declaration"]) {  // not seen; kept whole rather than lost
        j["paths"].push_back({{"cause", c}, {"path", steps}});
        continue;
      }
      j["paths"].push_back({{"cause", c}, {"via", vias.of({steps.begin() + 1, steps.end()})}});
    }
  }
  return j;
}

nlohmann::json explanation_json(const AbiExplanation &ex) {
  nlohmann::json j;
  j["old_btf"] = ex.old_btf;
  j["new_btf"] = ex.new_btf;
  j["crcs"] = ex.crcs;
  j["compared"] = ex.compared;
  j["notes"] = ex.notes;
  j["counts"] = {{"changed", ex.changed.size()},
                 {"type changed", ex.count("type changed")},
                 {"no type change", ex.count("no type change")},
                 {"no BTF", ex.count("no BTF")},
                 {"silent", ex.silent.size()}};
  j["changes"] = nlohmann::json::array();
  for (size_t i = 0; i < ex.changes.size(); i++) {
    const TypeChange &c = ex.changes[i];
    j["changes"].push_back({{"id", i}, {"type", c.type}, {"change", c.change}, {"member", c.member},
                            {"old", c.old_value}, {"new", c.new_value}, {"text", c.text()}});
  }
  j["groups"] = nlohmann::json::array();
  for (const auto &g : ex.groups)
    j["groups"].push_back({{"cause", g.change}, {"text", ex.changes[g.change].text()}, {"nearest", g.nearest},
                           {"changed_exports", g.crc_exports}, {"silent_nearest", g.silent_nearest},
                           {"silent_exports", g.silent_exports}, {"example", g.example}});
  j["moved"] = nlohmann::json::array();
  for (const auto &m : ex.moved)
    j["moved"].push_back({{"type", m.type}, {"member", m.member}, {"old", m.old_value}, {"new", m.new_value}});
  Vias vias;
  j["exports"] = nlohmann::json::array();
  for (const auto &e : ex.changed) j["exports"].push_back(export_json(e, vias));
  j["silent"] = nlohmann::json::array();
  for (const auto &e : ex.silent) j["silent"].push_back(export_json(e, vias));
  j["vias"] = std::move(vias.list);
  return j;
}

void print_export(const ExplainedExport &e, const AbiExplanation &ex) {
  std::string crc = e.old_crc.empty() ? "" : " " + e.old_crc + " -> " + e.new_crc;
  std::printf("  %s%s\n", e.symbol.c_str(), crc.c_str());
  for (const auto &[c, steps] : e.paths)
    std::printf("    because %s\n      via %s\n", ex.changes[c].text().c_str(), path_text(steps).c_str());
  if (e.causes.size() > e.paths.size()) std::printf("    and %zu more type changes\n", e.causes.size() - e.paths.size());
}

void print_explanation(const AbiExplanation &ex) {
  std::printf("BTF: %s -> %s\n", ex.old_btf.c_str(), ex.new_btf.c_str());
  for (const auto &n : ex.notes) std::printf("note: %s\n", n.c_str());
  size_t typed = ex.count("type changed"), n = ex.changed.size();
  const char *what = ex.crcs ? "CRC changes" : "type changes";
  if (ex.crcs)
    std::printf("CRC changes explained: %zu of %zu (%.1f%%) by a type change, %zu with no type change, %zu with no BTF\n",
                typed, n, n ? 100.0 * double(typed) / double(n) : 100.0, ex.count("no type change"), ex.count("no BTF"));
  else
    std::printf("no CRCs: %zu of %zu exports compared in BTF have changed types\n", typed, ex.compared);
  if (ex.crcs) std::printf("silent type changes (CRC unchanged): %zu exports\n", ex.silent.size());
  std::map<size_t, size_t> by_depth;
  for (const auto &e : ex.silent) by_depth[e.depth]++;
  if (!by_depth.empty()) {
    std::printf("  by distance of the nearest changed type:");
    for (auto [d, c] : by_depth) std::printf(" %zu: %zu", d, c);
    std::printf("\n");
  }
  if (!ex.groups.empty())
    std::printf("root causes (%zu), by the exports they are the nearest type change of:\n", ex.groups.size());
  for (const auto &g : ex.groups) {
    std::printf("  %zu exports changed because %s\n", g.nearest, ex.changes[g.change].text().c_str());
    std::printf("    reached by %zu changed and %zu silent exports (nearest for %zu); e.g. %s\n", g.crc_exports,
                g.silent_exports, g.silent_nearest, path_text(g.example).c_str());
  }
  std::printf("%s behind their types:\n", what);
  for (const auto &e : ex.changed)
    if (e.category == "type changed") print_export(e, ex);
  for (const char *cat : {"no type change", "no BTF"}) {
    size_t c = ex.count(cat);
    if (!c) continue;
    std::printf("%s with %s (%zu):\n", what, cat, c);
    for (const auto &e : ex.changed)
      if (e.category == cat)
        std::printf("  %s%s%s\n", e.symbol.c_str(), e.old_crc.empty() ? "" : (" " + e.old_crc + " -> " + e.new_crc).c_str(),
                    e.no_btf.empty() ? "" : (": " + e.no_btf).c_str());
  }
  if (!ex.silent.empty()) {
    size_t near = by_depth[0] + by_depth[1];
    std::printf("silent type changes: %zu exports whose declaration names a changed type (%zu further away: --json)\n",
                near, ex.silent.size() - near);
    for (const auto &e : ex.silent)
      if (e.depth <= 1) print_export(e, ex);
  }
}

}  // namespace

int abi_diff_main(int argc, char **argv) {
  const char *prog = "kmx abi-diff";
  bool json = false, explain = true;
  size_t max_paths = 3;
  static const option longopts[] = {{"json", no_argument, nullptr, 'j'},
                                    {"no-explain", no_argument, nullptr, 'E'},
                                    {"paths", required_argument, nullptr, 'P'},
                                    {"help", no_argument, nullptr, 'h'},
                                    {"version", no_argument, nullptr, 'V'},
                                    {nullptr, 0, nullptr, 0}};
  for (;;) {
    int c = getopt_long(argc, argv, "jhV", longopts, nullptr);
    if (c == -1) break;
    if (c == 'j') json = true;
    else if (c == 'E') explain = false;
    else if (c == 'P') {
      char *end = nullptr;
      unsigned long n = std::strtoul(optarg, &end, 10);
      if (!*optarg || *end) {
        std::fprintf(stderr, "%s: ERROR: --paths wants a number, not '%s'\n", prog, optarg);
        return 4;
      }
      max_paths = n;
    }
    else if (c == 'V') return print_kmx_version();
    else if (c == 'h') {
      std::printf("Usage: kmx abi-diff [--json] [--no-explain] [--paths N] OLD NEW\n"
                  "OLD, NEW: a root (lib/modules/REL + boot/), a module tree, Module.symvers,\n"
                  "System.map, config-*, a kernel image, vmlinux or raw BTF, comma-separated.\n"
                  "When both kernels' BTF is known (their image), the type changes behind each\n"
                  "changed export are named (--no-explain: not); --paths N: paths shown per\n"
                  "export (3). Exit: 0 same, 1 different, 3 no difference found but some\n"
                  "exports could not be compared, 4 error.\n");
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
  std::optional<AbiExplanation> ex;
  std::string no_explanation;
  if (explain) {
    ExplainOptions eo;
    eo.cache_dir = kmx_cache_dir();
    eo.max_paths = max_paths;
    auto r = explain_abi_diff(d, k[0], k[1], eo);
    if (r) ex = std::move(*r);
    else if (r.error().code == Errc::no_data) no_explanation = r.error().msg;
    else {
      std::fprintf(stderr, "%s: ERROR: %s\n", prog, r.error().msg.c_str());
      return 4;
    }
  }
  bool type_changes = ex && (!ex->silent.empty() || std::any_of(ex->changed.begin(), ex->changed.end(), [](auto &e) {
                        return e.category == "type changed";
                      }));
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
    if (ex) j["explanation"] = explanation_json(*ex);
    else if (!no_explanation.empty()) j["explanation"] = {{"unavailable", no_explanation}};
    // Compact: a whole-kernel explanation indented was twice the size.
    std::printf("%s\n", j.dump().c_str());
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
    if (ex) print_explanation(*ex);
    else if (!no_explanation.empty()) std::printf("type changes: not explained: %s\n", no_explanation.c_str());
  }
  return !d.empty() || type_changes ? 1 : d.not_comparable ? 3 : 0;
}

}  // namespace kmx
