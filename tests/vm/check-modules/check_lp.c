// check_lp: marked livepatch=Y without patching anything. Debian's 6.1 and 6.12 have
// CONFIG_LIVEPATCH=y, so it loads and taints K ("tainting kernel with TAINT_LIVEPATCH", once).
#include <linux/init.h>
#include <linux/module.h>

static int __init check_lp_init(void)
{
	return 0;
}

static void __exit check_lp_exit(void) {}

module_init(check_lp_init);
module_exit(check_lp_exit);
MODULE_INFO(livepatch, "Y");
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: livepatch=Y");
