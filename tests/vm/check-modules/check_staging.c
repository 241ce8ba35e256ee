// check_staging: marked as a staging driver (modpost writes staging=Y for drivers/staging/;
// here it is declared directly). Loads, taints C with "module is from the staging directory".
#include "check-module.h"

CHECK_MODULE_INIT_EXIT(check_staging);
MODULE_INFO(staging, "Y");
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: staging=Y");
