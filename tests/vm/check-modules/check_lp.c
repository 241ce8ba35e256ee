// check_lp: marked livepatch=Y without patching anything. Debian's 6.1 and 6.12 have
// CONFIG_LIVEPATCH=y, so it loads and taints K ("tainting kernel with TAINT_LIVEPATCH", once).
#include "check-module.h"

CHECK_MODULE_INIT_EXIT(check_lp);
MODULE_INFO(livepatch, "Y");
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: livepatch=Y");
