// SPDX-License-Identifier: GPL-2.0
// Uses dev_lstats_read(), an export whose CRC differs between Debian's 6.1.0-53 and -54.
#include <linux/module.h>
#include <linux/netdevice.h>

static int __init crc_lstats_init(void)
{
	u64 packets = 0, bytes = 0;
	struct net_device *dev = dev_get_by_name(&init_net, "lo");

	if (dev) {
		dev_lstats_read(dev, &packets, &bytes);
		dev_put(dev);
	}
	return 0;
}

static void __exit crc_lstats_exit(void)
{
}

module_init(crc_lstats_init);
module_exit(crc_lstats_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx lab: a module built against older headers than the kernel");
