// check_clean: a GPL module using plain exports only. Loads (taints O, E when unsigned).
// Copies of it, edited after the build, give the module_layout, vermagic and no-__versions cases.
#include <linux/jiffies.h>

#include "check-module.h"

CHECK_MODULE_INIT_EXIT(check_clean, "check_clean: %lu\n", jiffies);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: clean control");
