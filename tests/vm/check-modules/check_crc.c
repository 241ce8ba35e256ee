// check_crc: uses get_random_u32. The scenario flips its CRC in __versions (check_crc.ko:
// "disagrees about version of symbol") and, in a copy, renames its __versions entry
// (check_nocrc: Debian refuses the missing CRC: "no symbol version for get_random_u32").
#include <linux/init.h>
#include <linux/module.h>
#include <linux/random.h>

static int __init check_crc_init(void)
{
	pr_info("check_crc: %u\n", get_random_u32());
	return 0;
}

module_init(check_crc_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: symbol CRC");
