// check_prop: a proprietary module using plain exports only. Loads, taints P (and O, E).
#include <linux/init.h>
#include <linux/module.h>

static int __init check_prop_init(void)
{
	pr_info("check_prop: loaded\n");
	return 0;
}

static void __exit check_prop_exit(void) {}

module_init(check_prop_init);
module_exit(check_prop_exit);
MODULE_LICENSE("Proprietary");
MODULE_DESCRIPTION("kmx check test module: proprietary licence");
