// check_clean: a GPL module using plain exports only. Loads (taints O, E when unsigned).
// Copies of it, edited after the build, give the module_layout, vermagic and no-__versions cases.
#include <linux/init.h>
#include <linux/jiffies.h>
#include <linux/module.h>

static int __init check_clean_init(void)
{
	pr_info("check_clean: %lu\n", jiffies);
	return 0;
}

static void __exit check_clean_exit(void) {}

module_init(check_clean_init);
module_exit(check_clean_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: clean control");
