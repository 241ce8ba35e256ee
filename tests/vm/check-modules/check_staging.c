// check_staging: marked as a staging driver (modpost writes staging=Y for drivers/staging/;
// here it is declared directly). Loads, taints C with "module is from the staging directory".
#include <linux/init.h>
#include <linux/module.h>

static int __init check_staging_init(void)
{
	return 0;
}

static void __exit check_staging_exit(void) {}

module_init(check_staging_init);
module_exit(check_staging_exit);
MODULE_INFO(staging, "Y");
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: staging=Y");
