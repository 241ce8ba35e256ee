// kmx_lab_b: depends on kmx_lab_a through the symbol kmx_lab_a_value, which makes kmx_lab_a
// "in use" while it is loaded and makes loading it alone fail with an unknown symbol.
#include <linux/init.h>
#include <linux/module.h>

int kmx_lab_a_value(void);

static int __init kmx_lab_b_init(void)
{
	pr_info("kmx_lab_b: loaded, kmx_lab_a says %d\n", kmx_lab_a_value());
	return 0;
}

static void __exit kmx_lab_b_exit(void)
{
	pr_info("kmx_lab_b: unloaded\n");
}

module_init(kmx_lab_b_init);
module_exit(kmx_lab_b_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx lab test module (user of kmx_lab_a)");
