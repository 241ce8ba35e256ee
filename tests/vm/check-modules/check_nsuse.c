// check_nsuse: uses check_nsexp_value (namespace "module:check_nsuse"). It imports the namespace
// so that modpost accepts it; check-trailer.sh then renames the import_ns key to import_nx, so
// that the module as loaded imports nothing.
#include <linux/init.h>
#include <linux/module.h>

extern int check_nsexp_value;

static int __init check_nsuse_init(void)
{
	pr_info("check_nsuse: %d\n", check_nsexp_value);
	return 0;
}

static void __exit check_nsuse_exit(void) {}

module_init(check_nsuse_init);
module_exit(check_nsuse_exit);
MODULE_IMPORT_NS(module:check_nsuse);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: use of a module: namespace export");
