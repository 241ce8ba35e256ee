// check_pfn: calls follow_pfn, exported (EXPORT_SYMBOL) up to 6.9 and removed in 6.10 (commit
// cb10c28ac82c). Declared here so that it builds against 6.12 headers too; modpost is told to
// only warn about the undefined symbol (KBUILD_MODPOST_WARN=1), so the 6.12 build gives a
// module that the kernel refuses with "Unknown symbol follow_pfn (err -2)". Never called.
#include <linux/init.h>
#include <linux/module.h>

struct vm_area_struct;
int follow_pfn(struct vm_area_struct *vma, unsigned long address, unsigned long *pfn);

static int __init check_pfn_init(void)
{
	pr_info("check_pfn: %px\n", (void *)follow_pfn);
	return 0;
}

static void __exit check_pfn_exit(void) {}

module_init(check_pfn_init);
module_exit(check_pfn_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: follow_pfn (removed in 6.10)");
