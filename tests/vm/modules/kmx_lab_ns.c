// kmx_lab_ns: uses acpi_table_parse_cedt, which vmlinux exports in namespace ACPI. It is built
// with MODULE_IMPORT_NS(ACPI) so that modpost accepts it, then tests/vm/lib.sh renames the
// import in .modinfo ("import_ns=ACPI" -> "import_ns=NONE"), so the kernel refuses it for
// not importing ACPI. The symbol is only referenced, never called.
#include <linux/init.h>
#include <linux/module.h>

int acpi_table_parse_cedt(int id, void *handler, void *arg);

static int __init kmx_lab_ns_init(void)
{
	pr_info("kmx_lab_ns: loaded, %px\n", (void *)acpi_table_parse_cedt);
	return 0;
}

module_init(kmx_lab_ns_init);
MODULE_IMPORT_NS(ACPI);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx lab test module (namespace not imported)");
