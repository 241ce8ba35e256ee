// check_nsuse: uses check_nsexp_value (namespace "module:check_nsuse"). It imports the namespace
// so that modpost accepts it; check-trailer.sh then renames the import_ns key to import_nx, so
// that the module as loaded imports nothing.
#include "check-module.h"

extern int check_nsexp_value;

CHECK_MODULE_INIT_EXIT(check_nsuse, "check_nsuse: %d\n", check_nsexp_value);
MODULE_IMPORT_NS(module:check_nsuse);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: use of a module: namespace export");
