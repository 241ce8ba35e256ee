// lve: a GPL module named like one the loader distrusts ("lve claims to be GPL but upstream
// won't provide source"): the kernel taints it P whatever its licence says.
#include <linux/init.h>
#include <linux/jiffies.h>
#include <linux/module.h>

static int __init lve_init(void)
{
	pr_info("lve (kmx check test): %lu\n", jiffies);
	return 0;
}

static void __exit lve_exit(void) {}

module_init(lve_init);
module_exit(lve_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: name-based taint (lve)");
