// driverloader: a GPL module named like one the loader taints P by name ("caught wrongly
// pretending to be under GPL"). The taint is the module's own (add_taint_module), set before
// its symbols are resolved, so the GPL-only ktime_get is hidden from it.
#include <linux/ktime.h>

#include "check-module.h"

CHECK_MODULE_INIT_EXIT(driverloader, "driverloader (kmx check test): %lld\n", (long long)ktime_get());
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: name-based taint (driverloader)");
