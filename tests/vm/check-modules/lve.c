// lve: a GPL module named like one the loader distrusts ("lve claims to be GPL but upstream
// won't provide source"): the kernel taints it P whatever its licence says.
#include <linux/jiffies.h>

#include "check-module.h"

CHECK_MODULE_INIT_EXIT(lve, "lve (kmx check test): %lu\n", jiffies);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: name-based taint (lve)");
