// What `kmx check` learns from a module tree by reading every module (when no Module.symvers
// gives the exports): the reference facts of its in-tree modules and every module's exports.
// Reading a tree decompresses and parses every module in it, so the result is cached.
//
// Cache file: DIR/tree-facts-<fnv1a64 of the tree's real path, hex>-<its last component: REL
// for lib/modules/REL>.json (DIR chosen by the tool, tools/common.h kmx_cache_dir; "" disables;
// the kernel-install hook's postrm.d removes a release's by name), JSON:
//   {"format":1, "tree":PATH, "identity":HEX,
//    "vermagic":S|null, "module_layout_crc":N|null, "this_module_size":N|null,
//    "arch":[E_MACHINE, IS64, LITTLE_ENDIAN]|null,
//    "key_ids":[HEX...], "proprietary":[NAME...],
//    "exports":[[NAME, OWNER, LICENCE(0 plain,1 gpl,2 gpl_future), NAMESPACE, CRC|null], ...]}
// `identity` is the SHA-256 over every module file's path, size, mtime (ns), inode and device,
// in path order: any added, removed, replaced or touched module invalidates the cache. A file
// that does not parse or does not match is ignored and rewritten (atomically, mode 0600).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "compat/kernel-profile.h"

namespace kmx {

struct TreeFacts {
  std::optional<std::string> vermagic;
  std::optional<u64> module_layout_crc;
  std::optional<u64> this_module_size;
  std::optional<ElfArch> arch;                // of the in-tree module the facts above came from
  std::vector<Bytes> key_ids;                 // signer key ids of in-tree modules, first seen first
  std::set<std::string> proprietary;          // modules whose licence taints P
  std::vector<std::pair<std::string, KernelExport>> exports;  // first exporter of each name, in file order
};

// SHA-256 (hex) over the identity of `files` (sorted paths); "" when one cannot be stat'ed.
std::string tree_identity(const std::vector<std::string> &files);

std::optional<TreeFacts> read_tree_facts(const std::string &cache_dir, const std::string &tree,
                                         const std::string &identity);
void write_tree_facts(const std::string &cache_dir, const std::string &tree, const std::string &identity,
                      const TreeFacts &facts);

}  // namespace kmx
