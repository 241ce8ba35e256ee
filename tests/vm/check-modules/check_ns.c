// check_ns: uses dma_buf_put (namespace DMA_BUF). It carries the import twice: the <= 6.12
// spelling MODULE_IMPORT_NS(DMA_BUF), which the scenario renames after modpost
// (import_ns=DMA_BUF -> import_ns=DMA_BUX), and what MODULE_IMPORT_NS("DMA_BUF") (the 6.13+
// spelling) gives on older headers: import_ns="DMA_BUF", quotes included. The kernel then
// refuses dma_buf_put for a namespace not imported.
#include <linux/init.h>
#include <linux/module.h>

struct dma_buf;
void dma_buf_put(struct dma_buf *dmabuf);

static int __init check_ns_init(void)
{
	pr_info("check_ns: %px\n", (void *)dma_buf_put);
	return 0;
}

module_init(check_ns_init);
MODULE_IMPORT_NS(DMA_BUF);
MODULE_INFO(import_ns, "\"DMA_BUF\"");
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmx check test module: namespace not imported");
