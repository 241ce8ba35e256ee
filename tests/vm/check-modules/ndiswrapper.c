// ndiswrapper: the loader taints the kernel P for this name but not the module (add_taint), so
// that it keeps its GPL-only symbols: it uses the GPL-only ktime_get and loads.
#include <linux/init.h>
#include <linux/ktime.h>
#include <linux/module.h>

static int __init ndiswrapper_init(void)
{
	pr_info("ndiswrapper (kmx check test): %lld\n", (long long)ktime_get());
	return 0;
}

static void __exit ndiswrapper_exit(void) {}

module_init(ndiswrapper_init);
module_exit(ndiswrapper_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: name-based taint (ndiswrapper)");
