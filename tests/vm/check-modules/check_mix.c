// check_mix: staging=Y, livepatch=Y, test=Y and a proprietary licence at once, loaded first in
// a fresh boot (check-fresh.sh): every taint line of the loader (O, C, K, P, N, E) appears, in
// the order of that kernel version.
#include "check-module.h"

CHECK_MODULE_INIT_EXIT(check_mix);
MODULE_INFO(staging, "Y");
MODULE_INFO(livepatch, "Y");
MODULE_INFO(test, "Y");
MODULE_LICENSE("Proprietary");
MODULE_DESCRIPTION("kmx check test module: every modinfo taint at once");
