# check-sig.sh's cases with module.sig_enforce=1 (the throwaway key's module is now refused:
# "Loading of module with unavailable key is rejected"), in the boot of check-cmdline.sh (same
# command line; its module_blacklist does not name these modules).
lab_cmdline="module.sig_enforce=1 module_blacklist=check_prop,dummy"
# shellcheck disable=SC1091
. "$(dirname "${BASH_SOURCE[0]}")/check-sig.sh"
