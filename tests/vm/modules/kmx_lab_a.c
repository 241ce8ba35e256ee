// kmx_lab_a: the lab's provider module. It has parameters of two kinds, so that a load with
// arguments can be checked under /sys/module/kmx_lab_a/parameters, and exports a symbol that
// kmx_lab_b uses, so that "in use" and "unknown symbol" cases can be produced on demand.
#include <linux/init.h>
#include <linux/module.h>

static int answer = 42;
module_param(answer, int, 0444);
MODULE_PARM_DESC(answer, "an integer shown under /sys/module/kmx_lab_a/parameters");

static char *label = "none";
module_param(label, charp, 0444);
MODULE_PARM_DESC(label, "a string shown under /sys/module/kmx_lab_a/parameters");

int kmx_lab_a_value(void);
int kmx_lab_a_value(void) { return answer; }
EXPORT_SYMBOL(kmx_lab_a_value);

static int __init kmx_lab_a_init(void)
{
	pr_info("kmx_lab_a: loaded answer=%d label=%s\n", answer, label);
	return 0;
}

static void __exit kmx_lab_a_exit(void)
{
	pr_info("kmx_lab_a: unloaded\n");
}

module_init(kmx_lab_a_init);
module_exit(kmx_lab_a_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx lab test module (provider)");
