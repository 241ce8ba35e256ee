// check_pgpl: a GPL module using a GPL-only export (ktime_get) and then check_pexp's export.
// The kernel refuses the second: "module using GPL-only symbols uses symbols check_pexp_value
// from proprietary module check_pexp." (ENOENT). Symbol order is the symtab's, so ktime_get is
// referenced first.
#include <linux/init.h>
#include <linux/ktime.h>
#include <linux/module.h>

extern int check_pexp_value;

static int __init check_pgpl_init(void)
{
	pr_info("check_pgpl: %lld %d\n", (long long)ktime_get(), check_pexp_value);
	return 0;
}

static void __exit check_pgpl_exit(void) {}

module_init(check_pgpl_init);
module_exit(check_pgpl_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: GPL-only symbols plus a proprietary module's export");
