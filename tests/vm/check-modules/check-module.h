// The init and exit every check module has: NAME_init prints the line given (so that what the
// module imports is used) and succeeds, NAME_exit does nothing. What a module tests is in its
// own file: what it imports or exports, and its modinfo.
#include <linux/init.h>
#include <linux/module.h>

#define CHECK_MODULE_INIT_EXIT(name, ...)        \
	static int __init name##_init(void)      \
	{                                        \
		__VA_OPT__(pr_info(__VA_ARGS__);) \
		return 0;                        \
	}                                        \
	static void __exit name##_exit(void) {}  \
	module_init(name##_init);                \
	module_exit(name##_exit)
