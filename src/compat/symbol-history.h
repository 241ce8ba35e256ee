// Where an export exists across kernel versions (`kmx check --history DIR...`): the target and
// the history kernels are put in version order and a symbol's presence is followed through
// them, so that an unknown symbol's hint names the pair of versions between which it was
// removed or added ("follow_pfn: removed between 6.1 and 6.12").
//
// A kernel whose vmlinux exports are unknown (a module tree without Module.symvers or
// System.map) cannot say that a symbol is absent; it is skipped for that symbol, so the pair
// named is the closest one whose facts are known, and a last hint names it. A kernel with no
// version in its release is reported apart, not ordered.
#pragma once

#include <string>
#include <vector>

#include "compat/kernel-profile.h"

namespace kmx {

enum class Presence { present, absent, unknown };

// Presence of `sym` in the exports of `k`.
Presence symbol_presence(const KernelProfile &k, const std::string &sym);

// One hint per change of presence of `sym` along the version-ordered kernels (target plus
// history), e.g. "follow_pfn: removed between 6.1 and 6.12 (exported by 6.1.0-54-amd64, not by
// 6.12.117+deb12-amd64)"; or one saying no given kernel exports it. Empty when `history` is.
std::vector<std::string> symbol_history_hints(const std::string &sym, const KernelProfile &target,
                                              const std::vector<const KernelProfile *> &history);

}  // namespace kmx
