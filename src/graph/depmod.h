// The depmod engine: kmod 30's tools/depmod.c model of a module tree -- discovery with
// depmod.d priorities, kmod's module order, symbol ownership, dependencies, topological
// order, cycle report -- and the rendering of every output file.
//
// Order rules reproduced from kmod 30 (the differential tests on real trees judge them):
//   * module list: kmod's modules_by_name hash (512 buckets) iteration order, then a stable
//     sort that puts modules listed in modules.order first, in that file's order (skipped
//     when modules.order is missing or has a line without '\n');
//   * a module's index in that list is its priority in the .bin indexes;
//   * symbols: the last module (in list order) exporting a name owns it; modules.symbols
//     follows kmod's symbols hash (2048 buckets) iteration order;
//   * dependencies: the topological order kmod computes (a LIFO of modules without users,
//     seeded in list order) ranks each module; modules.dep lists the transitive closure
//     sorted by that rank.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/diag.h"
#include "base/result.h"
#include "config/depmod-config.h"
#include "graph/module-facts.h"

namespace kmx {

struct DepmodOptions {
  std::string dirname;        // ROOT/lib/modules/KVER: where modules are searched
  char sym_prefix = 0;        // -P
  bool check_symvers = false; // -E given
  bool print_unknown = false; // -e (with -E or -F)
  bool warn_dups = false;     // -w
  unsigned jobs = 0;          // 0 = one per CPU
  std::string cache_path;     // "" = no metadata cache
  bool write_cache = true;    // false: only read it (depmod FILE... sees a partial tree)
};

struct DepmodModule {
  std::string path;        // as found (absolute)
  std::string modname;
  std::string relpath;     // path relative to dirname, "" if outside it
  std::string uncrelpath;  // relpath cut to "DIR/NAME.ko" (kmod's key into modules.order)
  size_t baselen = 0;      // offset of the last '/' in path
  int sort_idx = 1;
  u32 idx = 0;
  int dep_sort_idx = INT32_MAX;
  u32 users = 0;
  std::vector<u32> deps;   // direct dependencies (module indices), first-use order
  ModuleFacts facts;
  bool visited = false;

  const std::string &compressed_path() const { return relpath.empty() ? path : relpath; }
};

// One output file: name and its complete content.
struct DepmodFile {
  std::string name;
  std::string content;
  bool binary = false;
};

class Depmod {
public:
  Depmod(DepmodOptions opts, Diag &diag) : opts_(std::move(opts)), diag_(diag) {}

  // -v: kmod's SHOW() lines go here (stdout).
  void set_show(std::function<void(const std::string &)> fn) { show_ = std::move(fn); }

  // -E / -F: kernel symbols with no owner module. Errors are kmod's fatal ones.
  Status load_symvers(const std::string &path);
  Status load_system_map(const std::string &path);

  // depmod -a: scan dirname and the configured external directories.
  Status search(const DepmodConfig &cfg);
  // depmod FILE...: exactly these (absolute) module files.
  Status add_files(const std::vector<std::string> &paths);

  // Order, read every module (in parallel, through the cache), resolve symbols and compute
  // the dependency order. Fails (after reporting kmod's cycle messages) on a cycle.
  Status load();

  // Every output file in kmod's table order (kmod 34's, when modules.weakdep is included).
  // Files are rendered in parallel; diagnostics come out in table order.
  std::vector<DepmodFile> render(bool include_weakdep) const;
  // kmod 30's -n output: its text files concatenated in table order (the .bin writers
  // print nothing to stdout).
  std::string render_stdout() const;

  const std::vector<DepmodModule> &modules() const { return mods_; }

  struct Stats {
    size_t read = 0, cached = 0;
  };
  const Stats &stats() const { return stats_; }

private:
  struct Symbol {
    i64 owner = -1;  // module index, -1 for the kernel / fake symbols
    u64 crc = 0;
  };
  struct Candidate {
    std::string path;
    size_t baselen;  // offset of the last '/'
    std::string modname;
  };

  void add_symbol(std::string_view name, bool prefix_skipped, u64 crc, i64 owner);
  const std::pair<const std::string, Symbol> *find_symbol(std::string_view name) const;
  void add_fake_symbols();
  Status search_path(const DepmodConfig &cfg, const std::string &path);
  void search_dir(const DepmodConfig &cfg, int dfd, std::string &path, unsigned depth);
  void search_file(const DepmodConfig &cfg, const std::string &path, size_t baselen);
  bool indexable_path(const std::string &path);
  void drop_unindexable_info(DepmodModule &m);
  bool existing_is_higher_priority(const DepmodConfig &cfg, const Candidate &old, const Candidate &neu) const;
  void build_array();
  void sort_by_order_file();
  void read_facts();
  void load_dependencies();
  Status calculate_dependencies();
  void report_cycles(const std::vector<u32> &users);
  std::vector<u32> all_sorted_deps(u32 m) const;
  void prepare_outputs();

  std::string out_deps(Diag &d) const;
  std::string out_aliases(Diag &d) const;
  std::string out_softdeps(Diag &d) const;
  std::string out_weakdeps(Diag &d) const;
  std::string out_symbols(Diag &d) const;
  std::string out_devname(Diag &d) const;
  std::string out_deps_bin(Diag &d) const;
  std::string out_aliases_bin(Diag &d) const;
  std::string out_symbols_bin(Diag &d) const;
  std::string out_builtin_bin(Diag &d) const;
  std::string out_builtin_alias_bin(Diag &d) const;
  std::vector<std::string> symbol_order() const;

  DepmodOptions opts_;
  Diag &diag_;
  std::function<void(const std::string &)> show_;
  std::unordered_map<std::string, Candidate> by_name_;
  std::vector<DepmodModule> mods_;
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Symbol, StringHash, std::equal_to<>> symbols_;
  Stats stats_;
  // Shared by several outputs, computed once after load().
  std::vector<std::vector<u32>> closure_;       // per module: all dependencies, in rank order
  std::vector<std::string> symbol_order_;       // owned symbols in kmod's hash order
};

// kmod's alias_normalize(): '-' -> '_' outside [...] ranges; nullopt on an unmatched bracket.
std::optional<std::string> kmod_alias_normalize(std::string_view alias);


}  // namespace kmx
