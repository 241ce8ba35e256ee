// check_pgpl: a GPL module using a GPL-only export (ktime_get) and then check_pexp's export.
// The kernel refuses the second: "module using GPL-only symbols uses symbols check_pexp_value
// from proprietary module check_pexp." (ENOENT). Symbol order is the symtab's, so ktime_get is
// referenced first.
#include <linux/ktime.h>

#include "check-module.h"

extern int check_pexp_value;

CHECK_MODULE_INIT_EXIT(check_pgpl, "check_pgpl: %lld %d\n", (long long)ktime_get(), check_pexp_value);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: GPL-only symbols plus a proprietary module's export");
