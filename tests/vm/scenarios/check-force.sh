# kmx check --force against the real kernel's forced loads (kmod's insmod -f: finit_module with
# MODULE_INIT_IGNORE_VERMAGIC | MODULE_INIT_IGNORE_MODVERSIONS; signatures not enforced): a
# module whose vermagic is wrong and one whose module_layout CRC is wrong (both load, taint F),
# Debian's signed in-tree ifb (a forced module is "mangled": its signature is not looked at, so
# it loads unsigned: F and E), and the in-tree module with a flipped byte (refused with
# EKEYREJECTED without -f, loads with it). Compressed (tree-ifbz.ko.xz, ownkeyz.ko.xz), kmod 30
# edits the module itself and calls init_module() without flags: Debian's signature then fails
# (EKEYREJECTED), the throwaway key stays unknown (ENOKEY: loads, F O E). check-trailer-enforce.sh has forced loads under
# module.sig_enforce=1. Runner: check-trailer.sh.
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/check-trailer.sh"
check_b_cases="f-vermagic f-layout f-tree-ifb f-flip f-ownkey f-tree-ifbz f-ownkeyz"
