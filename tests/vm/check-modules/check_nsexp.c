// check_nsexp: exports check_nsexp_value in the namespace "module:check_nsuse", the string that
// EXPORT_SYMBOL_GPL_FOR_MODULES(check_nsexp_value, "check_nsuse") gives since 6.16. Before 6.16
// it is a plain namespace: check_nsuse (named as the namespace allows, not importing it) is
// refused by 6.1 and 6.12, where 6.16+ would admit it.
#include <linux/export.h>
#include <linux/init.h>
#include <linux/module.h>

int check_nsexp_value = 42;
EXPORT_SYMBOL_NS_GPL(check_nsexp_value, module:check_nsuse);

static int __init check_nsexp_init(void) { return 0; }
static void __exit check_nsexp_exit(void) {}

module_init(check_nsexp_init);
module_exit(check_nsexp_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: export in a module: namespace");
