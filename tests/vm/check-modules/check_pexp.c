// check_pexp: a proprietary module exporting a plain symbol, for the inherited-taint cases
// (check_puse, check_pgpl use it).
#include <linux/init.h>
#include <linux/module.h>

int check_pexp_value = 42;
EXPORT_SYMBOL(check_pexp_value);

static int __init check_pexp_init(void)
{
	return 0;
}

static void __exit check_pexp_exit(void) {}

module_init(check_pexp_init);
module_exit(check_pexp_exit);
MODULE_LICENSE("Proprietary");
MODULE_DESCRIPTION("kmx check test module: proprietary exporter");
