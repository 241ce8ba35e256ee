// check_modns: imports "module:kvm", the namespace string that EXPORT_SYMBOL_GPL_FOR_MODULES(sym,
// "kvm") gives an export since 6.16. 6.16+ refuses importing a module: namespace; older loaders
// (6.1, 6.12) know no such thing and take it as an unused plain namespace import.
#include <linux/init.h>
#include <linux/jiffies.h>
#include <linux/module.h>

static int __init check_modns_init(void)
{
	pr_info("check_modns: %lu\n", jiffies);
	return 0;
}

static void __exit check_modns_exit(void) {}

module_init(check_modns_init);
module_exit(check_modns_exit);
MODULE_INFO(import_ns, "module:kvm");
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: module: namespace import");
