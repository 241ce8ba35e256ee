// check_puse: a GPL module using check_pexp's export. With check_pexp loaded it loads and
// inherits taint P ("module uses symbols check_pexp_value from proprietary module check_pexp,
// inheriting taint.").
#include "check-module.h"

extern int check_pexp_value;

CHECK_MODULE_INIT_EXIT(check_puse, "check_puse: %d\n", check_pexp_value);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: uses a proprietary module's export");
