// check_pexp: a proprietary module exporting a plain symbol, for the inherited-taint cases
// (check_puse, check_pgpl use it).
#include "check-module.h"

int check_pexp_value = 42;
EXPORT_SYMBOL(check_pexp_value);

CHECK_MODULE_INIT_EXIT(check_pexp);
MODULE_LICENSE("Proprietary");
MODULE_DESCRIPTION("kmx check test module: proprietary exporter");
