// check_puse: a GPL module using check_pexp's export. With check_pexp loaded it loads and
// inherits taint P ("module uses symbols check_pexp_value from proprietary module check_pexp,
// inheriting taint.").
#include <linux/init.h>
#include <linux/module.h>

extern int check_pexp_value;

static int __init check_puse_init(void)
{
	pr_info("check_puse: %d\n", check_pexp_value);
	return 0;
}

static void __exit check_puse_exit(void) {}

module_init(check_puse_init);
module_exit(check_puse_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: uses a proprietary module's export");
