// check_nsexp: exports check_nsexp_value in the namespace "module:check_nsuse", the string that
// EXPORT_SYMBOL_GPL_FOR_MODULES(check_nsexp_value, "check_nsuse") gives since 6.16. Before 6.16
// it is a plain namespace: check_nsuse (named as the namespace allows, not importing it) is
// refused by 6.1 and 6.12, where 6.16+ would admit it.
#include <linux/export.h>

#include "check-module.h"

int check_nsexp_value = 42;
EXPORT_SYMBOL_NS_GPL(check_nsexp_value, module:check_nsuse);

CHECK_MODULE_INIT_EXIT(check_nsexp);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: export in a module: namespace");
