// kmx_dkms_test: a module that does nothing but load, built by DKMS in tests/cli/dkms-check.sh.
#include <linux/init.h>
#include <linux/module.h>

static int __init kmx_dkms_test_init(void)
{
	pr_info("kmx_dkms_test: loaded\n");
	return 0;
}

static void __exit kmx_dkms_test_exit(void)
{
}

module_init(kmx_dkms_test_init);
module_exit(kmx_dkms_test_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("a module built by DKMS for kmx's tests");
