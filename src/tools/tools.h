// Entry points of the kmx tools. Each takes the argv it was started with (argv[0] is the
// tool's name) and returns the process exit code. Only this layer prints, reads argv or exits.
#pragma once

#include <string_view>

namespace kmx {

int insmod_main(int argc, char **argv);
int rmmod_main(int argc, char **argv);
int lsmod_main(int argc, char **argv);
int modinfo_main(int argc, char **argv);
int scan_main(int argc, char **argv);
int depmod_main(int argc, char **argv);
int modprobe_main(int argc, char **argv);
int check_main(int argc, char **argv);
int abi_diff_main(int argc, char **argv);
int persist_main(int argc, char **argv);
int daemon_main(int argc, char **argv);
int autoclean_main(int argc, char **argv);
int kmod_main(int argc, char **argv);  // called as `kmod`: list, static-nodes, help

using ToolMain = int (*)(int argc, char **argv);
// The kmod compat tool of that name (lsmod, rmmod, insmod, modinfo, modprobe, depmod), or null.
ToolMain compat_tool(std::string_view name);

}  // namespace kmx
