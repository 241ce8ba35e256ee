// ndiswrapper: the loader taints the kernel P for this name but not the module (add_taint), so
// that it keeps its GPL-only symbols: it uses the GPL-only ktime_get and loads.
#include <linux/ktime.h>

#include "check-module.h"

CHECK_MODULE_INIT_EXIT(ndiswrapper, "ndiswrapper (kmx check test): %lld\n", (long long)ktime_get());
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: name-based taint (ndiswrapper)");
