// check_gpl: uses ktime_get (EXPORT_SYMBOL_GPL). Built as GPL so that modpost accepts it; the
// scenario then rewrites license=GPL to license=BSD, so the kernel hides GPL-only exports from
// it: "Unknown symbol ktime_get (err -2)".
#include <linux/init.h>
#include <linux/ktime.h>
#include <linux/module.h>

static int __init check_gpl_init(void)
{
	pr_info("check_gpl: %lld\n", (long long)ktime_get());
	return 0;
}

module_init(check_gpl_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: GPL-only symbol");
