// kmx_lab_a: the lab's provider module. It has parameters of two kinds, so that a load with
// arguments can be checked under /sys/module/kmx_lab_a/parameters, and exports a symbol that
// kmx_lab_b uses, so that "in use" and "unknown symbol" cases can be produced on demand.
// `level` and `note` are writable at runtime (0644): the persistence scenarios change them
// through sysfs and expect the change to survive an unload and the next load.
#include <linux/init.h>
#include <linux/module.h>

static int answer = 42;
module_param(answer, int, 0444);
MODULE_PARM_DESC(answer, "an integer shown under /sys/module/kmx_lab_a/parameters");

static char *label = "none";
module_param(label, charp, 0444);
MODULE_PARM_DESC(label, "a string shown under /sys/module/kmx_lab_a/parameters");

static int level = 1;
module_param(level, int, 0644);
MODULE_PARM_DESC(level, "writable at runtime: survives unload/reload with kmx persistence");

static char *note = "plain";
module_param(note, charp, 0644);
MODULE_PARM_DESC(note, "writable at runtime, left unchanged by the persistence scenarios");

int kmx_lab_a_value(void);
int kmx_lab_a_value(void) { return answer; }
EXPORT_SYMBOL(kmx_lab_a_value);

static int __init kmx_lab_a_init(void)
{
	pr_info("kmx_lab_a: loaded answer=%d label=%s level=%d note=%s\n", answer, label, level, note);
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
