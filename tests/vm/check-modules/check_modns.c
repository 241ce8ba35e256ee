// check_modns: imports "module:kvm", the namespace string that EXPORT_SYMBOL_GPL_FOR_MODULES(sym,
// "kvm") gives an export since 6.16. 6.16+ refuses importing a module: namespace; older loaders
// (6.1, 6.12) know no such thing and take it as an unused plain namespace import.
#include <linux/jiffies.h>

#include "check-module.h"

CHECK_MODULE_INIT_EXIT(check_modns, "check_modns: %lu\n", jiffies);
MODULE_INFO(import_ns, "module:kvm");
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: module: namespace import");
