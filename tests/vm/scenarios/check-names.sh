# kmx check against the real kernel on the loader's name-based taints and on a module: namespace
# import: modules named lve (taints the module P), driverloader (taints the module P before its
# symbols are resolved, so its GPL-only ktime_get is hidden: refused, "Unknown symbol"),
# ndiswrapper (taints only the kernel P and keeps its GPL-only symbol: loads), and check_modns
# importing "module:kvm" (EXPORT_SYMBOL_GPL_FOR_MODULES's namespace string since 6.16; 6.1 and
# 6.12 take it as a plain, unused import), and check_nsuse using an export of check_nsexp in the
# namespace "module:check_nsuse" without importing it: 6.16+ would admit it by its name, 6.1 and
# 6.12 refuse it as a namespace not imported (EINVAL). Runner: check-trailer.sh.
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/check-trailer.sh"
check_b_cases="lve driverloader ndiswrapper check_modns check_nsexp check_nsuse"
check_b_keep="check_nsexp"
