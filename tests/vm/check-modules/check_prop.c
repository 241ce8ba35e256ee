// check_prop: a proprietary module using plain exports only. Loads, taints P (and O, E).
#include "check-module.h"

CHECK_MODULE_INIT_EXIT(check_prop, "check_prop: loaded\n");
MODULE_LICENSE("Proprietary");
MODULE_DESCRIPTION("kmx check test module: proprietary licence");
