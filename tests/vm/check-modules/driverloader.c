// driverloader: a GPL module named like one the loader taints P by name ("caught wrongly
// pretending to be under GPL"). The taint is the module's own (add_taint_module), set before
// its symbols are resolved, so the GPL-only ktime_get is hidden from it.
#include <linux/init.h>
#include <linux/ktime.h>
#include <linux/module.h>

static int __init driverloader_init(void)
{
	pr_info("driverloader (kmx check test): %lld\n", (long long)ktime_get());
	return 0;
}

static void __exit driverloader_exit(void) {}

module_init(driverloader_init);
module_exit(driverloader_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: name-based taint (driverloader)");
